//! Test support (feature `testkit`): a fresh database of its own per test, on the server
//! `APPREG_TEST_POSTGRES` names (default: the local one, trust auth).

#![allow(clippy::missing_panics_doc)]

/// A database of its own for one test, dropped (connections and all) when it goes out of
/// scope. Panics with a clear message when PostgreSQL is not running.
#[derive(Debug)]
pub struct FreshDatabase {
    name: String,
}

/// The server tests use, without a database name.
pub fn test_server() -> String {
    std::env::var("APPREG_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A plain client on the server's `postgres` database, for creating and dropping databases.
pub fn server_client() -> postgres::Client {
    postgres::Client::connect(&format!("{}/postgres", test_server()), postgres::NoTls)
        .expect("PostgreSQL must run for these tests (.ci/run starts it)")
}

impl FreshDatabase {
    /// Creates an empty database with a random name.
    pub fn create() -> Self {
        let mut random = [0u8; 8];
        #[allow(clippy::disallowed_methods)] // a name no other test or run uses
        getrandom::fill(&mut random).expect("the OS random generator works");
        let name = format!(
            "appreg_test_{}",
            random
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        server_client()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("a test database can be created");
        Self { name }
    }

    /// Its URL (`postgres://…/appreg_test_…`).
    pub fn url(&self) -> String {
        format!("{}/{}", test_server(), self.name)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A plain client on it, to look or change things behind the store's back.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url(), postgres::NoTls).expect("the test database is up")
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let _ = server_client().batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}
