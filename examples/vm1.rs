//! VM1 of the seed, with the original's arguments `IFACE MYNAME PEERNAME`:
//! finds PEERNAME by name, sends it two messages (the second with the cached
//! MAC address, no new request), prints its answers and exits 0; exits 1
//! with a one-line reason if the peer never answers.
//!
//! Each message is one `exchange` of the library (what `whohas send --wait`
//! does) on the same node, so the second finds the peer in the cache:
//!
//! `sudo cargo run --example vm1 -- eth0 VM1 VM2`

use std::process::ExitCode;

use clap::Parser;
use whohas::cli::output::{Failure, print_line, text};
use whohas::cli::send::{Step, exchange};
use whohas::host::SystemClock;
use whohas::linux::AfPacketDevice;
use whohas::node::Node;
use whohas::{Config, Duration, Name, Resources};

const FIRST: &[u8] = b"Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!";
const SECOND: &[u8] = b"I'm Glad to meet you again.";

/// Find PEERNAME on IFACE and greet it twice.
#[derive(Parser)]
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
}

fn run(args: Args) -> Result<(), Failure> {
    let config = Config {
        max_attempts: args.attempts.max(1),
        retry_interval: Duration::from_millis(args.interval_ms),
        ..Config::default()
    };
    let mut resources = Resources::<8>::new();
    let mut node: Node<_> = Node::new(AfPacketDevice::open(&args.iface)?, args.myname.clone(), config, &mut resources);
    let mut clock = SystemClock::default();
    let peer = &args.peername;
    print_line(format_args!("who has {peer}? asking on {} as {}", args.iface, args.myname))?;
    for message in [FIRST, SECOND] {
        exchange(&mut node, &mut clock, &args.iface, peer, message, Some(Duration::from_secs(5)), |step| match step {
            Step::Resolved(mac) => print_line(format_args!("{peer} is at {mac}")),
            Step::Sent(_) => print_line(format_args!("sent to {peer}: {}", text(message))),
            Step::Answer(answer) => print_line(format_args!("received from {peer}: {}", text(answer))),
            Step::Conflict(other) => print_line(format_args!("{peer} is also at {other} (DUP)")),
        })?;
    }
    print_line(format_args!("name-ARP requests sent: {}", node.stats().name_arp.requests_sent))
}

fn main() -> ExitCode {
    env_logger::init();
    run(Args::parse()).map_or_else(|failure| failure.report("vm1"), |()| ExitCode::SUCCESS)
}
