//! `whohas resolve`: find a station's MAC address by name (name-ARP) or by
//! IPv6 address (neighbour solicitation, like `ndisc6`), and notice a
//! second station answering for the same one.

use std::net::Ipv6Addr;

use super::device::{self, Device, Open, Via};
use super::report::Report;
use super::{Failure, Global, Station, signals};
use crate::host::WaitMode;
use crate::node::Node;
use crate::runtime::{Context, Handler};
use crate::station::Event;
use crate::storage::HostResources;
use crate::wire::EtherType;
use crate::{Duration, Instant, Name};

/// `whohas resolve` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Who this station is.
    #[command(flatten)]
    pub station: Station,
    /// The name to look up (with `--ipv6`, an IPv6 address).
    pub peer: String,
    /// PEER is an IPv6 address, resolved by neighbour solicitation to its
    /// solicited-node group (RFC 4861), like `ndisc6`.
    #[arg(long)]
    pub ipv6: bool,
    /// After the answer, listen this many milliseconds for a second station
    /// answering for the same name (reported as DUP).
    #[arg(long, default_value_t = 100, value_name = "MS")]
    pub linger_ms: u64,
    /// How frames reach the interface.
    #[arg(long, value_enum, default_value_t)]
    pub via: Via,
}

/// What is looked up.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Name(Name),
    Ipv6(Ipv6Addr),
}

impl Target {
    fn of(args: &Args) -> Result<Target, Failure> {
        if args.ipv6 {
            let address = args.peer.parse().map_err(|_| {
                Failure::error(format!("{:?} is not an IPv6 address (like 2001:db8::2 or fe80::1)", args.peer))
            })?;
            return Ok(Target::Ipv6(address));
        }
        Ok(Target::Name(Name::try_from(args.peer.as_str())?))
    }

    /// Whether `event` answers this lookup: `Some(true)` for the answer,
    /// `Some(false)` for a second station's, `None` otherwise.
    fn answered_by(&self, event: &Event<'_>) -> Option<bool> {
        match (self, event) {
            (Target::Name(peer), Event::Resolved { name, .. }) if name == peer => Some(true),
            (Target::Name(peer), Event::NameConflict { name, .. }) if name == peer => Some(false),
            (Target::Ipv6(peer), Event::Ipv6Resolved { address, .. }) if address == peer => Some(true),
            (Target::Ipv6(peer), Event::Ipv6Conflict { address, .. }) if address == peer => Some(false),
            _ => None,
        }
    }

    fn failed(&self, event: &Event<'_>) -> bool {
        match (self, event) {
            (Target::Name(peer), Event::ResolutionFailed { name, .. }) => name == peer,
            (Target::Ipv6(peer), Event::Ipv6ResolutionFailed { address }) => address == peer,
            _ => false,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Name(name) => write!(f, "{name}"),
            Target::Ipv6(address) => write!(f, "{address}"),
        }
    }
}

/// Prints the answer, lingers for duplicates, then stops.
struct Lookup<'a> {
    args: &'a Args,
    target: Target,
    interface: &'a str,
    json: bool,
    until: Option<Instant>,
    outcome: Option<Result<(), Failure>>,
}

impl Lookup<'_> {
    /// Reports `event`; sets the outcome once the lookup is over.
    fn handle(&mut self, now: Instant, me: &Name, event: Event<'_>) -> Result<(), Failure> {
        if self.target.failed(&event) {
            let station = &self.args.station;
            self.outcome = Some(Err(Failure::not_found(format!(
                "no answer from {} on {} after {} requests {} ms apart: is it running on the same Ethernet segment?",
                self.target, self.interface, station.attempts, station.interval_ms
            ))));
            return Ok(());
        }
        match self.target.answered_by(&event) {
            Some(first) => {
                if first {
                    self.until = Some(now + Duration::from_millis(self.args.linger_ms));
                }
                Report::of(event, me).print(self.json)
            }
            None => Ok(()),
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
    let target = Target::of(args)?;
    let interface = device::interface(global)?;
    let mut open = Open { key: args.station.key()?, json: global.json, ..Open::default() };
    if let (Target::Ipv6(_), Some(ethertypes)) = (&target, &mut open.ethertypes) {
        ethertypes.push(EtherType::IPV6);
    }
    let device = device::open(&interface, args.via, &open)?;
    let mut resources = HostResources::new();
    let mut node: Node<Device> = Node::new(device, args.station.name()?, args.station.config(), &mut resources);
    let mut clock = signals::clock(WaitMode::Block);
    match &target {
        Target::Name(name) => node.at(clock.read()).resolve(name).map(drop)?,
        Target::Ipv6(address) => node.at(clock.read()).resolve_ipv6(*address).map(drop)?,
    }
    let json = global.json;
    let mut lookup = Lookup { args, target, interface: &interface.name, json, until: None, outcome: None };
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
