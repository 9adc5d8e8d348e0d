//! VM2 of the seed: answers name-ARP requests for its name forever, prints
//! every data frame it receives and answers each with "Nice to meet you!\n".
//! On SIGINT or SIGTERM it prints its counters and exits 0.
//!
//! Run: `sudo cargo run --example vm2 -- eth0 VM2 VM1`

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use whohas::host::{self, Clock, Wait, WaitMode};
use whohas::linux::{AfPacketDevice, Options};
use whohas::node::{Event, Node};
use whohas::pcap::{LiveDevice, LiveOptions};
use whohas::{Config, Name};

const ANSWER: &[u8] = b"Nice to meet you!\n";

/// Answer for MYNAME on IFACE and greet whoever writes.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Ethernet interface to listen on (e.g. eth0).
    iface: String,
    /// This station's name.
    myname: Name,
    /// The peer's name (VM1); only used to label its messages.
    peername: Option<Name>,
    /// Let every frame up from the kernel (no BPF ethertype filter), so the
    /// node itself sorts out foreign traffic. For diagnostics and tests.
    #[arg(long)]
    all_frames: bool,
    /// Capture and inject through libpcap instead of an AF_PACKET socket.
    #[arg(long)]
    pcap: bool,
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    if args.pcap {
        let filter = if args.all_frames { None } else { LiveOptions::default().filter };
        serve(&args, LiveDevice::open(&args.iface, &LiveOptions { filter, ..LiveOptions::default() })?, &stop)
    } else {
        let ethertypes = if args.all_frames { None } else { Options::default().ethertypes };
        serve(&args, AfPacketDevice::open_with(&args.iface, &Options { ethertypes, ..Options::default() })?, &stop)
    }
}

/// Answers on `device` until `stop` is set.
fn serve<D: Wait<Error: std::error::Error + 'static>>(
    args: &Args,
    device: D,
    stop: &AtomicBool,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("{} listening on {} ({})", args.myname, args.iface, device.mac_address());
    let mut node: Node<D> = Node::new(device, args.myname.clone(), Config::default());
    let clock = Clock::new();
    // A signal interrupts the wait in poll(2), so the flag is seen at once.
    while !stop.load(Ordering::Relaxed) {
        let mut answer_to = None;
        host::turn(&mut node, &clock, None, WaitMode::Block, |event| match event {
            Event::Data { from, from_name, payload } => {
                let label = from_name.or(args.peername.as_ref()).map_or_else(|| from.to_string(), Name::to_string);
                println!("received from {label} ({from}): {}", String::from_utf8_lossy(payload).trim_end());
                answer_to = Some(from);
            }
            Event::Answered { requester } => println!("answered who-has {} from {requester}", args.myname),
            _ => {}
        })?;
        if let Some(to) = answer_to {
            nb::block!(node.send_to_address(to, ANSWER))?;
            println!("sent to {to}: {}", String::from_utf8_lossy(ANSWER).trim_end());
        }
    }
    let s = node.stats();
    println!(
        "stats: rx {} frames: {} data, {} foreign, {} malformed, {} not for us, {} requests for others; \
         {} replies sent",
        s.rx_frames, s.rx_data, s.rx_foreign, s.rx_malformed, s.rx_not_for_us, s.rx_requests_for_others, s.replies_sent
    );
    Ok(())
}

fn main() -> ExitCode {
    env_logger::init();
    whohas::host::exit("vm2", run(Args::parse()))
}
