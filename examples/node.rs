//! A general whohas station on a Linux interface, for users who are neither
//! VM1 nor VM2: list interfaces, answer under a name, resolve a name, send a
//! message to a named peer.
//!
//! ```text
//! node interfaces
//! node respond -n alice [-i eth0] [--reply "got it"]
//! node resolve -n alice [-i eth0] bob
//! node send    -n alice [-i eth0] bob "hello bob" [--wait 5]
//! ```
//!
//! Without `-i`, the interface carrying the default route is used. Exit
//! status: 0 done, 1 the peer did not answer, 2 any other error.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use whohas::host::{self, Clock, WaitMode};
use whohas::linux::{AfPacketDevice, Options, interface};
use whohas::node::{Event, Node};
use whohas::{Config, Duration, EthernetAddress, Instant, Name};

#[derive(Parser)]
#[command(version, about = "A whohas station: answer under a name, resolve names, send messages")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List interfaces with their MAC, MTU, state and IPv4 addresses.
    Interfaces,
    /// Answer name-ARP requests for our name and print messages received.
    Respond {
        #[command(flatten)]
        station: Station,
        /// Answer every message with this text.
        #[arg(long)]
        reply: Option<String>,
    },
    /// Find a peer's MAC address by name.
    Resolve {
        #[command(flatten)]
        station: Station,
        /// The name to look up.
        peer: Name,
    },
    /// Send a message to a peer by name.
    Send {
        #[command(flatten)]
        station: Station,
        /// The peer's name.
        peer: Name,
        /// The message.
        message: String,
        /// Wait up to this many seconds for an answer and print it.
        #[arg(long)]
        wait: Option<u64>,
    },
}

#[derive(Args)]
struct Station {
    /// Interface (default: the one carrying the default route).
    #[arg(short, long)]
    interface: Option<String>,
    /// Our name.
    #[arg(short, long)]
    name: Name,
    /// name-ARP requests before giving up.
    #[arg(long, default_value_t = 3)]
    attempts: u8,
    /// Milliseconds between requests.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
}

enum Failure {
    /// The peer never answered (exit 1).
    NoAnswer(String),
    /// Anything else (exit 2).
    Error(String),
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(err: E) -> Self {
        Failure::Error(err.to_string())
    }
}

type LinuxNode = Node<AfPacketDevice>;

impl Station {
    fn open(&self, min_mtu: usize) -> Result<(LinuxNode, String), Failure> {
        let name = match &self.interface {
            Some(name) => name.clone(),
            None => interface::default_interface()?.name,
        };
        let device = AfPacketDevice::open_with(&name, &Options { min_mtu, ..Options::default() })?;
        let config = Config {
            max_attempts: self.attempts.max(1),
            retry_interval: Duration::from_millis(self.interval_ms),
            ..Config::default()
        };
        Ok((Node::new(device, self.name.clone(), config), name))
    }
}

