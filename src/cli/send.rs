//! `whohas send`: a message or a file to a station by name, reliably over
//! the transfer (exit 0 only once the receiver acknowledged it: for a file,
//! once it verified the SHA-256); or, with `--datagram`, one data frame of
//! the original protocol, optionally waiting for its answer.

use std::path::{Path, PathBuf};
use std::time::Instant as StdInstant;

use indicatif::{ProgressBar, ProgressStyle};

use super::device::{self, Device, Open, Via};
use super::files::Outgoing;
use super::report::{Report, WireBytes};
use super::{Failure, Global, Station, TransferArgs, signals};
use crate::file_offer::{hex, verdict};
use crate::host::{SystemClock, WaitMode};
use crate::node::Node;
use crate::runtime::{Context, Handler, Wait};
use crate::station::Event;
use crate::storage::{HostResources, SenderTransfer};
use crate::transfer::{Failure as TransferFailure, MAX_SEGMENT, MessageId, TransferEvent};
use crate::{Duration, EthernetAddress, Instant, LinkDevice, Name};

/// `whohas send` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Who this station is.
    #[command(flatten)]
    pub station: Station,
    /// The peer's name.
    pub peer: Name,
    /// The message, sent as given (at most 1468 bytes: longer text goes
    /// with --file).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub message: Option<String>,
    /// Send this file instead of a message.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Send the message as one data frame of the original protocol,
    /// unacknowledged (what the original C program understands).
    #[arg(long, conflicts_with = "file")]
    pub datagram: bool,
    /// With --datagram: wait up to this many seconds for an answer and
    /// print it.
    #[arg(long, value_name = "SECONDS", requires = "datagram")]
    pub wait: Option<u64>,
    /// Transfer settings.
    #[command(flatten)]
    pub transfer: TransferArgs,
    /// How frames reach the interface.
    #[arg(long, value_enum, default_value_t)]
    pub via: Via,
}

/// What happened during an [`exchange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// The peer's name resolved to this MAC address.
    Resolved(EthernetAddress),
    /// The message left for this MAC address.
    Sent(EthernetAddress),
    /// The peer answered.
    Answer(&'a [u8]),
    /// A second station answered for the peer's name.
    Conflict(EthernetAddress),
}

/// Sends `message` to `peer` and waits: for the message to leave, then,
/// with `answer_within`, for a data frame back from the peer. Each step goes
/// to `report`.
struct Exchange<'a, R> {
    peer: &'a Name,
    interface: &'a str,
    config: crate::Config,
    answer_within: Option<Duration>,
    report: R,
    peer_mac: Option<EthernetAddress>,
    answer_by: Option<Instant>,
    outcome: Option<Result<(), Failure>>,
}

