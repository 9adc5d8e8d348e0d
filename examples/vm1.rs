//! VM1 of the seed: finds PEERNAME by name, sends it two messages (the
//! second with the cached MAC address, no new request), prints its answers
//! and exits 0; exits 1 with a one-line reason if the peer never answers.
//!
//! Run: `sudo cargo run --example vm1 -- eth0 VM1 VM2`

use std::process::ExitCode;

use clap::Parser;
use whohas::host::{self, Clock, WaitMode};
use whohas::linux::AfPacketDevice;
use whohas::node::{Event, Node};
use whohas::{Config, Duration, EthernetAddress, Name};

const FIRST: &[u8] = b"Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!";
const SECOND: &[u8] = b"I'm Glad to meet you again.";

/// Find PEERNAME on IFACE and greet it twice.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Ethernet interface to use (e.g. eth0).
    iface: String,
    /// This station's name.
    myname: Name,
    /// The name to look for.
    peername: Name,
    /// name-ARP requests before giving up.
    #[arg(long, default_value_t = 3)]
    attempts: u8,
    /// Milliseconds between requests.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// Seconds to wait for each answer to a message.
    #[arg(long, default_value_t = 5)]
    answer_timeout: u64,
}

type LinuxNode = Node<AfPacketDevice>;

/// Sends `message` to the peer and waits for a data frame back from it.
fn exchange(node: &mut LinuxNode, clock: &Clock, args: &Args, message: &[u8]) -> Result<(), String> {
    node.send(clock.now(), &args.peername, message).map_err(|err| err.to_string())?;
    let deadline = clock.now() + Duration::from_secs(args.answer_timeout);
    let mut peer: Option<EthernetAddress> = node.lookup(args.peername.as_bytes(), clock.now());
    let mut sent = peer.is_some();
    if sent {
        println!("sent to {}: {}", args.peername, String::from_utf8_lossy(message));
    }
    loop {
        let mut failure = None;
        let mut answer = None;
        host::turn(node, clock, Some(deadline), WaitMode::Block, |event| match event {
            Event::Resolved { name, hardware_addr } => {
                println!("{name} is at {hardware_addr}");
                peer = Some(hardware_addr);
            }
            Event::ResolutionFailed { name, .. } => failure = Some(format!("no answer from {name}")),
            Event::Data { from, payload, .. } if Some(from) == peer => {
                answer = Some(String::from_utf8_lossy(payload).trim_end().to_owned())
            }
            _ => {}
        })
        .map_err(|err| err.to_string())?;
        if let Some(failure) = failure {
            return Err(format!(
                "{failure} on {} after {} requests {} ms apart: is it running on the same Ethernet segment?",
                args.iface, args.attempts, args.interval_ms
            ));
        }
        if !sent && peer.is_some() {
            // The queued message left in the same poll that resolved the peer.
            println!("sent to {}: {}", args.peername, String::from_utf8_lossy(message));
            sent = true;
        }
        if let Some(answer) = answer {
            println!("received from {}: {answer}", args.peername);
            return Ok(());
        }
        if clock.now() >= deadline {
            return Err(format!("{} did not answer within {} s", args.peername, args.answer_timeout));
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let device = AfPacketDevice::open(&args.iface).map_err(|err| err.to_string())?;
    let config = Config {
        max_attempts: args.attempts.max(1),
        retry_interval: Duration::from_millis(args.interval_ms),
        ..Config::default()
    };
    let mut node: LinuxNode = Node::new(device, args.myname.clone(), config);
    let clock = Clock::new();
    println!("who has {}? asking on {} as {}", args.peername, args.iface, args.myname);
    exchange(&mut node, &clock, &args, FIRST)?;
    exchange(&mut node, &clock, &args, SECOND)?;
    println!("name-ARP requests sent: {}", node.stats().requests_sent);
    Ok(())
}

fn main() -> ExitCode {
    env_logger::init();
    whohas::host::exit("vm1", run(Args::parse()))
}
