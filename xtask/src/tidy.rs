//! Repository rules, checked as tests so that `cargo xtask ci` enforces them.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::workspace_root;

fn metadata() -> Value {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata failed");
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

/// Names of every package `package` needs at run time (normal dependencies, transitively).
fn runtime_dependencies(metadata: &Value, package: &str) -> BTreeSet<String> {
    let packages = metadata["packages"].as_array().expect("packages");
    let name_of: HashMap<&str, &str> = packages
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let nodes: HashMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .expect("resolve nodes")
        .iter()
        .map(|node| (node["id"].as_str().unwrap(), node))
        .collect();
    let root = packages
        .iter()
        .find(|p| p["name"] == package)
        .and_then(|p| p["id"].as_str())
        .expect("package is in the workspace");

    let mut seen = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        for dep in nodes[id]["deps"].as_array().into_iter().flatten() {
            let runtime = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|kind| kind["kind"].is_null());
            let dep_id = dep["pkg"].as_str().unwrap();
            if runtime && seen.insert(name_of[dep_id].to_owned()) {
                stack.push(dep_id);
            }
        }
    }
    seen
}

/// registration-core is sans-I/O: no database, network, async runtime, filesystem helper or
/// OS randomness may reach it, even transitively.
#[test]
fn registration_core_depends_on_no_io_crate() {
    const IO_CRATES: &[&str] = &[
        "rusqlite",
        "libsqlite3-sys",
        "postgres",
        "tokio-postgres",
        "sqlx",
        "diesel",
        "tokio",
        "async-std",
        "smol",
        "mio",
        "socket2",
        "hyper",
        "axum",
        "reqwest",
        "ureq",
        "lettre",
        "tempfile",
        "getrandom",
        "rand",
        "iana-time-zone",
        "tracing-subscriber",
    ];
    let deps = runtime_dependencies(&metadata(), "registration-core");
    let offenders: Vec<&str> = IO_CRATES
        .iter()
        .copied()
        .filter(|name| deps.contains(*name))
        .collect();
    assert!(
        offenders.is_empty(),
        "registration-core must stay free of I/O, but depends on {offenders:?}"
    );
    // The check is only meaningful if the graph was read at all.
    assert!(deps.contains("time") && deps.contains("argon2"), "{deps:?}");
}

/// Every workspace crate opts into the shared lints (unsafe_code = "forbid" among them).
#[test]
fn every_crate_uses_workspace_lints() {
    let metadata = metadata();
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    for package in metadata["packages"].as_array().unwrap() {
        if !members.contains(&package["id"].as_str().unwrap()) {
            continue;
        }
        let manifest = std::fs::read_to_string(package["manifest_path"].as_str().unwrap())
            .expect("manifest is readable");
        assert!(
            manifest.contains("[lints]\nworkspace = true"),
            "{} does not use the workspace lints",
            package["name"]
        );
    }
}

/// Every `.rs` file of the workspace's crates and xtask, as paths relative to the root.
fn rust_files() -> Vec<String> {
    fn walk(dir: &std::path::Path, root: &std::path::Path, files: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("source folders are readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, root, files);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let relative = path.strip_prefix(root).expect("under the root");
                files.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let root = workspace_root();
    let mut files = Vec::new();
    for top in ["crates", "xtask/src"] {
        walk(&root.join(top), &root, &mut files);
    }
    assert!(
        files.iter().any(|file| file.ends_with("cli/src/system.rs")),
        "the walk found the sources"
    );
    files
}

/// Test code: integration tests, examples, the test kits that tests link, and these rules.
fn is_test_code(file: &str) -> bool {
    file.contains("/tests/")
        || file.contains("/examples/")
        || file.contains("/testkit")
        || file == "xtask/src/tidy.rs"
}

/// The files outside test code that contain `needle`, except the `allowed` ones.
fn non_test_files_containing(needle: &str, allowed: &[&str]) -> Vec<String> {
    let root = workspace_root();
    rust_files()
        .into_iter()
        .filter(|file| !is_test_code(file) && !allowed.contains(&file.as_str()))
        .filter(|file| {
            std::fs::read_to_string(root.join(file))
                .expect("readable")
                .contains(needle)
        })
        .collect()
}

/// The OS clock and RNG are read by named adapters only. clippy.toml forbids the calls
/// everywhere; this is the allow-list of the files that may lift the ban locally.
#[test]
fn only_named_adapters_read_the_clock_or_the_rng() {
    const ALLOWED: &[&str] = &[
        // The production Clock (with APPREG_NOW) and RandomSource.
        "crates/cli/src/system.rs",
        // Request durations for /metrics, not domain time.
        "crates/http/src/ops.rs",
        // How often a store polls the change stamp, not domain time.
        "crates/store-postgres/src/connection.rs",
        "crates/store-sqlite/src/connection.rs",
        // Benchmark timing.
        "xtask/src/bench.rs",
    ];
    let offenders = non_test_files_containing("clippy::disallowed_methods", ALLOWED);
    assert!(
        offenders.is_empty(),
        "only {ALLOWED:?} may read the OS clock or RNG; inject a Clock or RandomSource in {offenders:?}"
    );
}

/// No thread sleeps on a timer outside tests: work waits on its inputs (channels, tokio
/// timers, leases), never on a guess of how long something takes.
#[test]
fn no_thread_sleep_outside_tests() {
    // The load generator paces itself between benchmark rounds.
    let offenders = non_test_files_containing("thread::sleep", &["xtask/src/bench.rs"]);
    assert!(
        offenders.is_empty(),
        "std::thread::sleep outside tests in {offenders:?}"
    );
}

/// An embedding service renders notices without the senders: notify without its default
/// feature pulls in no SMTP, HTTP or TLS crate.
#[test]
fn notify_renders_without_the_senders() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "notify",
            "--no-default-features",
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--locked",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "cargo tree failed");
    let tree = String::from_utf8_lossy(&output.stdout);
    let crates: BTreeSet<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(crates.contains("minijinja"), "{crates:?}");
    let senders: Vec<&&str> = ["lettre", "reqwest", "rustls", "hyper", "tokio"]
        .iter()
        .filter(|name| crates.contains(**name))
        .collect();
    assert!(
        senders.is_empty(),
        "notify without `senders` depends on {senders:?}"
    );
}
