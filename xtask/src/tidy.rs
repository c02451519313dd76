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