impl<R: FnMut(Step<'_>) -> Result<(), Failure>> Exchange<'_, R> {
    /// The message left for `mac` at `now`.
    fn sent(&mut self, now: Instant, mac: EthernetAddress) -> Result<(), Failure> {
        (self.report)(Step::Sent(mac))?;
        match self.answer_within {
            Some(within) => self.answer_by = Some(now + within),
            None => self.outcome = Some(Ok(())),
        }
        Ok(())
    }

    fn handle(&mut self, now: Instant, event: Event<'_>) -> Result<(), Failure> {
        match event {
            Event::Resolved { name, hardware_addr, .. } if name == *self.peer => {
                self.peer_mac = Some(hardware_addr);
                (self.report)(Step::Resolved(hardware_addr))?;
                // The queued message leaves in this poll.
                self.sent(now, hardware_addr)
            }
            Event::NameConflict { name, other, .. } if name == *self.peer => (self.report)(Step::Conflict(other)),
            Event::ResolutionFailed { name, .. } if name == *self.peer => {
                self.outcome = Some(Err(Failure::not_found(format!(
                    "no answer from {name} on {} after {} requests {} ms apart: is it running on the same \
                     Ethernet segment?",
                    self.interface,
                    self.config.max_attempts,
                    self.config.retry_interval.total_millis()
                ))));
                Ok(())
            }
            Event::Data { from, payload, .. } if Some(from) == self.peer_mac && self.answer_by.is_some() => {
                (self.report)(Step::Answer(payload))?;
                self.outcome = Some(Ok(()));
                Ok(())
            }
            other => {
                log::debug!("{other:?}");
                Ok(())
            }
        }
    }
}

impl<D, R> Handler<D> for Exchange<'_, R>
where
    D: LinkDevice,
    R: FnMut(Step<'_>) -> Result<(), Failure>,
{
    fn on_event(&mut self, ctx: &mut Context<'_, D, ()>, event: Event<'_>) {
        if let Err(failure) = self.handle(ctx.now(), event) {
            self.outcome = Some(Err(failure));
        }
        if self.outcome.is_some() {
            ctx.stop();
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, D, ()>) -> Option<Instant> {
        if let (Some(by), Some(within)) = (self.answer_by, self.answer_within)
            && ctx.now() >= by
        {
            let message = format!("{} did not answer within {} s", self.peer, within.total_millis() / 1000);
            self.outcome.get_or_insert(Err(Failure::not_found(message)));
        }
        if self.outcome.is_some() {
            ctx.stop();
        }
        self.answer_by
    }
}

/// Sends `message` to `peer` through `node`, resolving the name if it is
/// not cached, and waits up to `answer_within` for an answer; reports each
/// step to `report`. Fails with status 1 if the peer does not answer.
pub fn exchange<D>(
    node: &mut Node<'_, D>,
    clock: &mut SystemClock,
    interface: &str,
    peer: &Name,
    message: &[u8],
    answer_within: Option<Duration>,
    report: impl FnMut(Step<'_>) -> Result<(), Failure>,
) -> Result<(), Failure>
where
    D: Wait<Error: std::error::Error + 'static>,
{
    let config = *node.config();
    let mut exchange = Exchange {
        peer,
        interface,
        config,
        answer_within,
        report,
        peer_mac: node.at(clock.read()).lookup(peer),
        answer_by: None,
        outcome: None,
    };
    let now = clock.read();
    node.at(now).send(peer, message)?;
    // A cached peer's message is on its way (at once, or when the device
    // has room); otherwise it leaves when the name resolves.
    if let Some(mac) = exchange.peer_mac {
        exchange.sent(now, mac)?;
    }
    if exchange.outcome.is_none() {
        node.run(clock, &mut exchange)?;
    }
    exchange.outcome.unwrap_or_else(|| Err(Failure::interrupted("interrupted")))
}

/// Why a reliable transfer to `peer` did not succeed, as a failure with
/// status 1.
fn transfer_failure(failure: TransferFailure, peer: &Name, interface: &str, station: &Station) -> Failure {
    Failure::not_found(match failure {
        TransferFailure::Unresolved => format!(
            "no answer from {peer} on {interface} after {} requests {} ms apart: is it running on the same \
             Ethernet segment?",
            station.attempts, station.interval_ms
        ),
        TransferFailure::DeadPeer => format!("{peer} stopped answering"),
        other => format!("{peer}: {}", verdict::explain(other)),
    })
}

/// Waits for one reliable message to be acknowledged.
struct MessageSend<'a> {
    args: &'a Args,
    interface: &'a str,
    id: MessageId,
    outcome: Option<Result<(), Failure>>,
}

impl<'t> Handler<Device, &'t mut SenderTransfer> for MessageSend<'_> {
    fn on_event(&mut self, ctx: &mut Context<'_, Device, &'t mut SenderTransfer>, event: Event<'_, TransferEvent<'_>>) {
        match event {
            Event::Service(TransferEvent::Delivered { id }) if id == self.id => self.outcome = Some(Ok(())),
            Event::Service(TransferEvent::Failed { conn, failure }) if conn == self.id.conn => {
                self.outcome =
                    Some(Err(transfer_failure(failure, &self.args.peer, self.interface, &self.args.station)));
            }
            _ => {}
        }
        if self.outcome.is_some() {
            ctx.stop();
        }
    }
}

/// Feeds a file into its stream as the window allows, and waits for the
/// receiver's verdict.
struct FileSend<'a> {
    args: &'a Args,
    interface: &'a str,
    file: Outgoing,
    bar: ProgressBar,
    /// When the receiver accepted the connection: the rate is timed from
    /// then, as iperf3 times TCP's from its connection, so a name
    /// resolution sent again on a lossy link does not count as transfer.
    connected_at: Option<StdInstant>,
    outcome: Option<Result<(), Failure>>,
}

impl<'t> Handler<Device, &'t mut SenderTransfer> for FileSend<'_> {
    fn on_event(&mut self, ctx: &mut Context<'_, Device, &'t mut SenderTransfer>, event: Event<'_, TransferEvent<'_>>) {
        match event {
            Event::Service(TransferEvent::Connected { conn }) if conn == self.file.conn => {
                self.connected_at = Some(StdInstant::now());
            }
            Event::Service(TransferEvent::Closed { conn, status }) if conn == self.file.conn => {
                self.outcome = Some(match status {
                    verdict::OK => Ok(()),
                    code => Err(Failure::not_found(format!("{}: {}", self.args.peer, verdict::describe(code)))),
                });
            }
            Event::Service(TransferEvent::Failed { conn, failure }) if conn == self.file.conn => {
                self.outcome =
                    Some(Err(transfer_failure(failure, &self.args.peer, self.interface, &self.args.station)));
            }
            _ => {}
        }
        if self.outcome.is_some() {
            ctx.stop();
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, Device, &'t mut SenderTransfer>) -> Option<Instant> {
        if let Err(failure) = self.file.feed(ctx.services()) {
            self.outcome.get_or_insert(Err(failure));
        }
        if let Some(info) = ctx.services().info(self.file.conn) {
            self.bar.set_position(info.stats.bytes);
        }
        if self.outcome.is_some() {
            ctx.stop();
        }
        None
    }
}

/// `whohas send --file`.
fn send_file(
    global: &Global,
    args: &Args,
    path: &Path,
    node: &mut Node<'_, Device, &mut SenderTransfer>,
    interface: &str,
) -> Result<(), Failure> {
    let mut clock = signals::clock(WaitMode::Block);
    let file = Outgoing::offer(node.services_mut(), &args.peer, path, clock.read())?;
    let size = file.size;
    let bar = if global.quiet || global.json { ProgressBar::hidden() } else { ProgressBar::new(size) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = StdInstant::now();
    let mut sender = FileSend { args, interface, file, bar, connected_at: None, outcome: None };
    node.run(&mut clock, &mut sender)?;
    sender.bar.finish_and_clear();
    let outcome = sender.outcome.take().unwrap_or_else(|| {
        // Only a signal ends the loop without an outcome.
        let _ = node.services_mut().abort(sender.file.conn);
        Err(Failure::interrupted("interrupted: the transfer was aborted"))
    });
    let stats = *node.services().stats();
    let shown = sender.file.shown.clone();
    outcome?;
    // The receiver accepted the file, so all of it was read and hashed.
    let sha256 = sender.file.sha256().map(|digest| hex(&digest));
    let seconds = sender.connected_at.unwrap_or(started).elapsed().as_secs_f64().max(1e-6);
    Report::Delivered {
        to: args.peer.to_string(),
        mac: None,
        file: Some(shown),
        bytes: size,
        seconds: Some(seconds),
        mb_per_s: Some(size as f64 / seconds / 1e6),
        retransmits: Some(stats.retransmits),
        timeouts: Some(stats.timeouts),
        spurious: Some(stats.spurious),
        sha256,
    }
    .print(global.json)
}

/// `whohas send PEER TEXT`: one reliable message.
fn send_message(
    global: &Global,
    args: &Args,
    message: &[u8],
    node: &mut Node<'_, Device, &mut SenderTransfer>,
    interface: &str,
) -> Result<(), Failure> {
    let mut clock = signals::clock(WaitMode::Block);
    let id = node.services_mut().send_message(&args.peer, message, clock.read())?;
    let mut waiting = MessageSend { args, interface, id, outcome: None };
    node.run(&mut clock, &mut waiting)?;
    waiting.outcome.unwrap_or_else(|| Err(Failure::interrupted("interrupted before the message was acknowledged")))?;
    let mac = node
        .services()
        .info(id.conn)
        .and_then(|info| info.peer_mac)
        .or_else(|| node.at(clock.read()).lookup(&args.peer));
    Report::Delivered {
        to: args.peer.to_string(),
        mac: mac.map(|mac| mac.to_string()),
        file: None,
        bytes: message.len() as u64,
        seconds: None,
        mb_per_s: None,
        retransmits: None,
        timeouts: None,
        spurious: None,
        sha256: None,
    }
    .print(global.json)
}

/// `whohas send --datagram`.
fn send_datagram(global: &Global, args: &Args, message: &[u8], device: Device, interface: &str) -> Result<(), Failure> {
    let mut resources = HostResources::new();
    let mut node: Node<Device> = Node::new(device, args.station.name()?, args.station.config(), &mut resources);
    let json = global.json;
    let report = |step: Step<'_>| match step {
        Step::Resolved(_) => Ok(()),
        Step::Sent(mac) => {
            Report::Sent { to: args.peer.to_string(), mac: mac.to_string(), bytes: message.len() }.print(json)
        }
        Step::Answer(answer) => {
            Report::Answer { from: args.peer.to_string(), payload: WireBytes::new(answer) }.print(json)
        }
        Step::Conflict(other) => {
            log::warn!("a second station, {other}, answers for {} (DUP)", args.peer);
            Ok(())
        }
    };
    let within = args.wait.map(Duration::from_secs);
    exchange(&mut node, &mut signals::clock(WaitMode::Block), interface, &args.peer, message, within, report)
}

/// Runs `whohas send`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let interface = device::interface(global)?;
    let message = args.message.as_deref().map(str::as_bytes);
    if let Some(message) = message.filter(|message| !args.datagram && message.len() > MAX_SEGMENT) {
        return Err(Failure::error(format!(
            "a {}-byte message does not fit one frame (at most {MAX_SEGMENT} bytes); send it as a file with --file",
            message.len()
        )));
    }
    let min_mtu = if args.datagram { message.map_or(0, <[u8]>::len) } else { 0 };
    let device = device::open(
        &interface,
        args.via,
        &Open { min_mtu, key: args.station.key()?, json: global.json, ..Open::default() },
    )?;
    if args.datagram {
        return send_datagram(global, args, message.unwrap_or_default(), device, &interface.name);
    }
    let mut transfer: Box<SenderTransfer> = args.transfer.service(&device);
    let mut resources = HostResources::new();
    let mut node: Node<Device, &mut SenderTransfer> =
        Node::with_services(device, args.station.name()?, args.station.config(), &mut resources, &mut transfer);
    match (&args.file, message) {
        (Some(path), _) => send_file(global, args, path, &mut node, &interface.name),
        (None, Some(message)) => send_message(global, args, message, &mut node, &interface.name),
        (None, None) => Err(Failure::error("give a message or --file PATH")),
    }
}

/// Resolves `peer` through `node`, running it until the answer; fails with
/// status 1 (adding `hint`) if nobody answers.
pub fn resolve_or_fail<D>(
    node: &mut Node<'_, D>,
    clock: &mut SystemClock,
    peer: &Name,
    hint: &str,
) -> Result<EthernetAddress, Failure>
where
    D: Wait<Error: std::error::Error + 'static>,
{
    if let Some(mac) = node.at(clock.read()).resolve(peer)? {
        return Ok(mac);
    }
    let mut found: Option<Result<EthernetAddress, Failure>> = None;
    node.run(
        clock,
        &mut crate::runtime::from_fn(|ctx, event| {
            match event {
                Event::Resolved { name, hardware_addr, .. } if name == *peer => found = Some(Ok(hardware_addr)),
                Event::ResolutionFailed { name, .. } if name == *peer => {
                    found = Some(Err(Failure::not_found(format!("no answer from {name}; {hint}"))))
                }
                _ => return,
            }
            ctx.stop();
        }),
    )?;
    found.unwrap_or_else(|| Err(Failure::interrupted("interrupted before an answer")))
}
