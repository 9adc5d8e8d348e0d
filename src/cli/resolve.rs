//! `whohas resolve`: find a station's MAC address by name, and notice a
//! second station answering for the same name.

use serde_json::json;

use super::device::{self, Device, Open, Via};
use super::output::{describe, event_json, print_json, print_line};
use super::{Failure, Global, Station, signals};
use crate::host::SystemClock;
use crate::node::{Context, Event, Node};
use crate::runtime::Handler;
use crate::{Duration, Instant, LinkDevice, Name};

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
    fn handle(&mut self, now: Instant, event: &Event<'_>) -> Result<(), Failure> {
        let peer = &self.args.peer;
        match event {
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
                if self.json { print_json(&event_json(event)) } else { print_line(describe(event)) }
            }
            _ => Ok(()),
        }
    }
}

impl<D: LinkDevice, S, const C: usize, const P: usize, const Q: usize> Handler<D, S, C, P, Q> for Lookup<'_> {
    fn on_event(&mut self, ctx: &mut Context<'_, D, S, C, P, Q>, event: Event<'_>) {
        if let Err(failure) = self.handle(ctx.now(), &event) {
            self.outcome = Some(Err(failure));
        }
        if self.outcome.is_some() {
            ctx.stop();
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, D, S, C, P, Q>) -> Option<Instant> {
        if signals::received() {
            self.outcome.get_or_insert(Err(Failure::interrupted("interrupted before an answer")));
        } else if self.until.is_some_and(|until| ctx.now() >= until) {
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
    let mut node: Node<Device> = Node::new(device, args.station.name()?, args.station.config());
    let mut clock = SystemClock::default();
    node.resolve(clock.read(), &args.peer)?;
    let json = global.json;
    let mut lookup = Lookup { args, interface: &interface.name, json, until: None, outcome: None };
    node.run(&mut clock, &mut lookup)?;
    let outcome = lookup.outcome.unwrap_or(Ok(()));
    if json {
        let stats = node.stats().name_arp;
        print_json(&json!({ "event": "stats", "requests_sent": stats.requests_sent, "conflicts": stats.conflicts }))?;
    }
    outcome
}
