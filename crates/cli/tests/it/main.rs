//! End-to-end tests of the `appreg` binary against temporary SQLite files, and against
//! fresh PostgreSQL databases where several nodes share one (`nodes.rs`).

#![allow(clippy::unwrap_used)]

mod calendar;
mod console;
mod console_overview;
mod console_rotation;
mod errors;
mod nodes;
mod notifications;
mod output;
mod overview;
mod registrations;
mod rotation;
mod serve;
mod sweep;

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use store_postgres::testkit::FreshDatabase;
use tempfile::TempDir;

/// One isolated database and a way to run the binary against it.
pub(crate) struct Appreg {
    database: Database,
}

enum Database {
    Sqlite(TempDir),
    Postgres(FreshDatabase),
}

impl Appreg {
    /// A SQLite file in a temporary directory (the default store).
    pub(crate) fn new() -> Self {
        Self {
            database: Database::Sqlite(tempfile::tempdir().unwrap()),
        }
    }

    /// A fresh PostgreSQL database (`--database-url`).
    pub(crate) fn on_postgres() -> Self {
        Self {
            database: Database::Postgres(FreshDatabase::create()),
        }
    }

    /// The SQLite file.
    pub(crate) fn db(&self) -> PathBuf {
        match &self.database {
            Database::Sqlite(dir) => dir.path().join("appreg.db"),
            Database::Postgres(_) => panic!("this test's database is PostgreSQL"),
        }
    }

    /// The PostgreSQL database.
    pub(crate) fn postgres(&self) -> &FreshDatabase {
        match &self.database {
            Database::Postgres(database) => database,
            Database::Sqlite(_) => panic!("this test's database is SQLite"),
        }
    }

    /// The command with `--db` or `--database-url` set and `APPREG_NOW` set to `now` (or
    /// removed).
    pub(crate) fn command(&self, now: Option<&str>, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_appreg"));
        match &self.database {
            Database::Sqlite(_) => command.arg("--db").arg(self.db()),
            Database::Postgres(database) => command.arg("--database-url").arg(database.url()),
        };
        command.args(args);
        command
            .env_remove("APPREG_DB")
            .env_remove("APPREG_DATABASE_URL");
        // The audit log names the OS user: the same one on every machine.
        command.env("USER", "ops").env_remove("LOGNAME");
        match now {
            Some(now) => command.env("APPREG_NOW", now),
            None => command.env_remove("APPREG_NOW"),
        };
        command
    }

    pub(crate) fn run(&self, now: Option<&str>, args: &[&str]) -> Output {
        self.command(now, args).output().unwrap()
    }

    /// Runs a command that must succeed and returns its stdout.
    pub(crate) fn ok(&self, now: Option<&str>, args: &[&str]) -> String {
        let output = self.run(now, args);
        assert!(
            output.status.success(),
            "appreg {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs a command that must fail with exit code 1 and one line on stderr, nothing on
    /// stdout; returns that line.
    pub(crate) fn fails(&self, now: Option<&str>, args: &[&str]) -> String {
        let output = self.run(now, args);
        assert_eq!(output.status.code(), Some(1), "appreg {args:?} should fail");
        assert!(output.stdout.is_empty(), "nothing on stdout for {args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|line| !line.starts_with("appreg: APPREG_NOW is set"))
            .collect();
        assert_eq!(lines.len(), 1, "one error line for {args:?}: {stderr}");
        assert!(lines[0].starts_with("appreg: error: "), "{stderr}");
        lines[0].trim_start_matches("appreg: error: ").to_owned()
    }

    /// Runs a command with `--json` that must succeed and parses its output.
    pub(crate) fn json(&self, now: Option<&str>, args: &[&str]) -> Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        serde_json::from_str(&self.ok(now, &with_json)).unwrap()
    }

    /// Creates a registration at `now` and returns (Client ID, Client secret).
    pub(crate) fn create(
        &self,
        now: &str,
        site: &str,
        name: &str,
        expires: &str,
    ) -> (String, String) {
        let created = self.json(
            Some(now),
            &[
                "reg",
                "create",
                "--site",
                site,
                "--name",
                name,
                "--expires",
                expires,
            ],
        );
        (
            created["client_id"].as_str().unwrap().to_owned(),
            created["client_secret"].as_str().unwrap().to_owned(),
        )
    }
}

pub(crate) const CREATED_AT: &str = "2026-11-23T09:00:00Z";

/// A blocking HTTP client (reqwest is built without a default TLS provider).
pub(crate) fn http_client() -> reqwest::blocking::Client {
    notify::install_tls_provider();
    reqwest::blocking::Client::new()
}

/// The same, not following redirects (to see the console's 303s).
pub(crate) fn http_client_without_redirects() -> reqwest::blocking::Client {
    notify::install_tls_provider();
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
