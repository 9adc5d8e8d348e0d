//! `whohas respond`: a station that answers for its name, prints what it
//! receives and, like the original VM2, can answer every message.

use std::path::PathBuf;

use super::device::{self, Keyed, Open, Via};
use super::output::{Sink, print_line, unescape};
use super::report::{Report, WireBytes};
use super::{Failure, Global, Station, signals};
use crate::host::WaitMode;
use crate::node::Node;
use crate::runtime::{Context, Handler, NodeEvent, Wait};
use crate::service::Service;
use crate::storage::HostResources;
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

    /// Shows a report as `show` says, with a time stamp if asked.
    fn show(&mut self, now: Instant, report: &Report) -> Result<(), Failure> {
        match (self.show, &mut self.stamps) {
            (Show::Json, _) => report.print(true),
            (Show::Nothing, _) => Ok(()),
            (Show::Lines, None) => report.print(false),
            (Show::Lines, Some(first)) => {
                let micros = (now - *first.get_or_insert(now)).total_micros();
                print_line(format_args!("{:>4}.{:06} {report}", micros / 1_000_000, micros % 1_000_000))
            }
        }
    }

    fn handle<D: LinkDevice, S>(
        &mut self,
        ctx: &mut Context<'_, D, S>,
        event: crate::Event<'_>,
    ) -> Result<(), Failure> {
        let now = ctx.now();
        if let crate::Event::Data { payload, .. } = &event {
            self.sink.write(payload)?;
        }
        let mut report = Report::of(event.clone(), ctx.name());
        if let Report::Data { from_name: from_name @ None, .. } = &mut report {
            *from_name = self.peer.as_ref().map(Name::to_string);
        }
        self.show(now, &report)?;
        let (crate::Event::Data { from, .. }, Some(reply)) = (event, &self.reply) else { return Ok(()) };
        match ctx.send_to_address(from, reply) {
            Ok(_) => self.show(now, &Report::Replied { to: from.to_string(), payload: WireBytes::new(reply) }),
            Err(err) => {
                log::warn!("cannot answer {from}: {err}");
                Ok(())
            }
        }
    }
}

impl<D: LinkDevice, S: Service> Handler<D, S> for Responder {
    fn on_event(&mut self, ctx: &mut Context<'_, D, S>, event: NodeEvent<'_, S>) {
        // Services' events are theirs to show.
        let Ok(event) = event.node_event() else { return };
        if let Err(failure) = self.handle(ctx, event) {
            self.failure.get_or_insert(failure);
            ctx.stop();
        }
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
    let mut resources = HostResources::new();
    let mut node: Node<D> = Node::new(device, name, config, &mut resources);
    let show = responder.show;
    let listening = Report::Listening {
        name: node.name().to_string(),
        interface: interface.to_owned(),
        mac: node.mac_address().to_string(),
    };
    // With --raw, stdout holds the exact bytes received, and nothing else.
    let say = |report: Report| match show {
        Show::Nothing => {
            eprintln!("{report}");
            Ok(())
        }
        _ => report.print(show == Show::Json),
    };
    say(listening)?;
    let outcome = node.run(&mut signals::clock(WaitMode::Block), &mut responder);
    responder.finish()?;
    outcome?;
    if let Some(auth) = node.device().auth_stats() {
        say(device::keyed(&auth))?;
    }
    say(super::output::stats(node.stats(), None))
}

/// Runs `whohas respond`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let interface = device::interface(global)?;
    let reply = args.reply.as_deref().map(unescape).transpose()?;
    let open = Open {
        ethertypes: if args.all_frames { None } else { Open::default().ethertypes },
        min_mtu: reply.as_ref().map_or(0, Vec::len),
        key: args.station.key()?,
        json: global.json,
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
