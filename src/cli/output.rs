//! What the command line prints: lines on stdout (text from the wire always
//! escaped), JSON lines with `--json`, exact payload bytes with `--raw` or
//! `--output`, and failures as one line on stderr with an exit status.

use std::fmt::{self, Display};
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::wire::Escaped;
use crate::{EthernetAddress, Name};

/// Longest message shown on a line before it is cut with a marker (the
/// exact bytes are available with `--raw` or `--output`).
pub const MESSAGE_PREVIEW: usize = 512;

/// How a subcommand ended, as an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 1: nothing found, or the peer did not answer.
    NotFound,
    /// 2: a usage or environment error.
    Error,
    /// 130: interrupted in the middle of an operation.
    Interrupted,
    /// stdout was closed (`whohas decode x.pcap | head`): exit 0, quietly.
    ClosedOutput,
}

/// Why a subcommand did not succeed: a status and a one-line reason.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub status: Status,
    /// What happened and, where it helps, what to do.
    pub message: String,
}

impl Failure {
    /// Exit status 1.
    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure { status: Status::NotFound, message: message.into() }
    }

    /// Exit status 2.
    pub fn error(message: impl Into<String>) -> Failure {
        Failure { status: Status::Error, message: message.into() }
    }

    /// Exit status 130.
    pub fn interrupted(message: impl Into<String>) -> Failure {
        Failure { status: Status::Interrupted, message: message.into() }
    }

    /// Prints the reason (prefixed with `program`) and gives the exit status.
    pub fn report(self, program: &str) -> ExitCode {
        match self.status {
            Status::ClosedOutput => return ExitCode::SUCCESS,
            _ => eprintln!("{program}: {}", self.message),
        }
        ExitCode::from(match self.status {
            Status::NotFound => 1,
            Status::Error => 2,
            Status::Interrupted => 130,
            Status::ClosedOutput => 0,
        })
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(err: E) -> Failure {
        Failure::error(err.to_string())
    }
}

fn written(result: io::Result<()>) -> Result<(), Failure> {
    result.map_err(|err| match err.kind() {
        io::ErrorKind::BrokenPipe => Failure { status: Status::ClosedOutput, message: String::new() },
        _ => Failure::error(format!("cannot write to stdout: {err}")),
    })
}

/// Prints one line on stdout.
pub fn print_line(line: impl Display) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    written(writeln!(out, "{line}").and_then(|()| out.flush()))
}

/// Prints one JSON object on a line of stdout.
pub fn print_json(value: &Value) -> Result<(), Failure> {
    print_line(value)
}

/// Text from the wire, shown on one line by the one escaping rule, cut after
/// [`MESSAGE_PREVIEW`] bytes with a marker. A message's final newline ends
/// its line rather than being shown as `\x0a`.
pub fn text(bytes: &[u8]) -> Escaped<'_> {
    let bytes = bytes.strip_suffix(b"\n").map_or(bytes, |line| line.strip_suffix(b"\r").unwrap_or(line));
    Escaped::preview(bytes, MESSAGE_PREVIEW)
}

/// A station as the user knows it: `NAME (MAC)`, or the MAC alone.
pub struct Who<'a>(pub Option<&'a Name>, pub EthernetAddress);

impl Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(name) => write!(f, "{name} ({})", self.1),
            None => write!(f, "{}", self.1),
        }
    }
}

/// Bytes for JSON: the escaped text (safe on a terminal) and the exact
/// bytes in hex (for scripts).
pub fn json_bytes(bytes: &[u8]) -> Value {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    json!({ "text": Escaped::new(bytes).to_string(), "hex": hex })
}

/// A name for JSON, escaped like any text from the wire.
pub fn json_name(name: Option<&Name>) -> Value {
    name.map_or(Value::Null, |name| Value::String(name.to_string()))
}

/// Where the exact bytes of received messages go, when asked.
pub enum Sink {
    /// Nowhere: messages are shown escaped.
    None,
    /// Standard output, exactly, instead of the escaped lines.
    Raw,
    /// A file, exactly, besides the escaped lines.
    File(io::BufWriter<File>),
}

impl Sink {
    /// The sink `--raw` and `--output PATH` ask for.
    pub fn open(raw: bool, output: Option<&Path>) -> Result<Sink, Failure> {
        match (raw, output) {
            (true, _) => Ok(Sink::Raw),
            (false, Some(path)) => File::create(path)
                .map(|file| Sink::File(io::BufWriter::new(file)))
                .map_err(|err| Failure::error(format!("cannot write {}: {err}", path.display()))),
            (false, None) => Ok(Sink::None),
        }
    }

    /// Whether messages are shown as lines (not replaced by raw bytes).
    pub fn shows_lines(&self) -> bool {
        !matches!(self, Sink::Raw)
    }

    /// Writes a message's exact bytes, if this sink takes them.
    pub fn write(&mut self, payload: &[u8]) -> Result<(), Failure> {
        match self {
            Sink::None => Ok(()),
            Sink::Raw => {
                let mut out = io::stdout().lock();
                written(out.write_all(payload).and_then(|()| out.flush()))
            }
            Sink::File(file) => {
                file.write_all(payload).and_then(|()| file.flush()).map_err(|err| Failure::error(format!("{err}")))
            }
        }
    }
}