/// Runs the node until `until` passes or `done` says so.
fn run_until(
    node: &mut LinuxNode,
    clock: &Clock,
    until: Option<Instant>,
    mut on_event: impl FnMut(Event<'_>) -> Option<Result<(), Failure>>,
) -> Result<Option<()>, Failure> {
    loop {
        let mut outcome = None;
        host::turn(node, clock, until, WaitMode::Block, |event| {
            if outcome.is_none() {
                outcome = on_event(event);
            }
        })?;
        if let Some(outcome) = outcome {
            return outcome.map(Some);
        }
        if until.is_some_and(|until| clock.now() >= until) {
            return Ok(None);
        }
    }
}

fn list_interfaces() -> Result<(), Failure> {
    let default = interface::default_route()?.map(|route| route.interface);
    println!("{:<16} {:<17} {:>5}  {:<5} IPv4", "INTERFACE", "MAC", "MTU", "STATE");
    for i in interface::list()? {
        let state = if !i.up {
            "down"
        } else if i.running {
            "up"
        } else {
            "no-carrier"
        };
        let ipv4: Vec<String> = i.ipv4.iter().map(ToString::to_string).collect();
        let marker = if default.as_deref() == Some(&i.name) { " (default route)" } else { "" };
        println!("{:<16} {:<17} {:>5}  {:<5} {}{marker}", i.name, i.mac, i.mtu, state, ipv4.join(" "));
    }
    Ok(())
}

fn respond(station: &Station, reply: Option<&str>) -> Result<(), Failure> {
    let (mut node, interface) = station.open(reply.map_or(0, str::len))?;
    let clock = Clock::new();
    println!("{} answering on {interface} ({})", station.name, node.mac_address());
    loop {
        let mut answer_to: Option<EthernetAddress> = None;
        run_until(&mut node, &clock, None, |event| {
            match event {
                Event::Data { from, from_name, payload } => {
                    let who = from_name.map_or_else(|| from.to_string(), |name| format!("{name} ({from})"));
                    println!("from {who}: {}", String::from_utf8_lossy(payload).trim_end());
                    answer_to = Some(from);
                }
                Event::Answered { requester } => println!("answered {requester}"),
                _ => return None,
            }
            Some(Ok(()))
        })?;
        if let (Some(to), Some(reply)) = (answer_to, reply) {
            nb::block!(node.send_to_address(to, reply.as_bytes()))?;
        }
    }
}

fn resolve(station: &Station, peer: &Name) -> Result<(), Failure> {
    let (mut node, interface) = station.open(0)?;
    let clock = Clock::new();
    node.resolve(clock.now(), peer)?;
    run_until(&mut node, &clock, None, |event| match event {
        Event::Resolved { name, hardware_addr } => {
            println!("{name} is at {hardware_addr}");
            Some(Ok(()))
        }
        Event::ResolutionFailed { name, .. } => Some(Err(Failure::NoAnswer(format!(
            "no answer for {name} on {interface} after {} requests",
            station.attempts
        )))),
        _ => None,
    })
    .map(drop)
}

fn send(station: &Station, peer: &Name, message: &str, wait: Option<u64>) -> Result<(), Failure> {
    let (mut node, interface) = station.open(message.len())?;
    let clock = Clock::new();
    node.send(clock.now(), peer, message.as_bytes())?;
    let mut peer_mac = node.lookup(peer.as_bytes(), clock.now());
    if peer_mac.is_none() {
        run_until(&mut node, &clock, None, |event| match event {
            Event::Resolved { hardware_addr, .. } => {
                peer_mac = Some(hardware_addr);
                Some(Ok(()))
            }
            Event::ResolutionFailed { name, .. } => Some(Err(Failure::NoAnswer(format!(
                "no answer for {name} on {interface} after {} requests; the message was not sent",
                station.attempts
            )))),
            _ => None,
        })?;
        // The queued message leaves on the poll after resolution.
        node.poll(clock.now(), |_| {})?;
    }
    println!("sent {} bytes to {peer} ({})", message.len(), peer_mac.unwrap_or_default());
    let Some(seconds) = wait else { return Ok(()) };
    let until = clock.now() + Duration::from_secs(seconds);
    let answered = run_until(&mut node, &clock, Some(until), |event| match event {
        Event::Data { from, payload, .. } if Some(from) == peer_mac => {
            println!("answer from {peer}: {}", String::from_utf8_lossy(payload).trim_end());
            Some(Ok(()))
        }
        _ => None,
    })?;
    answered.ok_or_else(|| Failure::NoAnswer(format!("{peer} did not answer within {seconds} s")))
}

fn main() -> ExitCode {
    env_logger::init();
    let outcome = match Cli::parse().command {
        Command::Interfaces => list_interfaces(),
        Command::Respond { station, reply } => respond(&station, reply.as_deref()),
        Command::Resolve { station, peer } => resolve(&station, &peer),
        Command::Send { station, peer, message, wait } => send(&station, &peer, &message, wait),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::NoAnswer(reason)) => {
            eprintln!("node: {reason}");
            ExitCode::from(1)
        }
        Err(Failure::Error(reason)) => {
            eprintln!("node: {reason}");
            ExitCode::from(2)
        }
    }
}
