//! Round-trip latency of whohas data frames: one station echoes every data
//! frame back, the other sends numbered frames one at a time and times the
//! echoes.
//!
//! ```text
//! pingpong echo -i eth0 [--busy-poll]                  # on one station
//! pingpong ping -i eth0 --count 10000 [--busy-poll]    # on the other
//! ```
//!
//! `--busy-poll` never sleeps in the kernel: lowest latency, one core at
//! 100 %. Without it each side sleeps in poll(2) until a frame arrives.

use std::process::ExitCode;
use std::time::Instant as StdInstant;

use clap::{Args, Parser, Subcommand};
use whohas::host::{self, Clock, WaitMode};
use whohas::linux::AfPacketDevice;
use whohas::node::{Event, Node};
use whohas::{Config, Duration, Name};

#[derive(Parser)]
#[command(version, about = "Measure the round-trip time of whohas data frames")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Echo every data frame back to its sender (as the station "echo").
    Echo {
        #[command(flatten)]
        common: Common,
    },
    /// Send frames to "echo" one at a time and report the round-trip times.
    Ping {
        #[command(flatten)]
        common: Common,
        /// Round trips to measure.
        #[arg(long, default_value_t = 10_000)]
        count: u32,
        /// Payload bytes per frame (at least 4).
        #[arg(long, default_value_t = 64)]
        size: usize,
    },
}

#[derive(Args)]
struct Common {
    /// Interface.
    #[arg(short, long)]
    interface: String,
    /// Spin instead of sleeping while waiting for frames.
    #[arg(long)]
    busy_poll: bool,
}

impl Common {
    fn mode(&self) -> WaitMode {
        if self.busy_poll { WaitMode::BusyPoll } else { WaitMode::Block }
    }
}

fn echo(common: &Common) -> Result<(), Box<dyn std::error::Error>> {
    let device = AfPacketDevice::open(&common.interface)?;
    let mut node: Node<_> = Node::new(device, Name::try_from("echo")?, Config::default());
    let clock = Clock::new();
    println!("echo answering on {}", common.interface);
    let mut frame = [0u8; 1500];
    loop {
        let mut echo = None;
        host::turn(&mut node, &clock, None, common.mode(), |event| {
            if let Event::Data { from, payload, .. } = event {
                frame[..payload.len()].copy_from_slice(payload);
                echo = Some((from, payload.len()));
            }
        })?;
        if let Some((to, len)) = echo {
            nb::block!(node.send_to_address(to, &frame[..len]))?;
        }
    }
}

fn ping(common: &Common, count: u32, size: usize) -> Result<(), Box<dyn std::error::Error>> {
    let device = AfPacketDevice::open(&common.interface)?;
    let mut node: Node<_> = Node::new(device, Name::try_from("ping")?, Config::default());
    let clock = Clock::new();
    let peer = Name::try_from("echo")?;
    // Resolve first so the measurements hold only data round trips.
    node.resolve(clock.now(), &peer)?;
    let deadline = clock.now() + Duration::from_secs(5);
    while node.lookup(peer.as_bytes(), clock.now()).is_none() {
        if clock.now() > deadline {
            return Err("no answer from the station \"echo\"; start `pingpong echo` on the other end".into());
        }
        host::turn(&mut node, &clock, Some(deadline), common.mode(), |_| {})?;
    }
    let mut payload = vec![0u8; size.max(4)];
    let mut rtts = Vec::with_capacity(count as usize);
    for sequence in 0..count {
        payload[..4].copy_from_slice(&sequence.to_be_bytes());
        let sent = StdInstant::now();
        node.send(clock.now(), &peer, &payload)?;
        let deadline = clock.now() + Duration::from_secs(1);
        let mut answered = false;
        while !answered && clock.now() < deadline {
            host::turn(&mut node, &clock, Some(deadline), common.mode(), |event| {
                if let Event::Data { payload: echoed, .. } = event {
                    answered |= echoed.get(..4) == Some(&sequence.to_be_bytes()[..]);
                }
            })?;
        }
        if answered {
            rtts.push(sent.elapsed());
        }
    }
    if rtts.is_empty() {
        return Err("no echo came back".into());
    }
    rtts.sort();
    let micros = |i: usize| rtts[i.min(rtts.len() - 1)].as_secs_f64() * 1e6;
    let percentile = |p: f64| micros(((rtts.len() as f64) * p).ceil() as usize - 1);
    println!(
        "{} of {count} echoed, {} bytes, {}: min {:.1} us, median {:.1} us, p99 {:.1} us, max {:.1} us",
        rtts.len(),
        payload.len(),
        if common.busy_poll { "busy-poll" } else { "blocking" },
        micros(0),
        percentile(0.5),
        percentile(0.99),
        micros(rtts.len() - 1)
    );
    Ok(())
}

fn main() -> ExitCode {
    env_logger::init();
    let outcome = match Cli::parse().command {
        Command::Echo { common } => echo(&common),
        Command::Ping { common, count, size } => ping(&common, count, size),
    };
    whohas::host::exit("pingpong", outcome)
}
