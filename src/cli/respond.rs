//! `whohas respond`: a station that answers for its name, prints what it
//! receives and, like the original VM2, can answer every message.

use std::path::PathBuf;

use serde_json::json;

use super::device::{self, Keyed, Open, Via};
use super::output::{Sink, Who, describe, event_json, print_json, print_line, text, unescape};
use super::{Failure, Global, Station, signals};
use crate::host::SystemClock;
use crate::node::{Context, Event, Node, Stats};
use crate::runtime::{Handler, Wait};
use crate::{Instant, LinkDevice, Name};

/// `whohas respond` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Who this station is.
    #[command(flatten)]
    pub station: Station,
    /// Answer every message with this text; `\n`, `\t`, `\\` and `\xNN`
    /// are escapes (VM2 answers 'Nice to meet you!\n').
    #[arg(long, value_name = "TEXT")]
    pub reply: Option<String>,
    /// Write received messages to stdout exactly as they arrived, instead
    /// of one escaped line each.
    #[arg(long, conflicts_with = "output")]
    pub raw: bool,
    /// Also write received messages, exactly as they arrived, to FILE.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Let every frame up from the kernel (no ethertype filter), so the node
    /// sorts out foreign traffic itself: for diagnostics and tests.
    #[arg(long)]
    pub all_frames: bool,
    /// How frames reach the interface.
    #[arg(long, value_enum, default_value_t)]
    pub via: Via,
}

/// How a handler shows what happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// One escaped line per event.
    Lines,
    /// One JSON object per event.
    Json,
    /// Nothing (`--raw` output, a quiet replay).
    Nothing,
}

/// VM2's behaviour as a handler: show each message (escaped, and exactly
/// into a sink if asked) and, if given a reply, answer its sender at once.
pub struct Responder {
    reply: Option<Vec<u8>>,
    /// The name shown for senders the node has no name for (the original
    /// program's PEERNAME).
    peer: Option<Name>,
    sink: Sink,
    show: Show,
    /// Prefix lines with the time since the first event (replays).
    stamps: Option<Option<Instant>>,
    failure: Option<Failure>,
}

impl Responder {
    /// A responder answering with `reply`, showing events as `show` says
    /// and writing exact payloads to `sink`.
    pub fn new(reply: Option<Vec<u8>>, sink: Sink, show: Show) -> Responder {
        Responder { reply, peer: None, sink, show, stamps: None, failure: None }
    }

    /// Shows `peer` as the sender of messages from unknown stations.
    pub fn with_peer_label(mut self, peer: Option<Name>) -> Responder {
        self.peer = peer;
        self
    }

    /// Prefixes lines with the time since the first event, as a replay does.
    pub fn with_timestamps(mut self) -> Responder {
        self.stamps = Some(None);
        self
    }

    /// The first failure while handling events (a full disk for `--output`,
    /// a closed stdout), which stopped the loop.
    pub fn finish(self) -> Result<(), Failure> {
        self.failure.map_or(Ok(()), Err)
    }

    fn line(&mut self, now: Instant, line: impl std::fmt::Display) -> Result<(), Failure> {
        match &mut self.stamps {
            None => print_line(line),
            Some(first) => {
                let since = now - *first.get_or_insert(now);
                let micros = since.total_micros();
                print_line(format_args!("{:>4}.{:06} {line}", micros / 1_000_000, micros % 1_000_000))
            }
        }
    }

    fn handle<D: LinkDevice, S, const C: usize, const P: usize, const Q: usize>(
        &mut self,
        ctx: &mut Context<'_, D, S, C, P, Q>,
        event: Event<'_>,
    ) -> Result<(), Failure> {
        let now = ctx.now();
        if let Event::Data { from, from_name, payload } = &event {
            self.sink.write(payload)?;
            match self.show {
                Show::Json => print_json(&event_json(&event))?,
                Show::Lines => {
                    let who = Who(from_name.as_ref().or(self.peer.as_ref()), *from).to_string();
                    self.line(now, format_args!("received from {who}: {}", text(payload)))?;
                }
                Show::Nothing => {}
            }
            if let Some(reply) = &self.reply {
                if let Err(err) = ctx.send_to_address(*from, reply) {
                    log::warn!("cannot answer {from}: {err}");
                } else {
                    match self.show {
                        Show::Json => print_json(&json!({ "event": "replied", "to": from.to_string() }))?,
                        Show::Lines => {
                            let reply = text(reply).to_string();
                            self.line(now, format_args!("replied to {from}: {reply}"))?;
                        }
                        Show::Nothing => {}
                    }
                }
            }
            return Ok(());
        }
        match (&event, self.show) {
            (_, Show::Json) => print_json(&event_json(&event)),
            (_, Show::Nothing) => Ok(()),
            (Event::Answered { requester }, Show::Lines) => {
                let name = ctx.name().clone();
                self.line(now, format_args!("answered who-has {name} from {requester}"))
            }
            (other, Show::Lines) => self.line(now, describe(other)),
        }
    }
}

