//! What the command line prints: lines on stdout (text from the wire always
//! escaped), JSON lines with `--json`, exact payload bytes with `--raw` or
//! `--output`, and failures as one line on stderr with an exit status.

use std::fmt::{self, Display};
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

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

/// A station's counters as a report; with the files and messages of its
/// reception, if it receives.
pub fn stats(stats: &crate::station::Stats, reception: Option<&super::files::Reception>) -> super::report::Report {
    let (link, name_arp) = (stats.link, stats.name_arp);
    super::report::Report::Stats {
        rx_frames: link.rx_frames,
        data_in: stats.data.rx,
        foreign: link.rx_foreign,
        malformed: link.rx_malformed + name_arp.rx_malformed + stats.arp.rx_malformed + stats.ndp.rx_malformed,
        truncated: link.rx_truncated,
        not_for_us: link.rx_not_for_us,
        requests_for_others: name_arp.rx_requests_for_others,
        tx_frames: link.tx_frames,
        replies_sent: name_arp.replies_sent,
        requests_sent: name_arp.requests_sent,
        conflicts: name_arp.conflicts,
        data_out: stats.data.tx,
        files: reception.map(|r| r.files),
        messages: reception.map(|r| r.messages),
    }
}