/// The bytes of `text` with the escapes a user types on a command line
/// (`\n`, `\r`, `\t`, `\0`, `\\`, `\xNN`) turned into bytes, so
/// `--reply 'Nice to meet you!\n'` ends in a newline.
pub fn unescape(text: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        rest = tail;
        if first != b'\\' {
            bytes.push(first);
            continue;
        }
        let (&kind, tail) = rest.split_first().ok_or_else(|| Failure::error(format!("{text:?} ends in a lone \\")))?;
        rest = tail;
        bytes.push(match kind {
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'0' => 0,
            b'\\' => b'\\',
            b'x' => {
                let hex = rest.get(..2).and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
                rest = rest.get(2..).unwrap_or_default();
                hex.ok_or_else(|| Failure::error(format!("{text:?}: \\x needs two hex digits")))?
            }
            other => {
                return Err(Failure::error(format!(
                    "{text:?}: unknown escape \\{}; use \\n, \\r, \\t, \\0, \\\\ or \\xNN",
                    other as char
                )));
            }
        });
    }
    Ok(bytes)
}

/// One line saying what a node event means (text from the wire escaped).
pub fn describe(event: &crate::Event<'_>) -> String {
    use crate::Event;
    use crate::presence::PresenceEvent;
    use crate::scan::ScanEvent;
    match event {
        Event::Data { from, from_name, payload } => {
            format!("received from {}: {}", Who(from_name.as_ref(), *from), text(payload))
        }
        Event::Answered { requester } => format!("answered who-has from {requester}"),
        Event::Resolved { name, hardware_addr, previous: None } => format!("{name} is at {hardware_addr}"),
        Event::Resolved { name, hardware_addr, previous: Some(previous) } => {
            format!("{name} is at {hardware_addr} (it was at {previous})")
        }
        Event::ResolutionFailed { name, dropped_frames } => {
            format!("no answer from {name}; {dropped_frames} queued messages dropped")
        }
        Event::NameConflict { name, cached, other } => {
            format!("{name} is also at {other} (DUP: two stations claim it; keeping the first answer, {cached})")
        }
        Event::ArpAnswered { requester, address } => format!("answered who-has {address} from {requester}"),
        Event::ArpResolved { address, hardware_addr, .. } => format!("{address} is at {hardware_addr}"),
        Event::ArpResolutionFailed { address } => format!("no answer for {address}"),
        Event::AddressConflict { address, cached, other } => {
            format!("{address} is also at {other} (DUP: keeping the first answer, {cached})")
        }
        Event::AddressClaimed { address, by } => format!("{by} claims our address {address}"),
        Event::Scan(ScanEvent::Host { address, hardware_addr, .. }) => format!("{address} is at {hardware_addr}"),
        Event::Scan(ScanEvent::Duplicate { address, other, .. }) => format!("{address} is also at {other} (DUP)"),
        Event::Scan(ScanEvent::Done) => "scan done".to_owned(),
        Event::Presence(event) => match event {
            PresenceEvent::Claimed { name } => format!("you are {name}"),
            PresenceEvent::NameTaken { name, by } => format!("the name {name} is taken by {by}"),
            PresenceEvent::Joined { name, .. } => format!("{name} joined"),
            PresenceEvent::Left { name, .. } => format!("{name} left"),
            PresenceEvent::Disappeared { name, .. } => format!("{name} disappeared"),
            PresenceEvent::Conflict { name, known, other } => {
                format!("{name} is claimed by two stations: {known} and {other} (DUP)")
            }
        },
        other => format!("{other:?}"),
    }
}

/// A node event as a JSON object (text from the wire escaped, with its
/// exact bytes in hex).
pub fn event_json(event: &crate::Event<'_>) -> Value {
    use crate::Event;
    use crate::presence::PresenceEvent;
    match event {
        Event::Data { from, from_name, payload } => json!({
            "event": "data", "from": from.to_string(), "from_name": json_name(from_name.as_ref()),
            "payload": json_bytes(payload),
        }),
        Event::Answered { requester } => json!({ "event": "answered", "requester": requester.to_string() }),
        Event::Resolved { name, hardware_addr, previous } => json!({
            "event": "resolved", "name": name.to_string(), "mac": hardware_addr.to_string(),
            "previous": previous.map(|mac| mac.to_string()),
        }),
        Event::ResolutionFailed { name, dropped_frames } => {
            json!({ "event": "resolution_failed", "name": name.to_string(), "dropped_frames": dropped_frames })
        }
        Event::NameConflict { name, cached, other } => json!({
            "event": "name_conflict", "name": name.to_string(), "cached": cached.to_string(), "other": other.to_string(),
        }),
        Event::ArpAnswered { requester, address } => {
            json!({ "event": "arp_answered", "requester": requester.to_string(), "address": address })
        }
        Event::AddressClaimed { address, by } => {
            json!({ "event": "address_claimed", "address": address, "by": by.to_string() })
        }
        Event::Presence(PresenceEvent::Claimed { name }) => json!({ "event": "claimed", "name": name.to_string() }),
        Event::Presence(PresenceEvent::NameTaken { name, by }) => {
            json!({ "event": "name_taken", "name": name.to_string(), "by": by.to_string() })
        }
        Event::Presence(PresenceEvent::Joined { name, mac }) => {
            json!({ "event": "joined", "name": name.to_string(), "mac": mac.to_string() })
        }
        Event::Presence(PresenceEvent::Left { name, mac }) => {
            json!({ "event": "left", "name": name.to_string(), "mac": mac.to_string() })
        }
        Event::Presence(PresenceEvent::Disappeared { name, mac }) => {
            json!({ "event": "disappeared", "name": name.to_string(), "mac": mac.to_string() })
        }
        Event::Presence(PresenceEvent::Conflict { name, known, other }) => json!({
            "event": "conflict", "name": name.to_string(), "known": known.to_string(), "other": other.to_string(),
        }),
        other => json!({ "event": "other", "description": describe(other) }),
    }
}