impl<D: LinkDevice, S, const C: usize, const P: usize, const Q: usize> Handler<D, S, C, P, Q> for Responder {
    fn on_event(&mut self, ctx: &mut Context<'_, D, S, C, P, Q>, event: Event<'_>) {
        if let Err(failure) = self.handle(ctx, event) {
            self.failure.get_or_insert(failure);
            ctx.stop();
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, D, S, C, P, Q>) -> Option<Instant> {
        if signals::received() {
            ctx.stop();
        }
        None
    }
}

/// The counters a station prints when it stops.
pub fn stats_line(stats: &Stats) -> String {
    let (link, name_arp) = (stats.link, stats.name_arp);
    format!(
        "stats: rx {} frames: {} data, {} foreign, {} malformed, {} truncated, {} not for us, \
         {} requests for others; tx {} frames: {} name-ARP replies, {} data",
        link.rx_frames,
        stats.data.rx,
        link.rx_foreign,
        link.rx_malformed + name_arp.rx_malformed + stats.arp.rx_malformed,
        link.rx_truncated,
        link.rx_not_for_us,
        name_arp.rx_requests_for_others,
        link.tx_frames,
        name_arp.replies_sent,
        stats.data.tx,
    )
}

/// Prints the counters as a line or a JSON object.
pub fn print_stats(stats: &Stats, json: bool) -> Result<(), Failure> {
    if json {
        print_json(&json!({
            "event": "stats", "rx_frames": stats.link.rx_frames, "rx_data": stats.data.rx,
            "rx_foreign": stats.link.rx_foreign, "rx_truncated": stats.link.rx_truncated,
            "tx_frames": stats.link.tx_frames, "replies_sent": stats.name_arp.replies_sent,
        }))
    } else {
        print_line(stats_line(stats))
    }
}

/// Runs the responder on an open device until SIGINT or SIGTERM; prints the
/// counters at the end.
pub fn serve<D: Wait<Error: std::error::Error + 'static> + Keyed>(
    device: D,
    interface: &str,
    name: Name,
    config: crate::Config,
    mut responder: Responder,
) -> Result<(), Failure> {
    let mut node: Node<D> = Node::new(device, name, config);
    let (name, mac) = (node.name().clone(), node.mac_address());
    let show = responder.show;
    let banner = format!("{name} answering on {interface} ({mac})");
    match show {
        Show::Json => print_json(
            &json!({ "event": "listening", "name": name.to_string(), "interface": interface, "mac": mac.to_string() }),
        )?,
        Show::Lines => print_line(banner)?,
        // stdout holds the exact bytes received, and nothing else.
        Show::Nothing => eprintln!("{banner}"),
    }
    let outcome = node.run(&mut SystemClock::default(), &mut responder);
    responder.finish()?;
    outcome?;
    if let Some(auth) = node.device().auth_stats() {
        match show {
            Show::Json => print_json(&device::auth_json(&auth))?,
            Show::Lines => print_line(device::auth_line(&auth))?,
            Show::Nothing => eprintln!("{}", device::auth_line(&auth)),
        }
    }
    match show {
        Show::Json => print_stats(node.stats(), true),
        Show::Lines => print_stats(node.stats(), false),
        // stdout holds the exact bytes received, and nothing else.
        Show::Nothing => {
            eprintln!("{}", stats_line(node.stats()));
            Ok(())
        }
    }
}

/// Runs `whohas respond`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let interface = device::interface(global)?;
    let reply = args.reply.as_deref().map(unescape).transpose()?;
    let open = Open {
        ethertypes: if args.all_frames { None } else { Open::default().ethertypes },
        min_mtu: reply.as_ref().map_or(0, Vec::len),
        key: args.station.key()?,
        ..Open::default()
    };
    let device = device::open(&interface, args.via, &open)?;
    let sink = Sink::open(args.raw, args.output.as_deref())?;
    let show = match (global.json, sink.shows_lines()) {
        (_, false) => Show::Nothing,
        (true, true) => Show::Json,
        (false, true) => Show::Lines,
    };
    let responder = Responder::new(reply, sink, show);
    serve(device, &interface.name, args.station.name()?, args.station.config(), responder)
}
