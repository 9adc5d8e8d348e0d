//! `whohas receive`: accepts reliable transfers. Files go to a directory:
//! written under a temporary name, checked against the size and SHA-256 the
//! sender offered, then linked under their own name (never over an existing
//! file, never outside the directory) and the sender told the verdict.
//! Messages are printed. One line per file or message; until SIGINT/SIGTERM.

use std::path::PathBuf;

use serde_json::json;

use super::device::{self, Device, Keyed, Open, Via};
use super::files::{Arrival, Inbox};
use super::output::{Who, describe, json_bytes, print_json, print_line, text};
use super::{Failure, Global, ReceiverTransfer, Station, TransferArgs, signals};
use crate::file_offer::verdict;
use crate::host::SystemClock;
use crate::node::{Context, Event, Node};
use crate::runtime::Handler;
use crate::transfer::{ConnId, Transfer, TransferEvent};
use crate::{EthernetAddress, Instant, LinkDevice, Name};

/// `whohas receive` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Who this station is.
    #[command(flatten)]
    pub station: Station,
    /// Where received files go.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Accept transfers only from these stations.
    #[arg(long, value_delimiter = ',', value_name = "NAME[,NAME...]")]
    pub accept: Vec<Name>,
    /// Transfer settings.
    #[command(flatten)]
    pub transfer: TransferArgs,
    /// How frames reach the interface.
    #[arg(long, value_enum, default_value_t)]
    pub via: Via,
}

/// The receiving application.
struct Receiver<'a> {
    accept: &'a [Name],
    json: bool,
    inbox: Inbox,
    saved: u64,
    messages: u64,
    failure: Option<Failure>,
}

