//! `cargo xtask bench`: release builds, one run: the token endpoint against a bare one, the
//! sweep over a million registrations, the console grid over 100,000, and the expiry
//! overview and calendar feed over 100,000 in ten sites (`bench/overview.rs`); written to
//! docs/BENCHMARKS.md.
//!
//! The load generator speaks HTTP/1.1 over plain keep-alive sockets so its own cost stays
//! small and equal across scenarios; it runs on the same 2-core machine as the server, so
//! absolute numbers are conservative and the ratios are what to compare.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine;

use store_postgres::testkit::FreshDatabase;

use crate::{cargo, workspace_root};

mod overview;

/// Where a scenario's data lives: the embedded default or a fresh PostgreSQL database
/// (created on the local server and dropped afterwards).
enum Database {
    Sqlite(PathBuf),
    Postgres(FreshDatabase),
}

impl Database {
    /// The options that select it.
    fn args(&self) -> Vec<String> {
        match self {
            Database::Sqlite(path) => vec!["--db".into(), path.display().to_string()],
            Database::Postgres(database) => vec!["--database-url".into(), database.url()],
        }
    }
}

const CONNECTIONS: usize = 4;
const SCENARIO_TIME: Duration = Duration::from_secs(5);
const FIRST_TIME_CLIENTS: usize = 64;

struct Stats {
    requests: usize,
    elapsed: Duration,
    latencies_micros: Vec<u64>,
    /// CPU time the server process spent during the scenario.
    server_cpu: Duration,
}

impl Stats {
    fn server_cpu_micros_per_request(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1e6 / self.requests.max(1) as f64
    }

    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at `per_mille` (500 = median), in milliseconds.
    fn percentile(&self, per_mille: usize) -> f64 {
        let mut sorted = self.latencies_micros.clone();
        sorted.sort_unstable();
        let index = sorted.len().saturating_sub(1) * per_mille / 1000;
        sorted.get(index).copied().unwrap_or_default() as f64 / 1000.0
    }
}

/// One keep-alive connection: sends `request`, reads one response, checks the status.
struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(address: &str) -> Result<Self> {
        let stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        Ok(Self {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn exchange(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>)> {
        self.exchange_with_headers(request)
            .map(|(status, _, body)| (status, body))
    }

    /// The response's status, header lines and body.
    fn exchange_with_headers(&mut self, request: &[u8]) -> Result<(u16, Vec<String>, Vec<u8>)> {
        self.writer.write_all(request)?;
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line)?;
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .context("malformed status line")?
            .parse()?;
        let mut length = 0usize;
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
            headers.push(line.trim_end().to_owned());
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, headers, body))
    }
}

/// Joins the load threads and puts their latencies together.
fn gather(
    started: Instant,
    threads: Vec<std::thread::JoinHandle<Result<Vec<u64>>>>,
) -> Result<Stats> {
    let mut latencies_micros = Vec::new();
    for thread in threads {
        latencies_micros.extend(
            thread
                .join()
                .map_err(|_| anyhow::anyhow!("load thread panicked"))??,
        );
    }
    Ok(Stats {
        requests: latencies_micros.len(),
        elapsed: started.elapsed(),
        latencies_micros,
        server_cpu: Duration::ZERO,
    })
}

/// `CONNECTIONS` threads send `request` back to back for `SCENARIO_TIME`.
fn sustained(address: &str, request: &[u8], expected_status: u16) -> Result<Stats> {
    #[allow(clippy::disallowed_methods)] // benchmark timing
    let started = Instant::now();
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (address, request) = (address.to_owned(), request.to_vec());
            std::thread::spawn(move || -> Result<Vec<u64>> {
                let mut connection = Connection::open(&address)?;
                let mut latencies = Vec::new();
                while started.elapsed() < SCENARIO_TIME {
                    #[allow(clippy::disallowed_methods)] // benchmark timing
                    let sent = Instant::now();
                    let (status, _) = connection.exchange(&request)?;
                    if status != expected_status {
                        bail!("expected {expected_status}, got {status}");
                    }
                    latencies.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                }
                Ok(latencies)
            })
        })
        .collect();
    gather(started, threads)
}

