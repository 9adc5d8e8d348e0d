//! `whohas inject`: the frames of a capture onto an interface, tcpreplay
//! style: with the recorded timing (optionally sped up or slowed down), at
//! a packet or bit rate, or as fast as the interface takes them. The last
//! line is the statistics: packets, bytes, seconds, pps, Mbps, failures
//! (also when SIGINT or SIGTERM ends it early, with status 0).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::device::{self, Device, Open, Via};
use super::report::Report;
use super::{Failure, Global, signals};
use crate::LinkDevice;
use crate::pcap::CaptureReader;
use crate::runtime::Wait;
use clap::ArgGroup;
use indicatif::{ProgressBar, ProgressStyle};

/// `whohas inject` arguments.
#[derive(clap::Args, Debug)]
#[command(group(ArgGroup::new("pace").args(["multiplier", "pps", "mbps", "topspeed"])))]
pub struct Args {
    /// The capture (pcap or pcapng, Ethernet).
    pub capture: PathBuf,
    /// Replay the recorded timing this many times faster (0.5: slower).
    #[arg(long)]
    pub multiplier: Option<f64>,
    /// Send at this many packets per second.
    #[arg(long)]
    pub pps: Option<f64>,
    /// Send at this many megabits per second.
    #[arg(long)]
    pub mbps: Option<f64>,
    /// Send as fast as the interface takes frames.
    #[arg(short, long)]
    pub topspeed: bool,
    /// Send the capture this many times.
    #[arg(long = "loop", default_value_t = 1, value_name = "N")]
    pub loops: u32,
    /// How to send: an AF_PACKET socket (batched with sendmmsg, queue
    /// discipline bypassed) or libpcap's pcap_sendpacket.
    #[arg(long, value_enum, default_value_t)]
    pub via: Via,
}

/// The whole capture in one buffer: no allocation per frame.
struct Frames {
    bytes: Vec<u8>,
    /// (start in `bytes`, length, capture time relative to the first frame)
    index: Vec<(usize, usize, Duration)>,
}

impl Frames {
    fn load(path: &Path) -> Result<Frames, Failure> {
        let mut reader = CaptureReader::open(path)?;
        let mut frames = Frames { bytes: Vec::new(), index: Vec::new() };
        let mut first = None;
        while let Some(frame) = reader.next_frame()? {
            let first = *first.get_or_insert(frame.timestamp);
            frames.index.push((frames.bytes.len(), frame.data.len(), frame.timestamp - first));
            frames.bytes.extend_from_slice(frame.data);
        }
        Ok(frames)
    }

    fn get(&self, i: usize) -> &[u8] {
        let (start, len, _) = self.index[i];
        &self.bytes[start..start + len]
    }
}

/// Sends a prefix of `frames` on `device`; returns (sent, failed). Failed
/// frames are skipped, as tcpreplay does. While the kernel has no room it
/// sleeps (through the device's `Wait`), and gives up waiting on a signal.
fn send(device: &mut Device, frames: &[&[u8]]) -> Result<(usize, usize), Failure> {
    loop {
        let outcome = match &mut *device {
            Device::Packet(device) => match device.transmit_batch(frames) {
                Ok(0) => None,
                Ok(sent) => Some((sent, 0)),
                Err(err) => {
                    log::warn!("{err}");
                    Some((0, 1))
                }
            },
            // libpcap sends one frame at a time (inject never opens keyed).
            _ => match device.transmit(frames[0]) {
                Ok(()) => Some((1, 0)),
                Err(nb::Error::WouldBlock) => None,
                Err(nb::Error::Other(err)) => {
                    log::warn!("{err}");
                    Some((0, 1))
                }
            },
        };
        if let Some(outcome) = outcome {
            return Ok(outcome);
        }
        if signals::received() {
            return Ok((0, 0));
        }
        device.wait(Some(std::time::Duration::from_millis(10)), true)?;
    }
}

/// Where a frame stands in the run, to schedule it.
struct Position {
    /// Index in the capture.
    index: usize,
    /// Frames and bytes handed out before it in the whole run.
    before: u64,
    bytes_before: u64,
    /// When the run and the current loop started.
    run_start: Instant,
    loop_start: Instant,
}

