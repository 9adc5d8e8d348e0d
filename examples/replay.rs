//! Runs a whohas node over a capture file: frames in from the capture, in
//! capture time; the node's answers out to another capture. Like vm2, the
//! node answers name-ARP requests for its name and every data frame with a
//! reply ("Nice to meet you!\n" unless told otherwise). Deterministic: the
//! same input gives a byte-identical output.
//!
//! ```text
//! replay vm1-side.pcap --name VM2 --output answers.pcap
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use whohas::node::{Event, Node};
use whohas::pcap::{CaptureReader, ReplayDevice, Replayer};
use whohas::wire::EthernetFrame;
use whohas::{Config, EthernetAddress, Instant, Name};

#[derive(Parser)]
#[command(version, about = "Replay a capture into a whohas node and record its answers")]
struct Args {
    /// The capture to replay (pcap or pcapng, Ethernet).
    input: PathBuf,
    /// The node's name.
    #[arg(short, long)]
    name: Name,
    /// Where to write the frames the node sends.
    #[arg(short, long)]
    output: PathBuf,
    /// The node's MAC address (default: the first unicast destination in
    /// the capture, the station the capture talks to).
    #[arg(long)]
    mac: Option<EthernetAddress>,
    /// Text to answer each data frame with.
    #[arg(long, default_value = "Nice to meet you!\n")]
    reply: String,
    /// Do not answer data frames.
    #[arg(long)]
    no_reply: bool,
    /// Print nothing but the summary line.
    #[arg(short, long)]
    quiet: bool,
}

/// The destination of the capture's first unicast frame.
fn guess_mac(input: &PathBuf) -> Result<EthernetAddress, Box<dyn std::error::Error>> {
    let mut reader = CaptureReader::open(input)?;
    while let Some(frame) = reader.next_frame()? {
        if let Ok(frame) = EthernetFrame::new_checked(frame.data) {
            if frame.dst_addr().is_unicast() {
                return Ok(frame.dst_addr());
            }
        }
    }
    Err(format!("{} has no unicast frame to guess the node's MAC from; give --mac", input.display()).into())
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mac = match args.mac {
        Some(mac) => mac,
        None => guess_mac(&args.input)?,
    };
    let device = ReplayDevice::open(&args.input, &args.output, mac)?;
    let node: Node<_> = Node::new(device, args.name.clone(), Config::default());
    let mut replayer = Replayer::new(node);
    if !args.quiet {
        println!("replaying {} into {} ({mac})", args.input.display(), args.name);
    }
    let mut start: Option<Instant> = None;
    let quiet = args.quiet;
    loop {
        // Lines are formatted only when printed: a quiet replay of a large
        // capture does no per-frame formatting.
        let mut lines = Vec::new();
        let mut answer_to = None;
        let stepped = replayer.step(|event| match event {
            Event::Data { from, payload, .. } => {
                if !quiet {
                    lines.push(format!("received from {from}: {}", String::from_utf8_lossy(payload).trim_end()));
                }
                answer_to = Some(from);
            }
            Event::Answered { requester } if !quiet => {
                lines.push(format!("answered who-has {} from {requester}", args.name))
            }
            other if !quiet => lines.push(format!("{other:?}")),
            _ => {}
        })?;
        let Some(now) = stepped else { break };
        if let Some(to) = answer_to.filter(|_| !args.no_reply) {
            nb::block!(replayer.node_mut().send_to_address(to, args.reply.as_bytes()))?;
            if !quiet {
                lines.push(format!("sent to {to}: {}", args.reply.trim_end()));
            }
        }
        let elapsed = now - *start.get_or_insert(now);
        for line in lines {
            println!("{:>4}.{:06} {line}", elapsed.total_micros() / 1_000_000, elapsed.total_micros() % 1_000_000);
        }
    }
    let summary = replayer.finish()?;
    println!(
        "replayed {} frames in, {} frames out -> {}",
        summary.frames_in,
        summary.frames_out,
        args.output.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    env_logger::init();
    whohas::host::exit("replay", run(Args::parse()))
}
