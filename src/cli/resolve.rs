//! `whohas resolve`: find a station's MAC address by name, and notice a
//! second station answering for the same name.

use super::device::{self, Device, Open, Via};
use super::report::Report;
use super::{Failure, Global, Station, signals};
use crate::host::WaitMode;
use crate::node::Node;
use crate::runtime::{Context, Handler};
use crate::station::Event;
use crate::storage::HostResources;
use crate::{Duration, Instant, Name};

/// `whohas resolve` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Who this station is.
    #[command(flatten)]
    pub station: Station,
    /// The name to look up.
    pub peer: Name,
    /// After the answer, listen this many milliseconds for a second station
    /// answering for the same name (reported as DUP).
    #[arg(long, default_value_t = 100, value_name = "MS")]
    pub linger_ms: u64,
    /// How frames reach the interface.
    #[arg(long, value_enum, default_value_t)]
    pub via: Via,
}

/// Prints the answer, lingers for duplicates, then stops.
struct Lookup<'a> {
    args: &'a Args,
    interface: &'a str,
    json: bool,
    until: Option<Instant>,
    outcome: Option<Result<(), Failure>>,
}

impl Lookup<'_> {
    /// Reports `event`; sets the outcome once the lookup is over.
    fn handle(&mut self, now: Instant, me: &Name, event: Event<'_>) -> Result<(), Failure> {
        let peer = &self.args.peer;
        match &event {
            Event::ResolutionFailed { name, .. } if name == peer => {
                let station = &self.args.station;
                self.outcome = Some(Err(Failure::not_found(format!(
                    "no answer from {peer} on {} after {} requests {} ms apart: is it running on the same \
                     Ethernet segment?",
                    self.interface, station.attempts, station.interval_ms
                ))));
                Ok(())
            }
            Event::Resolved { name, .. } | Event::NameConflict { name, .. } if name == peer => {
                if matches!(event, Event::Resolved { .. }) {
                    self.until = Some(now + Duration::from_millis(self.args.linger_ms));
                }
                Report::of(event, me).print(self.json)
            }
            _ => Ok(()),
        }
    }
}

impl Handler<Device> for Lookup<'_> {
    fn on_event(&mut self, ctx: &mut Context<'_, Device, ()>, event: Event<'_>) {
        let me = ctx.name().clone();
        if let Err(failure) = self.handle(ctx.now(), &me, event) {
            self.outcome = Some(Err(failure));
        }
        if self.outcome.is_some() {
            ctx.stop();
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, Device, ()>) -> Option<Instant> {
        if self.until.is_some_and(|until| ctx.now() >= until) {
            self.outcome.get_or_insert(Ok(()));
        }
        if self.outcome.is_some() {
            ctx.stop();
        }
        self.until
    }
}

/// Runs `whohas resolve`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let interface = device::interface(global)?;
    let device = device::open(&interface, args.via, &Open { key: args.station.key()?, ..Open::default() })?;
    let mut resources = HostResources::new();
    let mut node: Node<Device> = Node::new(device, args.station.name()?, args.station.config(), &mut resources);
    let mut clock = signals::clock(WaitMode::Block);
    node.at(clock.read()).resolve(&args.peer)?;
    let json = global.json;
    let mut lookup = Lookup { args, interface: &interface.name, json, until: None, outcome: None };
    node.run(&mut clock, &mut lookup)?;
    let outcome = match lookup.outcome {
        Some(outcome) => outcome,
        None if signals::received() => Err(Failure::interrupted("interrupted before an answer")),
        None => Ok(()),
    };
    if json {
        super::output::stats(node.stats(), None).print(true)?;
    }
    outcome
}