fn token_request(address: &str, client_id: &str, secret: &str) -> Vec<u8> {
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    let body = "grant_type=client_credentials";
    format!(
        "POST /sites/default/oauth2/token HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Basic {credentials}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Every client's first token request (a real argon2id verification each), spread over
/// `CONNECTIONS` threads.
fn first_time(address: &str, clients: &[(String, String)]) -> Result<Stats> {
    #[allow(clippy::disallowed_methods)] // benchmark timing
    let started = Instant::now();
    let threads: Vec<_> = clients
        .chunks(clients.len().div_ceil(CONNECTIONS))
        .map(|chunk| {
            let (address, chunk) = (address.to_owned(), chunk.to_vec());
            std::thread::spawn(move || -> Result<Vec<u64>> {
                let mut connection = Connection::open(&address)?;
                let mut latencies = Vec::new();
                for (client_id, secret) in &chunk {
                    #[allow(clippy::disallowed_methods)] // benchmark timing
                    let sent = Instant::now();
                    let (status, _) =
                        connection.exchange(&token_request(&address, client_id, secret))?;
                    if status != 200 {
                        bail!("first-time token request answered {status}");
                    }
                    latencies.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                }
                Ok(latencies)
            })
        })
        .collect();
    gather(started, threads)
}

fn appreg(binary: &Path, db: &Database, args: &[&str]) -> Result<serde_json::Value> {
    let output = Command::new(binary)
        .args(db.args())
        .arg("--json")
        .args(args)
        .output()?;
    if !output.status.success() {
        bail!(
            "appreg {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(binary: &Path, db: &Database) -> Result<Self> {
        let mut child = Command::new(binary)
            .args(db.args())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("APPREG_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
        let address = loop {
            let line = lines.next().context("appreg serve exited")??;
            if let Some(rest) = line.strip_prefix("appreg: listening on http://") {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, address })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn row(name: &str, stats: &Stats) -> String {
    format!(
        "| {name} | {:.0} | {:.2} | {:.2} | {:.0} | {} |",
        stats.per_second(),
        stats.percentile(500),
        stats.percentile(990),
        stats.server_cpu_micros_per_request(),
        stats.requests
    )
}

/// User + system CPU time of process `pid` so far, from /proc.
fn cpu_time(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("malformed /proc stat")?
        .1
        .split_whitespace()
        .collect();
    // Fields 14 and 15 of proc(5), counted after the command name.
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    let per_second: u64 =
        String::from_utf8(Command::new("getconf").arg("CLK_TCK").output()?.stdout)?
            .trim()
            .parse()?;
    Ok(Duration::from_micros(ticks * 1_000_000 / per_second))
}

/// Runs `scenario` and records the server's CPU time spent meanwhile.
fn measured(pid: u32, scenario: impl FnOnce() -> Result<Stats>) -> Result<Stats> {
    let before = cpu_time(pid)?;
    let mut stats = scenario()?;
    stats.server_cpu = cpu_time(pid)?.saturating_sub(before);
    Ok(stats)
}

/// A million registrations, expiration dates spread over three years around today.
const SWEEP_REGISTRATIONS: u64 = 1_000_000;

struct SweepRun {
    seconds: f64,
    peak_kib: u64,
    report: serde_json::Value,
}

/// Peak resident memory of a process so far (VmHWM), in KiB.
fn peak_memory_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Runs `appreg sweep` at `now`, timing it and sampling its peak memory until it exits.
fn timed_sweep(binary: &Path, db: &Database, now: &str) -> Result<SweepRun> {
    #[allow(clippy::disallowed_methods)] // benchmark timing
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(db.args())
        .args(["--json", "sweep"])
        .env("APPREG_NOW", now)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let pid = child.id();
    let mut peak_kib = 0;
    while child.try_wait()?.is_none() {
        peak_kib = peak_kib.max(peak_memory_kib(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(5));
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut output = String::new();
    child
        .stdout
        .take()
        .context("stdout")?
        .read_to_string(&mut output)?;
    Ok(SweepRun {
        seconds,
        peak_kib,
        report: serde_json::from_str(&output).context("sweep report")?,
    })
}

/// Fills `db` with `count` registrations of site `default` in one transaction, reusing one
/// real argon2id hash (neither the sweep nor the grid looks at it), with expiration dates
/// spread over three years from `first_day` days after `today`.
fn bulk_load(
    binary: &Path,
    db: &Database,
    today: time::Date,
    count: u64,
    first_day: i64,
) -> Result<()> {
    bulk_load_into(binary, db, "default", today, 0..count, first_day)
}

/// Loads registrations numbered `numbers` into `site` straight into the database (a
/// registration a minute through the CLI would take hours), all with one real secret hash;
/// expiration dates cycle through three years from `first_day` days after `today`.
fn bulk_load_into(
    binary: &Path,
    db: &Database,
    site: &str,
    today: time::Date,
    numbers: std::ops::Range<u64>,
    first_day: i64,
) -> Result<()> {
    let plus_days = |days: i64| (today + time::Duration::days(days)).to_string();
    let created = appreg(
        binary,
        db,
        &[
            "reg",
            "create",
            "--site",
            site,
            "--name",
            &format!("Seed {}", numbers.start),
            "--expires",
            &plus_days(400),
        ],
    )?;
    let seed = created["client_id"]
        .as_str()
        .context("client_id")?
        .to_owned();
    const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let rows = numbers.map(|i| {
        // The counter in base32: unique and of the Client ID format.
        let client_id: String = (0..20u64)
            .map(|digit| {
                let value = if digit < 12 {
                    (i >> (5 * digit)) & 31
                } else {
                    0
                };
                char::from(BASE32[usize::try_from(value).unwrap_or_default()])
            })
            .collect();
        let id = format!("00000000-0000-4000-8000-{i:012}");
        let name = format!("Registration {i:07}");
        let date = plus_days(i64::try_from(i % 1095).unwrap_or_default() + first_day);
        (id, client_id, name, date)
    });
    match db {
        Database::Sqlite(path) => {
            let mut connection = rusqlite::Connection::open(path)?;
            let transaction = connection.transaction()?;
            {
                let (hash, hint): (String, String) = transaction.query_row(
                    "SELECT secret_hash, secret_hint FROM registrations WHERE client_id = ?1",
                    [&seed],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )?;
                let mut insert = transaction.prepare(
                    "INSERT INTO registrations (id, site, client_id, name, name_key,
                        expiration_date, enabled, secret_hash, secret_hint, registration_date,
                        last_used, rejected_count, last_rejected, revision, secret_created_at)
                     VALUES (?1, ?8, ?2, ?3, ?4, ?5, 1, ?6, ?7,
                        '2026-01-01T00:00:00.000000000Z', NULL, 0, NULL, 0,
                        '2026-01-01T00:00:00.000000000Z')",
                )?;
                for (id, client_id, name, date) in rows {
                    insert.execute(rusqlite::params![
                        id,
                        client_id,
                        name,
                        name.to_lowercase(),
                        date,
                        hash,
                        hint,
                        site
                    ])?;
                }
            }
            transaction.commit()?;
        }
        Database::Postgres(database) => {
            let mut client = database.client();
            let seeded = client.query_one(
                "SELECT secret_hash, secret_hint FROM registrations WHERE client_id = $1",
                &[&seed],
            )?;
            let (hash, hint): (String, String) = (seeded.get(0), seeded.get(1));
            let mut writer = client.copy_in(
                "COPY registrations (id, site, client_id, name, name_key, expiration_date,
                    enabled, secret_hash, secret_hint, registration_date, last_used,
                    rejected_count, last_rejected, revision, secret_created_at) FROM STDIN",
            )?;
            for (id, client_id, name, date) in rows {
                writeln!(
                    writer,
                    "{id}\t{site}\t{client_id}\t{name}\t{}\t{date}\tt\t{hash}\t{hint}\t\
                     2026-01-01T00:00:00.000000000Z\t\\N\t0\t\\N\t0\t\
                     2026-01-01T00:00:00.000000000Z",
                    name.to_lowercase()
                )?;
            }
            writer.finish()?;
            // What autovacuum does soon after a bulk load: statistics and the visibility map.
            client.batch_execute("VACUUM ANALYZE registrations")?;
        }
    }
    Ok(())
}

const GRID_REGISTRATIONS: u64 = 100_000;
const GRID_REQUESTS: usize = 300;

/// Signs in to the console over `connection` and returns the session cookie.
fn console_session(connection: &mut Connection, address: &str, password: &str) -> Result<String> {
    let cookie = |headers: &[String], name: &str| -> Result<String> {
        headers
            .iter()
            .filter_map(|h| h.split_once(':'))
            .filter(|(key, _)| key.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, value)| value.trim())
            .find(|value| value.starts_with(name))
            .and_then(|value| value.split(';').next())
            .map(str::to_owned)
            .with_context(|| format!("no {name} cookie"))
    };
    let (_, headers, _) = connection.exchange_with_headers(
        format!("GET /login HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes(),
    )?;
    let login = cookie(&headers, "appreg_login=")?;
    let csrf = login.trim_start_matches("appreg_login=");
    let body = format!("username=bench&password={password}&csrf={csrf}");
    let (status, headers, _) = connection.exchange_with_headers(
        format!(
            "POST /login HTTP/1.1\r\nHost: {address}\r\nCookie: {login}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )?;
    if status != 303 {
        bail!("console sign-in answered {status}");
    }
    cookie(&headers, "appreg_session=")
}

/// `GRID_REQUESTS` requests one after another on one connection, each answered 200.
fn sequential(address: &str, request: &[u8]) -> Result<Stats> {
    sequential_expecting(address, request, 200)
}

/// `GRID_REQUESTS` requests one after another on one connection, each answered `expected`.
fn sequential_expecting(address: &str, request: &[u8], expected: u16) -> Result<Stats> {
    #[allow(clippy::disallowed_methods)] // benchmark timing
    let started = Instant::now();
    let mut connection = Connection::open(address)?;
    let mut latencies_micros = Vec::new();
    for _ in 0..GRID_REQUESTS {
        #[allow(clippy::disallowed_methods)] // benchmark timing
        let sent = Instant::now();
        let (status, _) = connection.exchange(request)?;
        if status != expected {
            bail!("expected {expected}, got {status}");
        }
        latencies_micros.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
    }
    Ok(Stats {
        requests: latencies_micros.len(),
        elapsed: started.elapsed(),
        latencies_micros,
        server_cpu: Duration::ZERO,
    })
}

/// The grid page in its heavy variants over `GRID_REGISTRATIONS` registrations.
fn grid_pages(
    binary: &Path,
    db: &Database,
    today: time::Date,
) -> Result<Vec<(&'static str, Stats)>> {
    // All in the future beyond 30 days: no banners, the grid alone is measured.
    bulk_load(binary, db, today, GRID_REGISTRATIONS, 40)?;
    let admin = appreg(binary, db, &["admin", "add", "bench", "--site", "default"])?;
    let password = admin["password"].as_str().context("password")?.to_owned();
    let server = Server::start(binary, db)?;
    let address = server.address.clone();
    let session = console_session(&mut Connection::open(&address)?, &address, &password)?;
    let pid = server.child.id();
    let mut results = Vec::new();
    for (name, query) in [
        ("first page by name", ""),
        ("page 1000 by name", "?page=1000"),
        (
            "by expiration date, descending",
            "?sort=expiration_date&dir=desc",
        ),
        ("page 500 by last used", "?sort=last_used&page=500"),
        ("search, 100 matches", "?q=registration+0042"),
        ("search matching every registration", "?q=registration"),
        (
            "search, by expiration date",
            "?q=registration+004&sort=expiration_date",
        ),
        ("state filter: expired (none match)", "?state=expired"),
        (
            "state filter: disabled, by last used",
            "?state=disabled&sort=last_used",
        ),
    ] {
        let request = format!(
            "GET /sites/default/app-registrations{query} HTTP/1.1\r\nHost: {address}\r\n\
             Cookie: {session}\r\n\r\n"
        )
        .into_bytes();
        results.push((name, measured(pid, || sequential(&address, &request))?));
    }
    Ok(results)
}

/// The day the loaded data is laid out around (expiration dates relative to it).
const TODAY: time::Date = time::macros::date!(2026 - 11 - 23);

/// Builds the release binary and makes a scratch folder; returns (binary, scratch).
fn prepare() -> Result<(PathBuf, PathBuf)> {
    cargo(&["build", "--release", "--locked", "--package", "appreg"])?;
    let binary = workspace_root().join("target/release/appreg");
    let scratch = std::env::temp_dir().join(format!("appreg-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    Ok((binary, scratch))
}

/// A registration created through the CLI: (Client ID, Client secret).
fn create_client(binary: &Path, db: &Database, name: &str) -> Result<(String, String)> {
    let created = appreg(
        binary,
        db,
        &[
            "reg",
            "create",
            "--site",
            "default",
            "--name",
            name,
            "--expires",
            "2030-12-31",
        ],
    )?;
    let field = |key: &str| -> Result<String> {
        Ok(created[key]
            .as_str()
            .context("appreg reg create --json")?
            .to_owned())
    };
    Ok((field("client_id")?, field("client_secret")?))
}

/// The token scenarios on one server: bare endpoint, warm tokens, and first-time
/// verifications of `first_time_clients` registrations (none when 0).
struct TokenRuns {
    bare: Stats,
    tokens: Stats,
    cold: Option<Stats>,
}

fn token_scenarios(binary: &Path, db: &Database, first_time_clients: usize) -> Result<TokenRuns> {
    let (warm_id, warm_secret) = create_client(binary, db, "Warm")?;
    let clients = (0..first_time_clients)
        .map(|i| create_client(binary, db, &format!("Cold {i}")))
        .collect::<Result<Vec<_>>>()?;
    let server = Server::start(binary, db)?;
    let address = server.address.clone();
    let warm_request = token_request(&address, &warm_id, &warm_secret);
    // Warm the verified-secret cache and the connection paths.
    Connection::open(&address)?.exchange(&warm_request)?;
    let bare_request = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n").into_bytes();

    eprintln!("xtask bench: bare endpoint");
    let pid = server.child.id();
    let bare = measured(pid, || sustained(&address, &bare_request, 200))?;
    eprintln!("xtask bench: warm token endpoint");
    let tokens = measured(pid, || sustained(&address, &warm_request, 200))?;
    let cold = if clients.is_empty() {
        None
    } else {
        eprintln!("xtask bench: first-time verifications");
        Some(measured(pid, || first_time(&address, &clients))?)
    };
    Ok(TokenRuns { bare, tokens, cold })
}

/// A first (catching up) and a steady-state sweep over `SWEEP_REGISTRATIONS` registrations
/// with expiration dates from 30 days ago to three years ahead.
fn sweeps(binary: &Path, db: &Database) -> Result<(SweepRun, SweepRun)> {
    eprintln!("xtask bench: sweep over {SWEEP_REGISTRATIONS} registrations (loading them first)");
    bulk_load(binary, db, TODAY, SWEEP_REGISTRATIONS, -30)?;
    Ok((
        timed_sweep(binary, db, "2026-11-23T12:00:00Z")?,
        timed_sweep(binary, db, "2026-11-23T12:01:00Z")?,
    ))
}

/// Where a partial run keeps its data: `postgres` as the next argument picks a fresh
/// PostgreSQL database, else a SQLite file in `scratch`.
fn chosen_database(scratch: &Path, file: &str) -> Database {
    match std::env::args().nth(3).as_deref() {
        Some("postgres") => Database::Postgres(FreshDatabase::create()),
        _ => Database::Sqlite(scratch.join(file)),
    }
}

/// Server CPU for one Ed25519 signature over a token-sized message, in µs: with one bare
/// request, the floor of a warm token request.
fn signature_micros() -> f64 {
    use ed25519_dalek::Signer;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let message = vec![b'x'; 320];
    let rounds = 20_000u32;
    #[allow(clippy::disallowed_methods)] // benchmark timing
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(key.sign(std::hint::black_box(&message)));
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds)
}

/// Warm-token server CPU over the floor (one bare request plus one signature).
fn over_floor(runs: &TokenRuns, signature: f64) -> f64 {
    runs.tokens.server_cpu_micros_per_request()
        / (runs.bare.server_cpu_micros_per_request() + signature)
}

/// Only the bare and warm-token scenarios, printed.
pub(crate) fn tokens_only() -> Result<()> {
    let (binary, scratch) = prepare()?;
    let db = chosen_database(&scratch, "appreg.db");
    let runs = token_scenarios(&binary, &db, 0);
    drop(db);
    let _ = std::fs::remove_dir_all(&scratch);
    let runs = runs?;
    let signature = signature_micros();
    eprintln!(
        "bare {:.0}/s ({:.0} us CPU), tokens {:.0}/s ({:.0} us CPU), ratio {:.2}; \
         signature {signature:.1} us, tokens over the floor {:.2}",
        runs.bare.per_second(),
        runs.bare.server_cpu_micros_per_request(),
        runs.tokens.per_second(),
        runs.tokens.server_cpu_micros_per_request(),
        runs.tokens.per_second() / runs.bare.per_second(),
        over_floor(&runs, signature)
    );
    Ok(())
}

/// Only the sweep, printed.
pub(crate) fn sweep_only() -> Result<()> {
    let (binary, scratch) = prepare()?;
    let db = chosen_database(&scratch, "sweep.db");
    let runs = sweeps(&binary, &db);
    drop(db);
    let _ = std::fs::remove_dir_all(&scratch);
    let (first, steady) = runs?;
    for (name, run) in [("first", first), ("steady", steady)] {
        eprintln!(
            "{name}: {:.2} s, peak {} MiB, {}",
            run.seconds,
            run.peak_kib / 1024,
            run.report
        );
    }
    Ok(())
}

/// Only the expiry overview and the calendar feed, printed.
pub(crate) fn overview_only() -> Result<()> {
    let (binary, scratch) = prepare()?;
    let db = chosen_database(&scratch, "overview.db");
    let runs = overview::overview_pages(&binary, &db);
    drop(db);
    let _ = std::fs::remove_dir_all(&scratch);
    for (name, stats) in runs?.pages {
        eprintln!(
            "{name}: p50 {:.2} ms, p99 {:.2} ms",
            stats.percentile(500),
            stats.percentile(990)
        );
    }
    Ok(())
}

/// Only the console grid, printed (docs/BENCHMARKS.md is written by the full run).
pub(crate) fn grid_only() -> Result<()> {
    let (binary, scratch) = prepare()?;
    let db = chosen_database(&scratch, "grid.db");
    let grid = grid_pages(&binary, &db, TODAY);
    drop(db);
    let _ = std::fs::remove_dir_all(&scratch);
    for (name, stats) in grid? {
        eprintln!(
            "{name}: p50 {:.2} ms, p99 {:.2} ms",
            stats.percentile(500),
            stats.percentile(990)
        );
    }
    Ok(())
}

fn grid_table(grid: &[(&str, Stats)]) -> (String, f64) {
    let rows: Vec<String> = grid
        .iter()
        .map(|(name, stats)| {
            format!(
                "| {name} | {:.2} | {:.2} | {:.0} | {} |",
                stats.percentile(500),
                stats.percentile(990),
                stats.server_cpu_micros_per_request(),
                stats.requests
            )
        })
        .collect();
    let worst = grid
        .iter()
        .map(|(_, stats)| stats.percentile(990))
        .fold(0.0, f64::max);
    (rows.join("\n"), worst)
}

fn sweep_row(name: &str, run: &SweepRun) -> String {
    format!(
        "| {name} | {:.2} | {} | {} | {} |",
        run.seconds,
        run.report["registrations_evaluated"],
        run.report["notices_recorded"],
        run.peak_kib / 1024
    )
}

pub(crate) fn run() -> Result<()> {
    let (binary, scratch) = prepare()?;
    let root = workspace_root();
    let sqlite = |file: &str| Database::Sqlite(scratch.join(file));
    let postgres = || Database::Postgres(FreshDatabase::create());
    let token_runs = token_scenarios(&binary, &sqlite("appreg.db"), FIRST_TIME_CLIENTS)?;
    eprintln!("xtask bench: the token scenarios on PostgreSQL");
    let pg_token_runs = token_scenarios(&binary, &postgres(), 0)?;
    let signature = signature_micros();
    let (first_sweep, steady_sweep) = sweeps(&binary, &sqlite("sweep.db"))?;
    let (pg_first_sweep, pg_steady_sweep) = sweeps(&binary, &postgres())?;
    eprintln!("xtask bench: console grid over {GRID_REGISTRATIONS} registrations");
    let grid = grid_pages(&binary, &sqlite("grid.db"), TODAY)?;
    let pg_grid = grid_pages(&binary, &postgres(), TODAY)?;
    eprintln!("xtask bench: expiry overview and calendar feed");
    let overview_runs = overview::overview_pages(&binary, &sqlite("overview.db"))?;
    let pg_overview_runs = overview::overview_pages(&binary, &postgres())?;
    let _ = std::fs::remove_dir_all(&scratch);
    let overview_rows = overview::table(&overview_runs);
    let pg_overview_rows = overview::table(&pg_overview_runs);
    let sqlite_floor = over_floor(&token_runs, signature);
    let pg_floor = over_floor(&pg_token_runs, signature);
    let pg_vs_sqlite = pg_token_runs.tokens.per_second() / token_runs.tokens.per_second();
    let TokenRuns { bare, tokens, cold } = token_runs;
    let cold = cold.context("first-time verifications were measured")?;
    let (grid_rows, grid_p99) = grid_table(&grid);
    let (pg_grid_rows, pg_grid_p99) = grid_table(&pg_grid);

    let ratio = tokens.per_second() / bare.per_second();
    let cpu_ratio = bare.server_cpu_micros_per_request() / tokens.server_cpu_micros_per_request();
    let report = format!(
        "# Benchmarks\n\n\
         Written by `cargo xtask bench` (xtask/src/bench.rs). Release `appreg serve` processes,\n\
         one per scenario group, on the embedded SQLite store and on PostgreSQL 15 on the same\n\
         machine, all measured in one run; the load generator ({CONNECTIONS} keep-alive HTTP/1.1\n\
         connections on raw sockets) shares the machine's {cores} cores with the server (and\n\
         PostgreSQL), so absolute numbers are conservative and the ratios are what to compare.\n\n\
         | scenario | requests/s | p50 ms | p99 ms | server CPU µs/request | requests |\n\
         |---|---|---|---|---|---|\n\
         {}\n{}\n{}\n{}\n{}\n\n\
         **Warm token issuance / bare endpoint (SQLite): {ratio:.2}** (target: at least 0.5). Per\n\
         request of server CPU alone the ratio is {cpu_ratio:.2}.\n\n\
         **Warm tokens on PostgreSQL / on SQLite: {pg_vs_sqlite:.2}** (target: at least 0.8).\n\n\
         **Warm-token server CPU over the floor** (one bare request plus one Ed25519 signature,\n\
         {signature:.1} µs measured in-process with the same library): **SQLite {sqlite_floor:.2},\n\
         PostgreSQL {pg_floor:.2}** (target: at most 1.5).\n\n\
         - *bare endpoint*: `GET /healthz`, no work beyond the HTTP stack.\n\
         - *warm tokens*: `POST /sites/default/oauth2/token` with Basic credentials already in the\n  \
           verified-secret cache: a SQLite read (on PostgreSQL: the node's copy, no database\n  \
           read; decision 0010), an HMAC, an Ed25519 signature, JSON.\n\
         - *first-time verifications*: the first token request of each of {FIRST_TIME_CLIENTS}\n  \
           registrations: one argon2id verification (m=19456 KiB, t=2, p=1) each, bounded by the\n  \
           verification semaphore (one per core).\n\n\
         Where the time goes and what was tried: docs/decisions/0006-http-server.md,\n\
         section Performance.\n\n\
         ## Sweep\n\n\
         `appreg sweep` (release) over {SWEEP_REGISTRATIONS} registrations of one site, expiration\n\
         dates spread evenly from 30 days ago to three years ahead (target: under 10 s).\n\n\
         | sweep | seconds | registrations read | notices recorded | peak memory MiB |\n\
         |---|---|---|---|---|\n\
         {}\n{}\n{}\n{}\n\n\
         Only registrations that can be due are read (`notice_candidates`: enabled, expiring\n\
         within 31 days or already, current cycle incomplete), through the index\n\
         `registrations_due (site, enabled, expiration_date)`.\n\n\
         ## Console grid\n\n\
         `GET /sites/default/app-registrations` signed in, over {GRID_REGISTRATIONS} registrations\n\
         of one site, {GRID_REQUESTS} requests per variant one after another on one keep-alive\n\
         connection (so latency is server time plus loopback). Target: p99 under 50 ms.\n\n\
         ### SQLite\n\n\
         | page | p50 ms | p99 ms | server CPU µs/request | requests |\n\
         |---|---|---|---|---|\n\
         {grid_rows}\n\n\
         **Worst p99: {grid_p99:.1} ms.** Pages are cut in SQL (`LIMIT`/`OFFSET` over an index per\n\
         sortable column, migration 9), and the total is a `COUNT(*)` of the same filter.\n\n\
         ### PostgreSQL\n\n\
         | page | p50 ms | p99 ms | server CPU µs/request | requests |\n\
         |---|---|---|---|---|\n\
         {pg_grid_rows}\n\n\
         **Worst p99: {pg_grid_p99:.1} ms.** The same indexes; the server CPU column does not\n\
         count PostgreSQL's own.\n\n\
         ## Expiry overview and calendar feed\n\n\
         {overview_sites} sites of {overview_per_site} registrations each ({overview_total} in all), in ten\n\
         time zones, expiration dates spread from 30 days ago to three years ahead; an\n\
         administrator of every site. {GRID_REQUESTS} requests per row, one after another on one\n\
         keep-alive connection. Targets: p99 under 50 ms for the overview's first page and for a\n\
         site's feed (the registrations that expire within a year). The wrong-token rows show\n\
         that a malformed, revoked or other site's token costs the same (decision 0012). The\n\
         last row loads the other 90,000 into the first site and reads its feed again.\n\n\
         ### SQLite\n\n\
         | request | p50 ms | p99 ms | server CPU µs/request | requests |\n\
         |---|---|---|---|---|\n\
         {overview_rows}\n\n\
         ### PostgreSQL\n\n\
         | request | p50 ms | p99 ms | server CPU µs/request | requests |\n\
         |---|---|---|---|---|\n\
         {pg_overview_rows}\n",
        row("bare endpoint (SQLite)", &bare),
        row("warm tokens (SQLite)", &tokens),
        row("first-time verifications (SQLite)", &cold),
        row("bare endpoint (PostgreSQL)", &pg_token_runs.bare),
        row("warm tokens (PostgreSQL)", &pg_token_runs.tokens),
        sweep_row("SQLite, first (catches up on everything due)", &first_sweep),
        sweep_row("SQLite, steady state (a minute later)", &steady_sweep),
        sweep_row("PostgreSQL, first", &pg_first_sweep),
        sweep_row("PostgreSQL, steady state", &pg_steady_sweep),
        cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        overview_sites = overview::SITES,
        overview_per_site = overview::PER_SITE,
        overview_total = overview::SITES * overview::PER_SITE,
    );
    std::fs::write(root.join("docs/BENCHMARKS.md"), &report)?;
    eprintln!("{report}");
    Ok(())
}
