//! One report model for every subcommand. Whatever the program tells its
//! user is a [`Report`]: one line of text, or with `--json` one JSON object
//! tagged by `"event"`, whose keys are the same for the same event in every
//! subcommand. `docs/JSON.md` describes every event and field; a test checks
//! it against [`Report::examples`], and the network tests check every line
//! the streaming subcommands print against it.
//!
//! Text from the wire (names, messages, file names) is escaped before it is
//! put in a report, so neither rendering writes it raw to a terminal.

use std::fmt::{self, Display};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::Failure;
use super::output::{print_json, print_line, text};
use crate::decode::Summary;
use crate::presence::PresenceEvent;
use crate::wire::Escaped;
use crate::{EthernetAddress, Event, Name};

/// Bytes that came off the wire: escaped text, safe on a terminal, and the
/// exact bytes in hex, for scripts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WireBytes {
    /// The bytes as text, escaped by the one escaping rule.
    pub text: String,
    /// The exact bytes, two hex digits each.
    pub hex: String,
    /// Shown on a text line: cut after a preview, the final newline dropped.
    #[serde(skip)]
    line: String,
}

impl WireBytes {
    /// How a text line shows them: escaped, cut after a preview, without
    /// the final newline.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// `bytes` for a report.
    pub fn new(bytes: &[u8]) -> WireBytes {
        WireBytes {
            text: Escaped::new(bytes).to_string(),
            hex: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            line: text(bytes).to_string(),
        }
    }
}

/// One station in a chat's list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    /// Its name, escaped.
    pub name: String,
    /// Its MAC address.
    pub mac: String,
    /// Seconds since it was last heard.
    pub last_seen_s: u64,
    /// `present`, `resolved (no presence)` or `DUP`.
    pub state: &'static str,
}

