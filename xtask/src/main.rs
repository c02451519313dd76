//! `cargo xtask <task>`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `bench`: the benchmarks, written to docs/BENCHMARKS.md; `bench grid`, `bench sweep`,
//!   `bench tokens` and `bench overview` run only one part and print it (for iterating on it).
//! - `fuzz [SECONDS]`: the parser fuzz targets, each for SECONDS (default 60).
//! - `ci`: formatting, clippy with warnings denied, rustdoc with warnings denied, every test, schemathesis against the
//!   admin API's OpenAPI document, and cargo-deny (bans, licenses, sources). If it passes,
//!   CI passes.

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

mod bench;
#[cfg(test)]
mod tidy;

fn main() -> Result<()> {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some("ci") => ci(),
        Some("fuzz") => fuzz(std::env::args().nth(2)),
        Some("bench") => match std::env::args().nth(2).as_deref() {
            None => bench::run(),
            Some("grid") => bench::grid_only(),
            Some("sweep") => bench::sweep_only(),
            Some("tokens") => bench::tokens_only(),
            Some("overview") => bench::overview_only(),
            Some(other) => {
                bail!(
                    "unknown benchmark {other:?}: use `bench`, `bench grid`, `bench sweep`, `bench tokens` or `bench overview`"
                )
            }
        },
        _ => {
            eprintln!(
                "usage: cargo xtask ci | cargo xtask fuzz [SECONDS] | cargo xtask bench [grid|sweep|tokens|overview]"
            );
            std::process::exit(2);
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn ci() -> Result<()> {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    // Embedders render notices without the senders: that build must stay warning-free.
    cargo(&[
        "clippy",
        "-p",
        "notify",
        "--no-default-features",
        "--lib",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    // The API docs are part of the product for embedders: broken links fail the build.
    cargo_with(
        &["doc", "--workspace", "--no-deps", "--locked"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    ensure_chromium()?;
    cargo(&["test", "--workspace", "--locked"])?;
    schemathesis()?;
    ensure_cargo_deny()?;
    // Advisories need a database download this machine cannot make (see README).
    cargo(&["deny", "--locked", "check", "bans", "licenses", "sources"])?;
    eprintln!("xtask ci: all checks passed");
    Ok(())
}

fn cargo(args: &[&str]) -> Result<()> {
    cargo_with(args, &[])
}

/// `cargo args` with `env` added to the environment.
fn cargo_with(args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    eprintln!("xtask ci: cargo {}", args.join(" "));
    let status = Command::new(env!("CARGO"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("could not start cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Feeds the parsers arbitrary input for a bounded time (default 60 s per target).
fn fuzz(seconds: Option<String>) -> Result<()> {
    let seconds = seconds.unwrap_or_else(|| "60".into());
    let _: u64 = seconds.parse().context("fuzz takes a number of seconds")?;
    eprintln!("xtask fuzz: {seconds} s per target");
    let status = Command::new(env!("CARGO"))
        .args([
            "test",
            "--release",
            "--locked",
            "-p",
            "registration-http",
            "--test",
            "it",
        ])
        .args(["fuzz::", "--", "--nocapture", "--test-threads=1"])
        .env("APPREG_FUZZ_SECONDS", &seconds)
        .current_dir(workspace_root())
        .status()?;
    if !status.success() {
        bail!("fuzzing found a failure ({status})");
    }
    Ok(())
}

/// Runs schemathesis (from PyPI) against a real `appreg serve` on a scratch database.
fn schemathesis() -> Result<()> {
    let installed = Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !installed {
        eprintln!("xtask ci: schemathesis is missing; installing it from PyPI");
        let status = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "schemathesis"])
            .status()
            .context("python3 with pip is needed to install schemathesis")?;
        if !status.success() {
            bail!("pip install schemathesis failed ({status})");
        }
    }
    let root = workspace_root();
    // `cargo test --workspace` has just built it for the CLI's end-to-end tests; a separate
    // `cargo build -p appreg` would resolve features differently and rebuild half the tree.
    let appreg = root.join("target/debug/appreg");
    if !appreg.exists() {
        cargo(&["build", "--locked", "--package", "appreg"])?;
    }
    let scratch = std::env::temp_dir().join(format!("appreg-schemathesis-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let db = scratch.join("appreg.db");
    let run_appreg = |args: &[&str]| -> Result<String> {
        let output = Command::new(&appreg)
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()?;
        if !output.status.success() {
            bail!(
                "appreg {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8(output.stdout)?)
    };
    run_appreg(&["admin", "add", "schemathesis", "--site", "default"])?;
    let token: serde_json::Value =
        serde_json::from_str(&run_appreg(&["--json", "admin", "token", "schemathesis"])?)?;
    let token = token["token"]
        .as_str()
        .context("admin token in JSON")?
        .to_owned();

    let mut server = Command::new(&appreg)
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("APPREG_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let stderr = server.stderr.take().context("server stderr")?;
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let base = loop {
        let line = lines
            .next()
            .context("appreg serve exited before listening")??;
        if let Some(rest) = line.strip_prefix("appreg: listening on ") {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
    };
    let log = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    eprintln!("xtask ci: schemathesis against {base}/api/v1/openapi.json");
    let status = Command::new("schemathesis")
        .arg("--config-file")
        .arg(root.join("schemathesis.toml"))
        .args([
            "run",
            &format!("{base}/api/v1/openapi.json"),
            "--max-examples",
            "100",
        ])
        .env("APPREG_API_TOKEN", &token)
        .status();
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let log = log.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&scratch);
    if let Some(panic) = log.iter().find(|line| line.contains("panicked")) {
        bail!("appreg serve panicked during schemathesis: {panic}");
    }
    let status = status.context("could not run schemathesis")?;
    if !status.success() {
        bail!("schemathesis found failures ({status})");
    }
    Ok(())
}

/// The console's browser tests drive Debian's Chromium through chromedriver.
fn ensure_chromium() -> Result<()> {
    let present = |path: &str| Path::new(path).exists();
    if present("/usr/bin/chromedriver") && present("/usr/bin/chromium") {
        return Ok(());
    }
    eprintln!("xtask ci: chromium and chromium-driver are missing; installing them with apt-get");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0"));
    let apt_get = |args: &[&str]| {
        let mut command = Command::new(if root { "apt-get" } else { "sudo" });
        if !root {
            command.arg("apt-get");
        }
        command
            .args(args)
            .status()
            .context("apt-get is needed to install chromium and chromium-driver")
    };
    apt_get(&["update", "-qq"])?;
    let status = apt_get(&["install", "-y", "-qq", "chromium", "chromium-driver"])?;
    if !status.success() || !present("/usr/bin/chromedriver") {
        bail!(
            "could not install chromium and chromium-driver ({status}); the browser tests need them"
        );
    }
    Ok(())
}

fn ensure_cargo_deny() -> Result<()> {
    let installed = Command::new(env!("CARGO"))
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !installed {
        eprintln!("xtask ci: cargo-deny is missing; installing it from crates.io");
        cargo(&["install", "--locked", "cargo-deny"])?;
    }
    Ok(())
}
