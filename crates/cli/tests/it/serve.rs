//! `appreg serve` as an operator runs it: a real process, stopped with SIGTERM, whose log
//! output never contains a secret or a token.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::{Appreg, CREATED_AT};

pub(crate) struct Running {
    child: Child,
    pub(crate) base: String,
    log: mpsc::Receiver<String>,
    /// What the server printed on stdout (the bootstrap administrator's password).
    terminal: Option<std::thread::JoinHandle<String>>,
}

/// Starts `appreg serve` on a free port with debug logging and waits until it listens.
fn start(appreg: &Appreg) -> Running {
    start_at(appreg, CREATED_AT)
}

/// The same with `APPREG_NOW` set to `now`.
fn start_at(appreg: &Appreg, now: &str) -> Running {
    start_with(appreg, now, &[])
}

/// The same with more `serve` options.
pub(crate) fn start_with(appreg: &Appreg, now: &str, options: &[&str]) -> Running {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(options);
    let mut child = appreg
        .command(Some(now), &args)
        .env("APPREG_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (sender, log) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let terminal = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let base = loop {
        let line = log
            .recv_timeout(Duration::from_secs(30))
            .expect("the server starts");
        if let Some(rest) = line.strip_prefix("appreg: listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    Running {
        child,
        base,
        log,
        terminal: Some(terminal),
    }
}

/// A test that fails half-way leaves no server running behind it.
impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Running {
    /// Waits until the server logs a line containing `text`; returns that line.
    pub(crate) fn wait_for_log(&self, text: &str) -> String {
        loop {
            let line = self
                .log
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("the server logs {text:?} within 30 s"));
            if line.contains(text) {
                return line;
            }
        }
    }

    /// Kills the server with SIGKILL, as a crash or an OOM killer would.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM, waits for a clean exit, and returns (stdout, everything logged).
    pub(crate) fn stop(mut self) -> (String, String) {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(
            exit.success(),
            "the server exits cleanly on SIGTERM: {exit}"
        );
        let log = self.log.iter().collect::<Vec<_>>().join("\n");
        let terminal = self.terminal.take().unwrap().join().unwrap();
        (terminal, log)
    }
}

#[test]
fn serve_issues_tokens_stops_on_sigterm_and_never_logs_secrets() {
    let appreg = Appreg::new();
    let (client_id, secret) = appreg.create(CREATED_AT, "default", "Billing sync", "2027-01-31");
    let (other_id, other_secret) = appreg.create(CREATED_AT, "default", "Ledger", "2027-01-31");
    let server = start(&appreg);
    let http = crate::http_client();
    let token_url = format!("{}/sites/default/oauth2/token", server.base);

    let issued: Value = http
        .post(&token_url)
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = issued["access_token"].as_str().unwrap().to_owned();
    let posted: Value = http
        .post(&token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &other_id),
            ("client_secret", &other_secret),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let other_token = posted["access_token"].as_str().unwrap().to_owned();
    let refused = http
        .post(&token_url)
        .basic_auth(&client_id, Some(&other_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(refused.status(), 401);
    let introspected: Value = http
        .post(format!("{}/sites/default/oauth2/introspect", server.base))
        .basic_auth(&other_id, Some(&other_secret))
        .form(&[("token", &token)])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(introspected["active"], true);

    let (terminal, log) = server.stop();
    let password = terminal
        .lines()
        .find_map(|line| line.trim().strip_prefix("password"))
        .expect("the bootstrap administrator's password is shown")
        .trim()
        .to_owned();
    assert_eq!(password.len(), 24);
    assert!(log.contains("listening"), "{log}");
    assert!(
        log.contains("/sites/default/oauth2/token"),
        "requests are logged: {log}"
    );
    assert!(log.contains("stopped"), "{log}");
    for (what, value) in [
        ("first secret", secret.as_str()),
        ("second secret", other_secret.as_str()),
        ("first secret's random part", &secret[7..50]),
        ("second secret's random part", &other_secret[7..50]),
        ("first token", token.as_str()),
        ("second token", other_token.as_str()),
        ("first token's signature", token.rsplit('.').next().unwrap()),
        ("bootstrap password", password.as_str()),
    ] {
        assert!(!log.contains(value), "the log contains the {what}");
    }

    // Graceful shutdown wrote the coalesced Last used.
    let shown = appreg.json(
        Some(CREATED_AT),
        &["reg", "show", "--site", "default", &client_id],
    );
    assert!(shown["last_used"].is_string(), "{shown}");
}

#[test]
fn keys_rotate_keeps_the_previous_key_published() {
    let appreg = Appreg::new();
    let first = appreg.json(None, &["keys", "rotate"]);
    let second = appreg.json(None, &["keys", "rotate"]);
    assert_eq!(second["kept"].as_array().unwrap().len(), 2);
    assert_eq!(second["kept"][1], first["current"]);
    assert_ne!(second["current"], first["current"]);
}

#[test]
fn appreg_now_past_the_expiration_date_refuses_tokens_and_counts_the_calls() {
    let appreg = Appreg::new();
    let (client_id, secret) = appreg.create(CREATED_AT, "default", "Billing sync", "2026-11-30");
    let request = |server: &Running| {
        crate::http_client()
            .post(format!("{}/sites/default/oauth2/token", server.base))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap()
    };
    let last_valid_day = start_at(&appreg, "2026-11-30T23:59:00Z");
    assert_eq!(request(&last_valid_day).status(), 200);
    last_valid_day.stop();

    let expired = start_at(&appreg, "2026-12-01T00:00:00Z");
    let refused = request(&expired);
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.text().unwrap(),
        r#"{"error":"invalid_client","error_description":"client authentication failed"}"#
    );
    request(&expired);
    expired.stop();
    let shown = appreg.json(
        Some("2026-12-01T00:00:00Z"),
        &["reg", "show", "--site", "default", &client_id],
    );
    assert_eq!(shown["state"], "expired");
    assert_eq!(
        shown["rejected_since_expiry"], 2,
        "refused calls are counted: {shown}"
    );
    assert!(
        shown["last_used"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-30T23:59"),
        "{shown}"
    );
}