/// When a frame should leave; `None` for "now". Rates count from the start
/// of the run; recorded timing from the start of each loop (the next loop
/// begins as soon as the last frame of the previous one is out).
fn deadline(args: &Args, frames: &Frames, at: &Position) -> Option<Instant> {
    if args.topspeed {
        None
    } else if let Some(pps) = args.pps {
        Some(at.run_start + Duration::from_secs_f64(at.before as f64 / pps))
    } else if let Some(mbps) = args.mbps {
        Some(at.run_start + Duration::from_secs_f64(at.bytes_before as f64 * 8.0 / (mbps * 1e6)))
    } else {
        Some(at.loop_start + frames.index[at.index].2.div_f64(args.multiplier.unwrap_or(1.0)))
    }
}

/// Sleeps until `deadline` (or a signal), finishing with a short spin for
/// accuracy.
fn sleep_until(deadline: Instant) {
    const SPIN: Duration = Duration::from_micros(200);
    const SLICE: Duration = Duration::from_millis(100);
    loop {
        let now = Instant::now();
        if deadline <= now + SPIN || signals::received() {
            break;
        }
        std::thread::sleep((deadline - now - SPIN).min(SLICE));
    }
    while Instant::now() < deadline && !signals::received() {
        std::hint::spin_loop();
    }
}

/// A bar on stderr (drawn only on a terminal) for runs that should take
/// more than a second: `expected` long when paced, or big at top speed.
fn progress_bar(total: u64, expected: Option<Duration>, quiet: bool) -> ProgressBar {
    let long = expected.map_or(total >= 1_000_000, |expected| expected > Duration::from_secs(1));
    if !long || quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} packets, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Runs `whohas inject`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    if let Some(rate) = args.multiplier.or(args.pps).or(args.mbps)
        && !(rate > 0.0 && rate.is_finite())
    {
        return Err(Failure::error("--multiplier, --pps and --mbps need a positive number"));
    }
    let frames = Frames::load(&args.capture)?;
    if frames.index.is_empty() {
        return Err(Failure::error(format!("{} holds no frames", args.capture.display())));
    }
    let interface = device::interface(global)?;
    // Receive nothing (an empty ethertype list); send past the qdisc.
    let open = Open { ethertypes: Some(Vec::new()), bypass_qdisc: true, ..Open::default() };
    let mut device = device::open(&interface, args.via, &open)?;
    let per_loop = frames.index.len();
    let total = per_loop as u64 * u64::from(args.loops);
    let expected = (!args.topspeed).then(|| {
        let run_start = Instant::now();
        let last = Position { index: per_loop - 1, before: total, bytes_before: 0, run_start, loop_start: run_start };
        deadline(args, &frames, &last).map_or(Duration::ZERO, |end| end - run_start)
    });
    let bar = progress_bar(total, expected, global.quiet);

    let (mut packets, mut bytes, mut failed) = (0u64, 0u64, 0u64);
    let run_start = Instant::now();
    let mut batch: Vec<&[u8]> = Vec::with_capacity(64);
    'run: for _ in 0..args.loops {
        let loop_start = Instant::now();
        let mut i = 0;
        while i < per_loop {
            if signals::received() {
                break 'run;
            }
            // Gather every frame that is due (up to 64; all of them at top speed).
            batch.clear();
            let mut batch_bytes = 0;
            while i + batch.len() < per_loop && batch.len() < 64 {
                let index = i + batch.len();
                let at = Position {
                    index,
                    before: packets + failed + batch.len() as u64,
                    bytes_before: bytes + batch_bytes,
                    run_start,
                    loop_start,
                };
                match deadline(args, &frames, &at) {
                    Some(due) if !batch.is_empty() && due > Instant::now() => break,
                    Some(due) => sleep_until(due),
                    None => {}
                }
                batch_bytes += frames.get(index).len() as u64;
                batch.push(frames.get(index));
            }
            let (sent, skipped) = send(&mut device, &batch)?;
            packets += sent as u64;
            failed += skipped as u64;
            bytes += batch[..sent + skipped].iter().map(|frame| frame.len() as u64).sum::<u64>();
            i += sent + skipped;
            bar.set_position(packets + failed);
        }
    }
    bar.finish_and_clear();
    let seconds = run_start.elapsed().as_secs_f64().max(1e-9);
    let (pps, mbps) = (packets as f64 / seconds, bytes as f64 * 8.0 / seconds / 1e6);
    Report::Injected { packets, bytes, seconds, pps: pps.round(), mbps: (mbps * 100.0).round() / 100.0, failed }
        .print(global.json)?;
    // Stopped by a signal, it has printed its statistics: that is a clean end.
    if failed > 0 { Err(Failure::error(format!("{failed} frames could not be sent"))) } else { Ok(()) }
}