/// Something the program reports. Variant names (in snake case) are the
/// JSON `"event"`, field names its keys; `docs/JSON.md` says what each field
/// holds, and a test keeps it in step with this type (so the fields carry
/// no second description here).
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Report {
    /// A station started answering for its name (`respond`, `receive`).
    Listening { name: String, interface: String, mac: String },
    /// A chat started: its name is being checked.
    Joining { name: String, interface: String, mac: String },
    /// A data frame (ethertype 0xFFFD) arrived.
    Data { from: String, from_name: Option<String>, payload: WireBytes },
    /// The station answered a name-ARP request for its name.
    Answered { name: String, requester: String },
    /// The station answered a data frame.
    Replied { to: String, payload: WireBytes },
    /// A name resolved.
    Resolved { name: String, mac: String, previous: Option<String> },
    /// A name did not resolve.
    ResolutionFailed { name: String, dropped_frames: usize },
    /// Two stations answered for one name.
    NameConflict { name: String, cached: String, other: String },
    /// The station answered an ARP request for one of its addresses.
    ArpAnswered { requester: String, address: Ipv4Addr },
    /// An IPv4 address resolved.
    ArpResolved { address: Ipv4Addr, mac: String, previous: Option<String> },
    /// An IPv4 address did not resolve.
    ArpResolutionFailed { address: Ipv4Addr },
    /// Two stations answered for one IPv4 address.
    AddressConflict { address: Ipv4Addr, cached: String, other: String },
    /// Another station uses one of this station's IPv4 addresses.
    AddressClaimed { address: Ipv4Addr, by: String },
    /// The station answered a neighbour solicitation for one of its IPv6
    /// addresses.
    Ipv6Answered { requester: String, address: Ipv6Addr },
    /// An IPv6 address resolved.
    Ipv6Resolved { address: Ipv6Addr, mac: String, previous: Option<String> },
    /// An IPv6 address did not resolve.
    Ipv6ResolutionFailed { address: Ipv6Addr },
    /// Two stations advertised one IPv6 address.
    Ipv6Conflict { address: Ipv6Addr, cached: String, other: String },
    /// A scan found a host (and maybe other MACs answering for it).
    Host { address: IpAddr, mac: String, rtt_ms: f64, late: bool, duplicates: Vec<String> },
    /// A chat's name is this station's.
    Claimed { name: String },
    /// A chat's name is another station's.
    NameTaken { name: String, by: String },
    /// A station joined the room.
    Joined { name: String, mac: String },
    /// A station said goodbye.
    Left { name: String, mac: String },
    /// A station stopped answering.
    Disappeared { name: String, mac: String },
    /// Two stations claim one name.
    Conflict { name: String, known: String, other: String },
    /// The stations of a chat room (`@show_list`).
    List { stations: Vec<Listed> },
    /// A reliable message arrived.
    Message { from: String, payload: WireBytes },
    /// A file goes out (chat's `@send`).
    Sending { to: String, file: String, bytes: u64 },
    /// A data frame (`send --datagram`) went out.
    Sent { to: String, mac: String, bytes: usize },
    /// A data frame came back (`send --datagram --wait`).
    Answer { from: String, payload: WireBytes },
    /// The receiver acknowledged a message, or verified a file's SHA-256.
    Delivered {
        to: String,
        mac: Option<String>,
        file: Option<String>,
        bytes: u64,
        seconds: Option<f64>,
        mb_per_s: Option<f64>,
        retransmits: Option<u64>,
        timeouts: Option<u64>,
        spurious: Option<u64>,
        sha256: Option<String>,
    },
    /// A message or a file did not arrive.
    Undelivered { to: String, file: Option<String>, reason: String },
    /// A file arrived, matched its SHA-256, and was kept.
    File { file: String, from: String, bytes: u64, seconds: f64, mb_per_s: f64, sha256: String, path: String },
    /// A file arrived whole but was not kept.
    Dropped { file: String, from: String, reason: String },
    /// A transfer was refused.
    Refused { from: String, mac: String, file: Option<String>, reason: String },
    /// A file's transfer broke off; nothing was kept.
    Failed { file: String, from: String, reason: String },
    /// A chat said goodbye.
    Goodbye { name: String, mac: String, frames_in: u64, frames_out: u64 },
    /// A station's counters, when it stops (`respond`, `receive`,
    /// `resolve`); with the files and messages of a receiving station.
    Stats {
        rx_frames: u64,
        data_in: u64,
        foreign: u64,
        malformed: u64,
        truncated: u64,
        not_for_us: u64,
        requests_for_others: u64,
        tx_frames: u64,
        replies_sent: u64,
        requests_sent: u64,
        conflicts: u64,
        data_out: u64,
        files: Option<u64>,
        messages: Option<u64>,
    },
    /// Keyed mode's counters.
    Keyed {
        tx_signed: u64,
        rx_verified: u64,
        rx_second_key: u64,
        rx_auth_failures: u64,
        rx_replays: u64,
        rx_stale_replies: u64,
        rx_unadmitted: u64,
        rx_reflected: u64,
        rx_misdirected: u64,
        rx_stale_handshakes: u64,
        tx_challenges: u64,
        tx_answers: u64,
        admissions: u64,
    },
    /// `pingpong echo` stopped.
    Echoed { frames: u64 },
    /// `pingpong ping`'s round trips.
    Rtt {
        echoed: usize,
        count: usize,
        bytes: usize,
        mode: &'static str,
        min_us: f64,
        median_us: f64,
        p99_us: f64,
        max_us: f64,
    },
    /// `inject` is done.
    Injected { packets: u64, bytes: u64, seconds: f64, pps: f64, mbps: f64, failed: u64 },
    /// `replay` is done.
    Replayed { frames_in: u64, frames_truncated: u64, frames_out: u64, output: String },
    /// `keygen` wrote a key.
    Key { path: String, bytes: usize, fingerprint: String },
    /// A key file changed: `rotate` rewrote it ("added", "promoted",
    /// "retired"), or a keyed station read it again at SIGHUP ("reloaded").
    Keys { path: String, change: &'static str, signing: String, also: Option<String> },
    /// One frame of a capture (`decode`), as tshark's summary line.
    Frame(Summary),
    /// A network interface (`interfaces`).
    Interface {
        interface: String,
        mac: String,
        mtu: usize,
        state: &'static str,
        ethernet: bool,
        ipv4: Vec<String>,
        default_route: bool,
    },
    /// A node event this version of the program has no report for.
    Other { description: String },
}

fn mac(address: EthernetAddress) -> String {
    address.to_string()
}

fn name(name: &Name) -> String {
    name.to_string()
}

impl Report {
    /// The report of a node's own event; `me` is the node's name.
    pub fn of(event: Event<'_>, me: &Name) -> Report {
        match event {
            Event::Data { from, from_name, payload } => Report::Data {
                from: mac(from),
                from_name: from_name.as_ref().map(name),
                payload: WireBytes::new(payload),
            },
            Event::Answered { requester } => Report::Answered { name: name(me), requester: mac(requester) },
            Event::Resolved { name: n, hardware_addr, previous } => {
                Report::Resolved { name: name(&n), mac: mac(hardware_addr), previous: previous.map(mac) }
            }
            Event::ResolutionFailed { name: n, dropped_frames } => {
                Report::ResolutionFailed { name: name(&n), dropped_frames }
            }
            Event::NameConflict { name: n, cached, other } => {
                Report::NameConflict { name: name(&n), cached: mac(cached), other: mac(other) }
            }
            Event::ArpAnswered { requester, address } => Report::ArpAnswered { requester: mac(requester), address },
            Event::ArpResolved { address, hardware_addr, previous } => {
                Report::ArpResolved { address, mac: mac(hardware_addr), previous: previous.map(mac) }
            }
            Event::ArpResolutionFailed { address } => Report::ArpResolutionFailed { address },
            Event::AddressConflict { address, cached, other } => {
                Report::AddressConflict { address, cached: mac(cached), other: mac(other) }
            }
            Event::AddressClaimed { address, by } => Report::AddressClaimed { address, by: mac(by) },
            Event::Ipv6Answered { requester, address } => Report::Ipv6Answered { requester: mac(requester), address },
            Event::Ipv6Resolved { address, hardware_addr, previous } => {
                Report::Ipv6Resolved { address, mac: mac(hardware_addr), previous: previous.map(mac) }
            }
            Event::Ipv6ResolutionFailed { address } => Report::Ipv6ResolutionFailed { address },
            Event::Ipv6Conflict { address, cached, other } => {
                Report::Ipv6Conflict { address, cached: mac(cached), other: mac(other) }
            }
            Event::Service(never) => match never {},
            // The node's events are all above; one added later is still
            // reported, as its debug text.
            other => Report::Other { description: format!("{other:?}") },
        }
    }

    /// Prints the report: a line of text, or a JSON object with `json`.
    pub fn print(&self, json: bool) -> Result<(), Failure> {
        if json {
            print_json(&serde_json::to_value(self).map_err(|err| Failure::error(err.to_string()))?)
        } else {
            print_line(self)
        }
    }

    /// The report as one JSON line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether chat shows it as a mark in brackets: the outcome of something
    /// sent or received, rather than news of the room.
    pub fn is_mark(&self) -> bool {
        matches!(
            self,
            Report::Delivered { .. }
                | Report::Undelivered { .. }
                | Report::Sending { .. }
                | Report::File { .. }
                | Report::Dropped { .. }
                | Report::Refused { .. }
                | Report::Failed { .. }
        )
    }

    /// One report of every kind, for the tests that check `docs/JSON.md`.
    pub fn examples() -> Vec<Report> {
        let (mac, other, ip) =
            ("02:00:00:00:00:01".to_owned(), "02:00:00:00:00:02".to_owned(), Ipv4Addr::new(198, 18, 0, 1));
        let ip6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
        let bytes = WireBytes::new(b"hi\n");
        let name = || "VM2".to_owned();
        vec![
            Report::Listening { name: name(), interface: "eth0".into(), mac: mac.clone() },
            Report::Joining { name: name(), interface: "eth0".into(), mac: mac.clone() },
            Report::Data { from: mac.clone(), from_name: Some(name()), payload: bytes.clone() },
            Report::Answered { name: name(), requester: mac.clone() },
            Report::Replied { to: mac.clone(), payload: bytes.clone() },
            Report::Resolved { name: name(), mac: mac.clone(), previous: Some(other.clone()) },
            Report::ResolutionFailed { name: name(), dropped_frames: 1 },
            Report::NameConflict { name: name(), cached: mac.clone(), other: other.clone() },
            Report::ArpAnswered { requester: mac.clone(), address: ip },
            Report::ArpResolved { address: ip, mac: mac.clone(), previous: None },
            Report::ArpResolutionFailed { address: ip },
            Report::AddressConflict { address: ip, cached: mac.clone(), other: other.clone() },
            Report::AddressClaimed { address: ip, by: other.clone() },
            Report::Ipv6Answered { requester: mac.clone(), address: ip6 },
            Report::Ipv6Resolved { address: ip6, mac: mac.clone(), previous: None },
            Report::Ipv6ResolutionFailed { address: ip6 },
            Report::Ipv6Conflict { address: ip6, cached: mac.clone(), other: other.clone() },
            Report::Host {
                address: ip.into(),
                mac: mac.clone(),
                rtt_ms: 0.25,
                late: false,
                duplicates: vec![other.clone()],
            },
            Report::Host { address: ip6.into(), mac: mac.clone(), rtt_ms: 0.25, late: false, duplicates: vec![] },
            Report::Claimed { name: name() },
            Report::NameTaken { name: name(), by: other.clone() },
            Report::Joined { name: name(), mac: mac.clone() },
            Report::Left { name: name(), mac: mac.clone() },
            Report::Disappeared { name: name(), mac: mac.clone() },
            Report::Conflict { name: name(), known: mac.clone(), other: other.clone() },
            Report::List {
                stations: vec![Listed { name: name(), mac: mac.clone(), last_seen_s: 3, state: "present" }],
            },
            Report::Message { from: name(), payload: bytes.clone() },
            Report::Sending { to: name(), file: "notes.txt".into(), bytes: 10 },
            Report::Sent { to: name(), mac: mac.clone(), bytes: 3 },
            Report::Answer { from: name(), payload: bytes.clone() },
            Report::Delivered {
                to: name(),
                mac: Some(mac.clone()),
                file: Some("notes.txt".into()),
                bytes: 10,
                seconds: Some(0.5),
                mb_per_s: Some(0.00002),
                retransmits: Some(0),
                timeouts: Some(0),
                spurious: Some(0),
                sha256: Some("00".repeat(32)),
            },
            Report::Undelivered { to: name(), file: None, reason: "the peer stopped answering".into() },
            Report::File {
                file: "notes.txt".into(),
                from: name(),
                bytes: 10,
                seconds: 0.5,
                mb_per_s: 0.00002,
                sha256: "00".repeat(32),
                path: "/tmp/notes.txt".into(),
            },
            Report::Dropped { file: "notes.txt".into(), from: name(), reason: "cannot save it".into() },
            Report::Refused {
                from: name(),
                mac: mac.clone(),
                file: Some("notes.txt".into()),
                reason: "not in --accept".into(),
            },
            Report::Failed { file: "notes.txt".into(), from: name(), reason: "the peer stopped answering".into() },
            Report::Goodbye { name: name(), mac: mac.clone(), frames_in: 4, frames_out: 5 },
            Report::Stats {
                rx_frames: 3,
                data_in: 1,
                foreign: 0,
                malformed: 0,
                truncated: 0,
                not_for_us: 0,
                requests_for_others: 1,
                tx_frames: 2,
                replies_sent: 1,
                requests_sent: 0,
                conflicts: 0,
                data_out: 1,
                files: Some(1),
                messages: Some(0),
            },
            Report::Keyed {
                tx_signed: 1,
                rx_verified: 1,
                rx_second_key: 0,
                rx_auth_failures: 0,
                rx_replays: 0,
                rx_stale_replies: 0,
                rx_unadmitted: 1,
                rx_reflected: 0,
                rx_misdirected: 0,
                rx_stale_handshakes: 0,
                tx_challenges: 1,
                tx_answers: 0,
                admissions: 1,
            },
            Report::Echoed { frames: 10 },
            Report::Rtt {
                echoed: 10,
                count: 10,
                bytes: 64,
                mode: "blocking",
                min_us: 10.0,
                median_us: 12.0,
                p99_us: 20.0,
                max_us: 25.0,
            },
            Report::Injected { packets: 10, bytes: 600, seconds: 0.01, pps: 1000.0, mbps: 0.48, failed: 0 },
            Report::Replayed { frames_in: 3, frames_truncated: 0, frames_out: 2, output: "out.pcap".into() },
            Report::Key { path: "group.key".into(), bytes: 32, fingerprint: "1a2b3c4d".into() },
            Report::Keys {
                path: "group.key".into(),
                change: "promoted",
                signing: "1a2b3c4d".into(),
                also: Some("5e6f7a8b".into()),
            },
            Report::Frame(Summary {
                number: 1,
                time: crate::Duration::from_micros(1500),
                source: mac.clone(),
                destination: "ff:ff:ff:ff:ff:ff".into(),
                protocol: "name-ARP".into(),
                length: 60,
                info: "Who has VM2?".into(),
            }),
            Report::Interface {
                interface: "eth0".into(),
                mac: mac.clone(),
                mtu: 1500,
                state: "up",
                ethernet: true,
                ipv4: vec!["198.18.0.1/24".into()],
                default_route: false,
            },
            Report::Other { description: "Event".into() },
        ]
    }
}

impl From<std::convert::Infallible> for Report {
    fn from(never: std::convert::Infallible) -> Report {
        match never {}
    }
}

impl From<PresenceEvent> for Report {
    fn from(event: PresenceEvent) -> Report {
        match event {
            PresenceEvent::Claimed { name: n } => Report::Claimed { name: name(&n) },
            PresenceEvent::NameTaken { name: n, by } => Report::NameTaken { name: name(&n), by: mac(by) },
            PresenceEvent::Joined { name: n, mac: m } => Report::Joined { name: name(&n), mac: mac(m) },
            PresenceEvent::Left { name: n, mac: m } => Report::Left { name: name(&n), mac: mac(m) },
            PresenceEvent::Disappeared { name: n, mac: m } => Report::Disappeared { name: name(&n), mac: mac(m) },
            PresenceEvent::Conflict { name: n, known, other } => {
                Report::Conflict { name: name(&n), known: mac(known), other: mac(other) }
            }
        }
    }
}

/// `NAME (MAC)`, or whichever of the two is known.
fn or_mac(name: &Option<String>, mac: &str) -> String {
    match (name, mac) {
        (Some(name), "") => name.clone(),
        (Some(name), mac) => format!("{name} ({mac})"),
        (None, mac) => mac.to_owned(),
    }
}

impl Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Report::Listening { name, interface, mac } => write!(f, "{name} answering on {interface} ({mac})"),
            Report::Joining { name, interface, mac } => {
                write!(f, "{name} joining on {interface} ({mac}): checking the name is free")
            }
            Report::Data { from, from_name, payload } => {
                write!(f, "received from {}: {}", or_mac(from_name, from), payload.line)
            }
            Report::Answered { name, requester } => write!(f, "answered who-has {name} from {requester}"),
            Report::Replied { to, payload } => write!(f, "replied to {to}: {}", payload.line),
            Report::Resolved { name, mac, previous: None } => write!(f, "{name} is at {mac}"),
            Report::Resolved { name, mac, previous: Some(previous) } => {
                write!(f, "{name} is at {mac} (it was at {previous})")
            }
            Report::ResolutionFailed { name, dropped_frames } => {
                write!(f, "no answer from {name}; {dropped_frames} queued messages dropped")
            }
            Report::NameConflict { name, cached, other } => {
                write!(f, "{name} is also at {other} (DUP: two stations claim it; keeping the first answer, {cached})")
            }
            Report::ArpAnswered { requester, address } => write!(f, "answered who-has {address} from {requester}"),
            Report::ArpResolved { address, mac, .. } => write!(f, "{address} is at {mac}"),
            Report::ArpResolutionFailed { address } => write!(f, "no answer for {address}"),
            Report::AddressConflict { address, cached, other } => {
                write!(f, "{address} is also at {other} (DUP: keeping the first answer, {cached})")
            }
            Report::AddressClaimed { address, by } => write!(f, "{by} claims our address {address}"),
            Report::Ipv6Answered { requester, address } => {
                write!(f, "answered neighbour solicitation for {address} from {requester}")
            }
            Report::Ipv6Resolved { address, mac, .. } => write!(f, "{address} is at {mac}"),
            Report::Ipv6ResolutionFailed { address } => write!(f, "no answer for {address}"),
            Report::Ipv6Conflict { address, cached, other } => {
                write!(f, "{address} is also at {other} (DUP: keeping the first answer, {cached})")
            }
            Report::Host { address, mac, rtt_ms, late, duplicates } => {
                let width = if address.is_ipv4() { 15 } else { 25 };
                write!(f, "{:<width$}  {mac:<17}  {rtt_ms:>7.3} ms", address.to_string())?;
                if *late {
                    f.write_str("  (late)")?;
                }
                for dup in duplicates {
                    write!(f, "  (DUP: {dup})")?;
                }
                Ok(())
            }
            Report::Claimed { name } => write!(f, "you are {name}"),
            Report::NameTaken { name, by } => write!(f, "the name {name} is taken by {by}"),
            Report::Joined { name, .. } => write!(f, "{name} joined"),
            Report::Left { name, .. } => write!(f, "{name} left"),
            Report::Disappeared { name, .. } => write!(f, "{name} disappeared"),
            Report::Conflict { name, known, other } => {
                write!(f, "{name} is claimed by two stations: {known} and {other} (DUP)")
            }
            Report::List { stations } => {
                let width = stations.iter().map(|s| s.name.chars().count()).max().unwrap_or(4).max(4);
                writeln!(f, "{:<width$}  {:<17}  {:>9}  STATE", "NAME", "MAC", "LAST SEEN")?;
                for s in stations {
                    let seen = format!("{} s ago", s.last_seen_s);
                    writeln!(f, "{:<width$}  {}  {seen:>9}  {}", s.name, s.mac, s.state)?;
                }
                write!(f, "{} stations", stations.len())
            }
            Report::Message { from, payload } => write!(f, "message from {from}: {}", payload.line),
            Report::Sending { to, file, bytes } => write!(f, "sending {file} to {to}: {bytes} bytes"),
            Report::Sent { to, mac, bytes } => write!(f, "sent {bytes} bytes to {to} ({mac})"),
            Report::Answer { from, payload } => write!(f, "answer from {from}: {}", payload.line),
            Report::Delivered { to, mac, file: None, bytes, .. } => {
                write!(
                    f,
                    "delivered {bytes} bytes to {}",
                    or_mac(&Some(to.clone()), mac.as_deref().unwrap_or_default())
                )
            }
            Report::Delivered {
                to,
                file: Some(file),
                bytes,
                seconds: Some(seconds),
                mb_per_s: Some(rate),
                retransmits: Some(retransmits),
                timeouts: Some(timeouts),
                spurious: Some(spurious),
                sha256: Some(sha256),
                ..
            } => write!(
                f,
                "sent {file} to {to}: {bytes} bytes in {seconds:.3} s, {rate:.1} MB/s, {retransmits} segments sent \
                 again ({timeouts} after a timeout, {spurious} needlessly); the receiver verified sha256 {sha256}"
            ),
            Report::Delivered { to, file: Some(file), bytes, .. } => {
                write!(f, "delivered {file} to {to}: {bytes} bytes, sha256 verified")
            }
            Report::Undelivered { to, file: None, reason } => write!(f, "NOT delivered to {to}: {reason}"),
            Report::Undelivered { to, file: Some(file), reason } => write!(f, "NOT delivered {file} to {to}: {reason}"),
            Report::File { file, from, bytes, seconds, mb_per_s, sha256, path } => write!(
                f,
                "received {file} from {from}: {bytes} bytes in {seconds:.3} s, {mb_per_s:.1} MB/s, sha256 {sha256} -> {path}"
            ),
            Report::Dropped { file, from, reason } => write!(f, "dropped {file} from {from}: {reason}"),
            Report::Refused { from, mac, file, reason } => {
                let what = if file.is_some() { "a file" } else { "a transfer" };
                write!(f, "refused {what} from {from} ({mac}): {reason}")
            }
            Report::Failed { file, from, reason } => {
                write!(f, "transfer of {file} from {from} failed: {reason}; nothing was kept")
            }
            Report::Goodbye { name, mac, frames_in, frames_out } => {
                write!(f, "{name} ({mac}) said goodbye; {frames_in} presence frames in, {frames_out} out")
            }
            Report::Stats {
                rx_frames,
                data_in,
                foreign,
                malformed,
                truncated,
                not_for_us,
                requests_for_others,
                tx_frames,
                replies_sent,
                requests_sent,
                conflicts,
                data_out,
                files,
                messages,
            } => {
                f.write_str("stats: ")?;
                if let (Some(files), Some(messages)) = (files, messages) {
                    write!(f, "{files} files saved, {messages} messages; ")?;
                }
                write!(
                    f,
                    "rx {rx_frames} frames: {data_in} data, {foreign} foreign, {malformed} malformed, \
                     {truncated} truncated, {not_for_us} not for us, {requests_for_others} requests for others; \
                     tx {tx_frames} frames: {replies_sent} name-ARP replies, {requests_sent} requests, {data_out} data; \
                     {conflicts} conflicts"
                )
            }
            Report::Keyed {
                tx_signed,
                rx_verified,
                rx_second_key,
                rx_auth_failures,
                rx_replays,
                rx_stale_replies,
                rx_unadmitted,
                rx_reflected,
                rx_misdirected,
                rx_stale_handshakes,
                tx_challenges,
                tx_answers,
                admissions,
            } => write!(
                f,
                "keyed: {tx_signed} frames signed, {rx_verified} verified ({rx_second_key} with the second key); dropped {rx_auth_failures} with a bad or missing tag, \
                 {rx_replays} replayed, {rx_stale_replies} stale replies, {rx_unadmitted} from senders not admitted, \
                 {rx_reflected} reflected, {rx_misdirected} for other stations, {rx_stale_handshakes} stale handshakes; \
                 {tx_challenges} challenges sent, {tx_answers} answered, {admissions} senders admitted"
            ),
            Report::Echoed { frames } => write!(f, "echoed {frames} frames"),
            Report::Rtt { echoed, count, bytes, mode, min_us, median_us, p99_us, max_us } => write!(
                f,
                "{echoed} of {count} echoed, {bytes} bytes, {mode}: min {min_us:.1} us, median {median_us:.1} us, p99 {p99_us:.1} us, max {max_us:.1} us"
            ),
            Report::Injected { packets, bytes, seconds, pps, mbps, failed } => write!(
                f,
                "sent {packets} packets, {bytes} bytes in {seconds:.3} s: {pps:.0} pps, {mbps:.2} Mbps, {failed} failed"
            ),
            Report::Replayed { frames_in, frames_truncated, frames_out, output } => {
                write!(f, "replayed {frames_in} frames in")?;
                if *frames_truncated > 0 {
                    write!(f, " ({frames_truncated} cut short by the capture's snap length, skipped)")?;
                }
                write!(f, ", {frames_out} frames out -> {output}")
            }
            Report::Other { description } => f.write_str(description),
            Report::Frame(summary) => summary.fmt(f),
            Report::Interface { interface, mac, mtu, state, ethernet: _, ipv4, default_route } => {
                let marker = if *default_route { " (default route)" } else { "" };
                write!(f, "{interface:<16} {mac:<17} {mtu:>5}  {state:<10} {}{marker}", ipv4.join(" "))
            }
            Report::Key { path, bytes, fingerprint } => write!(
                f,
                "wrote a {bytes}-byte key to {path} (mode 0600, fingerprint {fingerprint}); copy it to every station of the group and give --key-file"
            ),
            Report::Keys { path, change, signing, also } => {
                write!(f, "keys {change}: {path} signs with {signing}")?;
                match also {
                    Some(also) => write!(f, " and also accepts {also}"),
                    None => write!(f, " and accepts no other key"),
                }
            }
        }
    }
}
