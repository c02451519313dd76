//! `appreg`: the operator's command line. Glue only: arguments → adapters → the domain's
//! `RegistrationService` → rendered output. Errors print one line to stderr and exit 1.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod commands;
mod delivery;
mod render;
mod serve;
mod system;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use registration_core::{Actor, RegistrationService, SecretHasher, Store};
use store_postgres::PostgresStore;
use store_sqlite::SqliteStore;

use crate::args::{Cli, Command, DbCommand};
use crate::system::{OsRandom, SystemClock};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(output) => {
            // Output that ends its own lines (CSV's CRLF) gets no extra one.
            if output.ends_with('\n') {
                print!("{output}");
            } else if !output.is_empty() {
                println!("{output}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            // `{:#}` puts the whole context chain on one line.
            eprintln!("appreg: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<String> {
    let clock = SystemClock::from_env()?;
    if clock.shifted {
        eprintln!(
            "appreg: APPREG_NOW is set: the clock starts at {} and advances in real time",
            clock.start_text()
        );
    }
    let clock = Arc::new(clock);
    // Copying moves between two stores named in its arguments: it opens no other.
    if let Command::Db(DbCommand::Copy { from, to }) = &cli.command {
        return copy_database(from, to, cli.json);
    }
    let store = open_store(&cli)?;
    let public_url = match &cli.command {
        Command::Serve {
            public_url: Some(url),
            ..
        } => url.clone(),
        Command::Serve { listen, .. } => format!("http://{listen}"),
        _ => std::env::var("APPREG_PUBLIC_URL").unwrap_or_else(|_| DEFAULT_PUBLIC_URL.into()),
    };
    let service = RegistrationService::new(
        store,
        clock,
        Arc::new(OsRandom),
        SecretHasher::recommended()?,
        Arc::new(notify::SandboxedRenderer::default()),
        &public_url,
    );
    match cli.command {
        Command::Serve {
            listen,
            public_url,
            trusted_proxies,
            delivery,
        } => {
            let notifier = delivery::notifier(&delivery)?;
            let network = serve::Network {
                listen,
                public_url,
                trusted_proxies,
            };
            serve::serve(Arc::new(service), network, notifier)?;
            Ok(String::new())
        }
        Command::Sweep { delivery } => {
            let notifier = delivery::notifier(&delivery)?;
            delivery::sweep(&service, &notifier, cli.json)
        }
        command => commands::execute(&service, command, cli.json, &actor()),
    }
}

/// The PostgreSQL database when `--database-url` is given, else the SQLite file.
fn open_store(cli: &Cli) -> Result<Arc<dyn Store>> {
    match &cli.database_url {
        Some(url) => Ok(Arc::new(connect_postgres(url)?)),
        None => Ok(Arc::new(open_sqlite(&cli.db)?)),
    }
}

fn open_sqlite(path: &std::path::Path) -> Result<SqliteStore> {
    SqliteStore::open(path).with_context(|| format!("cannot use the database {}", path.display()))
}

fn connect_postgres(url: &str) -> Result<PostgresStore> {
    // The URL may hold a password: the error names the database by what the store says.
    PostgresStore::connect(url).context("cannot use the PostgreSQL database")
}

/// `appreg db copy`: the SQLite file's rows into an empty PostgreSQL database, verified.
fn copy_database(from: &std::path::Path, to: &str, json: bool) -> Result<String> {
    // Opening a missing file would create an empty database and copy nothing.
    if !from.is_file() {
        anyhow::bail!("cannot copy {}: no such file", from.display());
    }
    let source = open_sqlite(from)?;
    let target = connect_postgres(to)?;
    let counts = source
        .export(|rows| target.import(rows))
        .with_context(|| format!("cannot copy {}", from.display()))?;
    Ok(render::copied(from, &counts, json))
}

/// Where notices link to when neither `serve --public-url` nor `APPREG_PUBLIC_URL` says.
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// Who the audit log names for changes made from this terminal.
fn actor() -> Actor {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    Actor::Cli(user)
}
