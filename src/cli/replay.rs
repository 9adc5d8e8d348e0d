//! `whohas replay`: a station run over a capture file, in capture time. Like
//! VM2 it answers name-ARP for its name and every data frame; its answers go
//! to another capture. Deterministic: the same input gives a byte-identical
//! output.

use std::path::{Path, PathBuf};

use super::output::{Sink, print_line, unescape};
use super::report::Report;
use super::respond::{Responder, Show};
use super::{Failure, Global, signals};
use crate::node::Node;
use crate::pcap::CaptureReader;
use crate::replay::{CaptureClock, ReplayDevice};
use crate::storage::HostResources;
use crate::wire::EthernetFrame;
use crate::{Config, EthernetAddress, Name};

/// `whohas replay` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The capture to replay (pcap or pcapng, Ethernet).
    pub input: PathBuf,
    /// The station's name.
    #[arg(short, long)]
    pub name: Name,
    /// Where to write the frames the station sends.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The station's MAC address (default: the first unicast destination in
    /// the capture, the station the capture talks to).
    #[arg(long)]
    pub mac: Option<EthernetAddress>,
    /// Text to answer each data frame with (`\n` and `\xNN` are escapes).
    #[arg(long, default_value = "Nice to meet you!\\n", value_name = "TEXT")]
    pub reply: String,
    /// Do not answer data frames.
    #[arg(long)]
    pub no_reply: bool,
}

/// The destination of the capture's first unicast frame.
fn guess_mac(input: &Path) -> Result<EthernetAddress, Failure> {
    let mut reader = CaptureReader::open(input)?;
    while let Some(frame) = reader.next_frame()? {
        if let Ok(frame) = EthernetFrame::new_checked(frame.data)
            && frame.dst_addr().is_unicast()
        {
            return Ok(frame.dst_addr());
        }
    }
    Err(Failure::error(format!("{} has no unicast frame to guess the station's MAC from; give --mac", input.display())))
}

/// Runs `whohas replay`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let mac = match args.mac {
        Some(mac) => mac,
        None => guess_mac(&args.input)?,
    };
    let reply = if args.no_reply { None } else { Some(unescape(&args.reply)?) };
    let device = ReplayDevice::open(&args.input, &args.output, mac)?;
    let mut resources = HostResources::new();
    let mut node: Node<ReplayDevice> = Node::new(device, args.name.clone(), Config::default(), &mut resources);
    let show = match (global.quiet, global.json) {
        (true, _) => Show::Nothing,
        (false, true) => Show::Json,
        (false, false) => Show::Lines,
    };
    if show == Show::Lines {
        print_line(format_args!("replaying {} into {} ({mac})", args.input.display(), args.name))?;
    }
    let mut responder = Responder::new(reply, Sink::None, show).with_timestamps();
    let outcome = node.run(&mut CaptureClock::default().until(signals::received), &mut responder);
    responder.finish()?;
    outcome?;
    let summary = node.into_device().finish()?;
    let replayed = Report::Replayed {
        frames_in: summary.frames_in,
        frames_truncated: summary.frames_truncated,
        frames_out: summary.frames_out,
        output: args.output.display().to_string(),
    };
    if !global.quiet || global.json {
        replayed.print(global.json)?;
    }
    if signals::received() {
        return Err(Failure::interrupted(format!("interrupted: {} holds the answers so far", args.output.display())));
    }
    Ok(())
}
