//! Crash safety: a writer process is killed with SIGKILL at varying points of a long batch
//! of writes; the file must open, pass `PRAGMA integrity_check`, and hold exactly the
//! transactions the writer saw committed (plus at most the one whose acknowledgement the
//! kill cut off), each whole.
//!
//! The test binary plays both roles: with `APPREG_CRASH_CHILD` set it is the writer.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use registration_core::testkit::audit_entry;
use registration_core::{
    AuditEntry, Disposition, DueNotice, NoticeKey, NoticeKind, NoticeOutbox, NoticeRecord,
    RegistrationStore, SiteZone,
};
use rusqlite::Connection;
use store_sqlite::SqliteStore;

use crate::registration;

const CHILD: &str = "APPREG_CRASH_CHILD";
const NOTICES_PER_BATCH: usize = 15;

fn audit() -> AuditEntry {
    audit_entry(time::macros::datetime!(2026-11-23 09:00 UTC))
}

/// The writer: registrations one transaction each, and every fifth step one transaction of
/// 15 notices over the last five registrations. Each commit is acknowledged on stdout.
fn write_until_killed(path: &Path) {
    // Each acknowledgement is in the pipe before the next transaction starts.
    let acknowledge = |line: String| {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").unwrap();
        stdout.flush().unwrap();
    };
    let store = SqliteStore::open(path).unwrap();
    let mut batch = Vec::new();
    for step in 0..100_000u64 {
        let registration = registration(&format!("Registration {step}"), step + 1);
        store.insert(&registration, &audit()).unwrap();
        acknowledge(format!(
            "committed registration {}",
            registration.client_id()
        ));
        for kind in NoticeKind::ALL {
            let expiration_date = registration.expiration_date();
            batch.push(NoticeRecord {
                notice: DueNotice {
                    key: NoticeKey {
                        registration_id: registration.id(),
                        expiration_date,
                        kind,
                    },
                    disposition: Disposition::Deliver,
                    due_at: kind.due_at(expiration_date, SiteZone::utc()),
                },
                subject: format!("notice {step} {kind}"),
                body: String::new(),
                deliveries: Vec::new(),
            });
        }
        if batch.len() == NOTICES_PER_BATCH {
            let recorded = store.record(&batch, audit().at).unwrap();
            assert_eq!(recorded, NOTICES_PER_BATCH);
            acknowledge(format!("committed batch {step}"));
            batch.clear();
        }
    }
}

enum Acknowledgement {
    Registration(String),
    Batch,
}

/// Finds an acknowledgement anywhere in a line: libtest prints `test <name> ... ` without a
/// newline before the test runs, so the first one shares its line.
fn acknowledgement(line: &str) -> Option<Acknowledgement> {
    if let Some((_, client_id)) = line.split_once("committed registration ") {
        return Some(Acknowledgement::Registration(client_id.trim().to_owned()));
    }
    line.contains("committed batch ")
        .then_some(Acknowledgement::Batch)
}

#[test]
fn a_killed_writer_leaves_exactly_the_committed_rows() {
    if let Some(path) = std::env::var_os(CHILD) {
        write_until_killed(Path::new(&path));
        return;
    }
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("appreg.db");
        drop(SqliteStore::open(&path).unwrap());

        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash::a_killed_writer_leaves_exactly_the_committed_rows",
            ])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut acknowledged = BTreeSet::new();
        let mut batches = 0;
        // Kill at a different point each round.
        let kill_after = 3 + round * 7;
        let mut note = |line: &str| match acknowledgement(line) {
            Some(Acknowledgement::Registration(client_id)) => {
                acknowledged.insert(client_id);
            }
            Some(Acknowledgement::Batch) => batches += 1,
            None => {}
        };
        let mut seen = 0;
        while seen < kill_after {
            let line = lines.next().expect("the writer died on its own").unwrap();
            if matches!(
                acknowledgement(&line),
                Some(Acknowledgement::Registration(_))
            ) {
                seen += 1;
            }
            note(&line);
        }
        child.kill().unwrap(); // SIGKILL
        for line in lines.map_while(Result::ok) {
            note(&line);
        }
        child.wait().unwrap();

        // The file opens, is intact, and holds what was acknowledged.
        drop(SqliteStore::open(&path).expect("the database opens after a crash"));
        let connection = Connection::open(&path).unwrap();
        let integrity: String = connection
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(integrity, "ok", "round {round}");
        let stored: BTreeSet<String> = connection
            .prepare("SELECT client_id FROM registrations")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            acknowledged.is_subset(&stored),
            "round {round}: an acknowledged registration was lost"
        );
        assert!(
            stored.len() <= acknowledged.len() + 1,
            "round {round}: {} stored, {} acknowledged; not acknowledged: {:?}",
            stored.len(),
            acknowledged.len(),
            stored.difference(&acknowledged).collect::<Vec<_>>()
        );
        let notices: i64 = connection
            .query_row("SELECT COUNT(*) FROM notices", [], |row| row.get(0))
            .unwrap();
        let notices = usize::try_from(notices).unwrap();
        assert_eq!(
            notices % NOTICES_PER_BATCH,
            0,
            "round {round}: a batch was torn"
        );
        assert!(
            (batches..=batches + 1).contains(&(notices / NOTICES_PER_BATCH)),
            "round {round}: {notices} notices after {batches} acknowledged batches"
        );
    }
}
