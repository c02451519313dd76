//! Real local peers for delivery tests (feature `testkit`): an SMTP sink and a webhook
//! receiver on 127.0.0.1, each of which can be told to accept, refuse or hang, so tests
//! see real conversations fail and recover.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How a peer treats the next connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerMode {
    Accept,
    /// SMTP: `421` at once; HTTP: `503 Service Unavailable`.
    Refuse,
    /// Reads the request and never answers (the sender times out).
    Hang,
}

#[derive(Debug)]
struct Shared<T> {
    mode: Option<PeerMode>,
    received: Vec<T>,
    connections: usize,
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Self {
            mode: None,
            received: Vec::new(),
            connections: 0,
        }
    }
}

type SharedState<T> = Arc<Mutex<Shared<T>>>;

fn start<T: Send + 'static>(
    state: SharedState<T>,
    serve: fn(TcpStream, PeerMode, &SharedState<T>),
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mode = {
                let mut shared = state.lock().unwrap();
                shared.connections += 1;
                shared.mode.unwrap_or(PeerMode::Accept)
            };
            let state = state.clone();
            thread::spawn(move || serve(stream, mode, &state));
        }
    });
    address
}

/// One message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA section, headers and body, with CRLF line ends and dot-stuffing undone.
    pub data: String,
}

impl ReceivedMail {
    /// The value of the first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            match &mut value {
                Some(v) if line.starts_with([' ', '\t']) => v.push_str(line.trim_start()),
                Some(_) => break,
                None => {
                    if let Some((key, rest)) = line.split_once(':')
                        && key.eq_ignore_ascii_case(name)
                    {
                        value = Some(rest.trim().to_owned());
                    }
                }
            }
        }
        value
    }

    pub fn body(&self) -> &str {
        self.data
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
    }
}

/// A minimal SMTP server: enough of RFC 5321 for lettre (EHLO, MAIL, RCPT, DATA, RSET, QUIT).
#[derive(Debug, Clone)]
pub struct SmtpSink {
    address: SocketAddr,
    state: SharedState<ReceivedMail>,
}

impl SmtpSink {
    pub fn start() -> Self {
        let state: SharedState<ReceivedMail> = Arc::default();
        let address = start(state.clone(), serve_smtp);
        Self { address, state }
    }

    /// `smtp://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    pub fn set_mode(&self, mode: PeerMode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.state.lock().unwrap().received.clone()
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }
}

fn serve_smtp(stream: TcpStream, mode: PeerMode, state: &SharedState<ReceivedMail>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut reply = |text: &str| writer.write_all(format!("{text}\r\n").as_bytes()).is_ok();
    match mode {
        PeerMode::Refuse => {
            reply("421 sink.test Service not available, try again later");
            return;
        }
        PeerMode::Hang => {
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
            return;
        }
        PeerMode::Accept => {}
    }
    reply("220 sink.test ESMTP appreg test sink");
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_owned();
        let verb = command.get(..4).unwrap_or_default().to_ascii_uppercase();
        let ok = match verb.as_str() {
            "EHLO" => reply("250-sink.test greets you") && reply("250 8BITMIME"),
            "HELO" | "NOOP" => reply("250 OK"),
            "RSET" => {
                mail_from.clear();
                rcpt_to.clear();
                reply("250 OK")
            }
            "MAIL" => {
                mail_from = address_in(&command);
                reply("250 OK")
            }
            "RCPT" => {
                rcpt_to.push(address_in(&command));
                reply("250 OK")
            }
            "DATA" => {
                if !reply("354 End data with <CR><LF>.<CR><LF>") {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                }
                state.lock().unwrap().received.push(ReceivedMail {
                    mail_from: std::mem::take(&mut mail_from),
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                });
                reply("250 OK queued")
            }
            "QUIT" => {
                reply("221 Bye");
                return;
            }
            _ => reply("502 Command not implemented"),
        };
        if !ok {
            return;
        }
    }
}

fn address_in(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command.rfind('>').unwrap_or(command.len());
    command.get(start..end).unwrap_or_default().to_owned()
}

/// One POST as the receiver got it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    pub method: String,
    pub path: String,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ReceivedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A minimal HTTP/1.1 server that records each request (also refused ones) and answers
/// `204`, or `503` when refusing; one request per connection.
#[derive(Debug, Clone)]
pub struct WebhookReceiver {
    address: SocketAddr,
    state: SharedState<(ReceivedRequest, PeerMode)>,
}

impl WebhookReceiver {
    pub fn start() -> Self {
        let state: SharedState<(ReceivedRequest, PeerMode)> = Arc::default();
        let address = start(state.clone(), serve_http);
        Self { address, state }
    }

    /// `http://127.0.0.1:<port><path>`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn set_mode(&self, mode: PeerMode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    /// The requests answered with success.
    pub fn accepted(&self) -> Vec<ReceivedRequest> {
        self.state
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|(_, mode)| *mode == PeerMode::Accept)
            .map(|(request, _)| request.clone())
            .collect()
    }

    /// Every request that arrived, however it was answered.
    pub fn attempts(&self) -> usize {
        self.state.lock().unwrap().received.len()
    }
}

fn serve_http(stream: TcpStream, mode: PeerMode, state: &SharedState<(ReceivedRequest, PeerMode)>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = ReceivedRequest {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    state.lock().unwrap().received.push((request, mode));
    let status = match mode {
        PeerMode::Accept => "204 No Content",
        PeerMode::Refuse => "503 Service Unavailable",
        PeerMode::Hang => {
            thread::sleep(Duration::from_secs(600));
            return;
        }
    };
    let _ = writer.write_all(
        format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
    );
}
