//! `whohas pingpong`: round-trip latency of data frames. One station echoes
//! every data frame back (`echo`), the other sends numbered frames one at a
//! time and times the echoes (`ping`). Each side answers from inside its
//! handler, the moment the frame is handled.

use std::time::Instant as StdInstant;

use clap::Subcommand;

use super::device::{self, Device, Open, Via};
use super::report::Report;
use super::{Failure, Global, signals};
use crate::host::{SystemClock, WaitMode};
use crate::linux::Interface;
use crate::node::Node;
use crate::runtime::{Context, Handler};
use crate::station::Event;
use crate::storage::HostResources;
use crate::{Config, Duration, EthernetAddress, Instant, Name};

/// `whohas pingpong` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which side.
    #[command(subcommand)]
    pub side: Side,
    /// Spin instead of sleeping while waiting for frames: lowest latency,
    /// one core at 100 %.
    #[arg(long, global = true)]
    pub busy_poll: bool,
    /// How frames reach the interface.
    #[arg(long, global = true, value_enum, default_value_t)]
    pub via: Via,
}

/// The two sides.
#[derive(Subcommand, Debug)]
pub enum Side {
    /// Echo every data frame back to its sender, as the station "echo",
    /// until stopped.
    Echo,
    /// Send frames to "echo" one at a time and report the round-trip times.
    Ping {
        /// Round trips to measure.
        #[arg(long, default_value_t = 10_000)]
        count: u32,
        /// Payload bytes per frame (at least 4).
        #[arg(long, default_value_t = 64)]
        size: usize,
    },
}

const ECHO: &str = "echo";
/// How long a ping waits for its echo before counting it lost.
const ECHO_TIMEOUT: Duration = Duration::from_secs(1);

/// Sends each data frame back to where it came from.
struct Echo {
    echoed: u64,
}

impl Handler<Device> for Echo {
    fn on_event(&mut self, ctx: &mut Context<'_, Device, ()>, event: Event<'_>) {
        if let Event::Data { from, payload, .. } = event {
            match ctx.send_to_address(from, payload) {
                Ok(_) => self.echoed += 1,
                Err(err) => log::warn!("cannot echo to {from}: {err}"),
            }
        }
    }
}

/// Sends numbered frames to the echo one at a time and times the answers.
struct Ping {
    echo: EthernetAddress,
    count: u32,
    payload: Vec<u8>,
    sequence: u32,
    sent_at: StdInstant,
    give_up_at: Instant,
    rtts: Vec<std::time::Duration>,
    lost: u32,
}

impl Ping {
    /// Sends frame `sequence` (or stops after the last).
    fn send_next(&mut self, ctx: &mut crate::Station<'_, Device>) {
        if self.sequence >= self.count {
            ctx.stop();
            return;
        }
        self.payload[..4].copy_from_slice(&self.sequence.to_be_bytes());
        self.sent_at = StdInstant::now();
        self.give_up_at = ctx.now() + ECHO_TIMEOUT;
        if let Err(err) = ctx.send_to_address(self.echo, &self.payload) {
            log::warn!("cannot send frame {}: {err}", self.sequence);
        }
    }
}

impl Handler<Device> for Ping {
    fn on_event(&mut self, ctx: &mut Context<'_, Device, ()>, event: Event<'_>) {
        if let Event::Data { from, payload, .. } = event
            && from == self.echo
            && payload.get(..4) == Some(&self.sequence.to_be_bytes()[..])
        {
            self.rtts.push(self.sent_at.elapsed());
            self.sequence += 1;
            self.send_next(ctx);
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, Device, ()>) -> Option<Instant> {
        if ctx.now() >= self.give_up_at {
            self.lost += 1;
            self.sequence += 1;
            self.send_next(ctx);
        }
        Some(self.give_up_at)
    }
}

struct PingPong<'a> {
    global: &'a Global,
    args: &'a Args,
}

impl PingPong<'_> {
    fn clock(&self) -> SystemClock {
        signals::clock(if self.args.busy_poll { WaitMode::BusyPoll } else { WaitMode::Block })
    }

    fn echo(&self, device: Device, interface: &Interface) -> Result<(), Failure> {
        let mut resources = HostResources::new();
        let mut node: Node<Device> = Node::new(device, Name::try_from(ECHO)?, Config::default(), &mut resources);
        let listening = Report::Listening {
            name: ECHO.to_owned(),
            interface: interface.name.clone(),
            mac: node.mac_address().to_string(),
        };
        listening.print(self.global.json)?;
        let mut echo = Echo { echoed: 0 };
        node.run(&mut self.clock(), &mut echo)?;
        Report::Echoed { frames: echo.echoed }.print(self.global.json)
    }

    fn ping(&self, device: Device, count: u32, size: usize) -> Result<(), Failure> {
        let mut resources = HostResources::new();
        let mut node: Node<Device> = Node::new(device, Name::try_from("ping")?, Config::default(), &mut resources);
        let mut clock = self.clock();
        // Resolve first, so the measurements hold only data round trips.
        let echo = super::send::resolve_or_fail(
            &mut node,
            &mut clock,
            &Name::try_from(ECHO)?,
            "start `whohas pingpong echo` on the other end",
        )?;
        let mut ping = Ping {
            echo,
            count,
            payload: vec![0u8; size.max(4)],
            sequence: 0,
            sent_at: StdInstant::now(),
            give_up_at: Instant::ZERO,
            rtts: Vec::with_capacity(count as usize),
            lost: 0,
        };
        ping.send_next(&mut node.at(clock.read()));
        node.run(&mut clock, &mut ping)?;
        self.report(ping, count, size.max(4))
    }

    fn report(&self, mut ping: Ping, count: u32, size: usize) -> Result<(), Failure> {
        if ping.rtts.is_empty() {
            return Err(Failure::not_found("no echo came back"));
        }
        ping.rtts.sort();
        let rtts = &ping.rtts;
        let micros = |i: usize| rtts[i.min(rtts.len() - 1)].as_secs_f64() * 1e6;
        let percentile = |p: f64| micros(((rtts.len() as f64) * p).ceil() as usize - 1);
        let mode = if self.args.busy_poll { "busy-poll" } else { "blocking" };
        Report::Rtt {
            echoed: rtts.len(),
            count: count as usize,
            bytes: size,
            mode,
            min_us: micros(0),
            median_us: percentile(0.5),
            p99_us: percentile(0.99),
            max_us: micros(rtts.len() - 1),
        }
        .print(self.global.json)?;
        if signals::received() {
            return Err(Failure::interrupted(format!("interrupted after {} of {count} round trips", rtts.len())));
        }
        Ok(())
    }
}

/// Runs `whohas pingpong`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let interface = device::interface(global)?;
    let min_mtu = match args.side {
        Side::Ping { size, .. } => size,
        Side::Echo => 0,
    };
    let device = device::open(&interface, args.via, &Open { min_mtu, ..Open::default() })?;
    let pingpong = PingPong { global, args };
    match args.side {
        Side::Echo => pingpong.echo(device, &interface),
        Side::Ping { count, size } => pingpong.ping(device, count, size),
    }
}