impl Receiver<'_> {
    fn say(&self, line: impl std::fmt::Display, value: serde_json::Value) -> Result<(), Failure> {
        if self.json { print_json(&value) } else { print_line(line) }
    }

    /// A transfer is offered: accept it (a file gets a temporary file) or
    /// return the status to refuse it with.
    fn offered(
        &mut self,
        conn: ConnId,
        from: &Name,
        mac: EthernetAddress,
        messages: bool,
        header: &[u8],
    ) -> Result<u16, Failure> {
        let who = Who(Some(from), mac);
        if !self.accept.is_empty() && !self.accept.contains(from) {
            self.say(
                format_args!("refused a transfer from {who}: not in --accept"),
                json!({ "event": "refused", "from": from.to_string(), "reason": "not accepted" }),
            )?;
            return Ok(verdict::REFUSED);
        }
        if messages {
            return Ok(verdict::OK);
        }
        match self.inbox.offered(conn, from, header) {
            Ok(()) => Ok(verdict::OK),
            Err((status, reason)) => {
                self.say(
                    format_args!("refused a transfer from {who}: {reason}"),
                    json!({ "event": "refused", "from": from.to_string(), "reason": reason }),
                )?;
                Ok(status)
            }
        }
    }

    /// What became of a file that arrived whole.
    fn arrived(&mut self, arrival: Arrival) -> Result<(), Failure> {
        match arrival {
            Arrival::Saved(f) => {
                self.saved += 1;
                let rate = f.bytes as f64 / f.seconds / 1e6;
                self.say(
                    format_args!(
                        "received {} from {}: {} bytes in {:.3} s, {rate:.1} MB/s, sha256 {} -> {}",
                        f.name, f.from, f.bytes, f.seconds, f.sha256, f.path
                    ),
                    json!({
                        "event": "file", "file": f.name, "from": f.from.to_string(), "bytes": f.bytes,
                        "seconds": f.seconds, "mb_per_s": rate, "sha256": f.sha256, "path": f.path,
                    }),
                )
            }
            Arrival::Dropped { name, from, reason } => self.say(
                format_args!("dropped {name} from {from}: {reason}"),
                json!({ "event": "dropped", "file": name, "from": from.to_string(), "reason": reason }),
            ),
        }
    }

    fn handle<const NC: usize, const W: usize>(
        &mut self,
        transfer: &mut Transfer<NC, W>,
        event: TransferEvent<'_>,
    ) -> Result<(), Failure> {
        match event {
            TransferEvent::Incoming { conn, from, mac, messages, header } => {
                let status = self.offered(conn, &from, mac, messages, header)?;
                if status != verdict::OK {
                    let _ = transfer.reject(conn, status);
                }
            }
            TransferEvent::Received { conn, data } => self.inbox.received(transfer, conn, data),
            TransferEvent::Message { from, data, .. } => {
                self.messages += 1;
                self.say(
                    format_args!("message from {from}: {}", text(data)),
                    json!({ "event": "message", "from": from.to_string(), "payload": json_bytes(data) }),
                )?;
            }
            TransferEvent::Finished { conn } => {
                if let Some(arrival) = self.inbox.finished(transfer, conn) {
                    self.arrived(arrival)?;
                }
            }
            TransferEvent::Failed { conn, failure } => {
                if let Some((name, from)) = self.inbox.failed(conn) {
                    self.say(
                        format_args!("transfer of {name} from {from} failed: {failure}; nothing was kept"),
                        json!({ "event": "failed", "file": name, "from": from.to_string(), "reason": failure.to_string() }),
                    )?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl<'t, D, const NC: usize, const W: usize, const C: usize, const P: usize, const Q: usize>
    Handler<D, &'t mut Transfer<NC, W>, C, P, Q> for Receiver<'_>
where
    D: LinkDevice,
{
    fn on_event(&mut self, ctx: &mut Context<'_, D, &'t mut Transfer<NC, W>, C, P, Q>, event: Event<'_>) {
        let outcome = match event {
            Event::Transfer(event) => self.handle(ctx.services(), event),
            Event::Answered { .. } => Ok(()),
            other => self.say(describe(&other), super::output::event_json(&other)),
        };
        if let Err(failure) = outcome {
            self.failure.get_or_insert(failure);
            ctx.stop();
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, D, &'t mut Transfer<NC, W>, C, P, Q>) -> Option<Instant> {
        if signals::received() {
            ctx.stop();
        }
        None
    }
}

/// Runs `whohas receive`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let inbox = Inbox::new(&args.dir)?;
    let interface = device::interface(global)?;
    let device = device::open(&interface, args.via, &Open { key: args.station.key()?, ..Open::default() })?;
    let mut transfer: Box<ReceiverTransfer> = args.transfer.service(&device);
    let mut node: Node<Device, &mut ReceiverTransfer> =
        Node::with_services(device, args.station.name()?, args.station.config(), &mut transfer);
    let (name, mac) = (node.name().clone(), node.mac_address());
    let mut receiver =
        Receiver { accept: &args.accept, json: global.json, inbox, saved: 0, messages: 0, failure: None };
    receiver.say(
        format_args!("{name} receiving on {} ({mac}) into {}", interface.name, args.dir.display()),
        json!({ "event": "listening", "name": name.to_string(), "interface": interface.name, "mac": mac.to_string() }),
    )?;
    let outcome = node.run(&mut SystemClock::default(), &mut receiver);
    if let Some(failure) = receiver.failure.take() {
        return Err(failure);
    }
    outcome?;
    let stats = *node.services().stats();
    receiver.say(
        format_args!(
            "stats: {} files saved, {} messages; {} frames in, {} out, {} checksum failures",
            receiver.saved, receiver.messages, stats.frames_received, stats.frames_sent, stats.rx_checksum
        ),
        json!({ "event": "stats", "files": receiver.saved, "messages": receiver.messages, "frames_in": stats.frames_received, "frames_out": stats.frames_sent }),
    )?;
    match node.device().auth_stats() {
        Some(auth) => receiver.say(device::auth_line(&auth), device::auth_json(&auth)),
        None => Ok(()),
    }
}
