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

    /// Closes every connection to it from the server's side, as a restart would.
    pub fn cut_connections(&self) {
        server_client()
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&self.name],
            )
            .expect("connections can be cut");
    }

    /// Lets the server accept new connections to it, or refuse them (an outage).
    pub fn allow_connections(&self, allowed: bool) {
        server_client()
            .batch_execute(&format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS {allowed}",
                self.name
            ))
            .expect("the database can be opened or closed");
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
