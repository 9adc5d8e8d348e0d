//! `whohas synth`: synthetic captures, for benchmarks, floods and tests.
//!
//! - `seed`: VM1's frames of the seed conversation (a name-ARP request for
//!   VM2 and two data frames), over and over: replaying it into a station
//!   named VM2 answers every frame.
//! - `garbage`: what a responder must survive: name-ARP frames with random
//!   bodies (nearly all malformed), data frames for another station, and
//!   random ethertypes, from 02:00:00:00:00:03. Deterministic for a `--seed`.
//! - `foreign`: IPv4/UDP frames between two other stations.

use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;

use super::Failure;
use super::output::print_line;
use crate::Name;
use crate::device::Rng;
use crate::pcap::PcapFileWriter;
use crate::wire::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr, NameArpPacket, NameArpRepr};

/// `whohas synth` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the capture.
    #[arg(short, long)]
    pub output: PathBuf,
    /// How many frames.
    #[arg(short, long, default_value_t = 1000)]
    pub frames: u64,
    /// What the frames are.
    #[arg(short, long, value_enum, default_value_t = Kind::Seed)]
    pub kind: Kind,
    /// Seed of the random generator (garbage).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Microseconds between frames.
    #[arg(long, default_value_t = 1)]
    pub gap_us: u64,
}

/// What a synthetic capture holds.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// VM1's side of the seed conversation, repeated.
    Seed,
    /// Malformed and foreign frames a responder must survive.
    Garbage,
    /// IPv4/UDP between two other stations.
    Foreign,
}

const VM1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const VM2: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const STRANGER: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 3]);
const ELSEWHERE: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 9]);

fn frame(src: EthernetAddress, dst: EthernetAddress, ethertype: EtherType, body: &[u8]) -> Vec<u8> {
    let mut frame = vec![0u8; 14 + body.len()];
    EthernetRepr { src_addr: src, dst_addr: dst, ethertype }.emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    frame[14..].copy_from_slice(body);
    frame
}

/// The three frames VM1 sends in the seed conversation, byte for byte as
/// the C program sends them (no Ethernet padding).
fn seed_frames() -> Result<[Vec<u8>; 3], Failure> {
    let request = NameArpRepr::Request { name: Name::try_from("VM2")? };
    let mut body = vec![0u8; request.buffer_len()];
    request.emit(&mut NameArpPacket::new_unchecked(&mut body[..]));
    Ok([
        frame(VM1, EthernetAddress::BROADCAST, EtherType::NAME_ARP, &body),
        frame(VM1, VM2, EtherType::DATA, b"Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!"),
        frame(VM1, VM2, EtherType::DATA, b"I'm Glad to meet you again."),
    ])
}

fn garbage(rng: &mut Rng, i: u64) -> Vec<u8> {
    let len = rng.below(200);
    let mut body: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    match i % 3 {
        0 => frame(STRANGER, EthernetAddress::BROADCAST, EtherType::NAME_ARP, &body),
        1 => frame(STRANGER, ELSEWHERE, EtherType::DATA, &body),
        _ => {
            body.resize(body.len().max(46), 0);
            frame(STRANGER, VM2, EtherType(rng.next_u64() as u16), &body)
        }
    }
}

fn foreign(i: u64) -> Vec<u8> {
    let mut ipv4 = vec![0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 10, 198, 18, 0, 11];
    ipv4.extend_from_slice(&[0x9c, 0x40, 0x1e, 0x61, 0, 20, 0, 0]);
    ipv4.extend_from_slice(&i.to_be_bytes()[..8]);
    ipv4.extend_from_slice(&[0; 4]);
    frame(STRANGER, ELSEWHERE, EtherType::IPV4, &ipv4)
}

/// Runs `whohas synth`.
pub fn run(args: &Args) -> Result<(), Failure> {
    let mut writer = PcapFileWriter::create(&args.output)?;
    let seed = seed_frames()?;
    let mut rng = Rng::new(args.seed);
    let start = Duration::from_secs(1_700_000_000);
    for i in 0..args.frames {
        let at = start + Duration::from_micros(i.saturating_mul(args.gap_us));
        match args.kind {
            Kind::Seed => writer.write(at, &seed[(i % 3) as usize]),
            Kind::Garbage => writer.write(at, &garbage(&mut rng, i)),
            Kind::Foreign => writer.write(at, &foreign(i)),
        }
    }
    writer.flush()?;
    print_line(format_args!("wrote {} frames to {}", args.frames, args.output.display()))
}
