//! Sends the frames of a capture onto an interface, tcpreplay-style: with
//! the recorded timing (optionally sped up or slowed down), at a packet or
//! bit rate, or as fast as the interface takes them.
//!
//! ```text
//! inject -i eth0 capture.pcap                  # as recorded
//! inject -i eth0 capture.pcap --multiplier 10  # ten times faster
//! inject -i eth0 capture.pcap --pps 1000       # 1000 packets per second
//! inject -i eth0 capture.pcap --topspeed --loop 100
//! ```
//!
//! The last line is the statistics: packets, bytes, seconds, pps, Mbps,
//! failures. A progress bar shows on a terminal for runs longer than a second.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{ArgGroup, Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use whohas::LinkDevice;
use whohas::host::wait_writable;
use whohas::linux::{AfPacketDevice, Options};
use whohas::pcap::{CaptureReader, LiveDevice, LiveOptions};

#[derive(Parser)]
#[command(version, about = "Send the frames of a capture onto an interface")]
#[command(group(ArgGroup::new("pace").args(["multiplier", "pps", "mbps", "topspeed"])))]
struct Args {
    /// The interface to send on.
    #[arg(short, long)]
    interface: String,
    /// The capture (pcap or pcapng, Ethernet).
    capture: PathBuf,
    /// Replay the recorded timing this many times faster (0.5: slower).
    #[arg(long)]
    multiplier: Option<f64>,
    /// Send at this many packets per second.
    #[arg(long)]
    pps: Option<f64>,
    /// Send at this many megabits per second.
    #[arg(long)]
    mbps: Option<f64>,
    /// Send as fast as the interface takes frames.
    #[arg(short, long)]
    topspeed: bool,
    /// Send the capture this many times.
    #[arg(long = "loop", default_value_t = 1)]
    loops: u32,
    /// How to send: an AF_PACKET socket (batched with sendmmsg, qdisc
    /// bypassed) or libpcap's pcap_sendpacket.
    #[arg(long, value_enum, default_value_t = Via::Packet)]
    via: Via,
}

#[derive(Clone, Copy, ValueEnum)]
enum Via {
    Packet,
    Pcap,
}

/// The whole capture in one buffer: no allocation per frame.
struct Frames {
    bytes: Vec<u8>,
    /// (start in `bytes`, length, capture time relative to the first frame)
    index: Vec<(usize, usize, Duration)>,
}

impl Frames {
    fn load(path: &PathBuf) -> Result<Frames, whohas::pcap::Error> {
        let mut reader = CaptureReader::open(path)?;
        let mut frames = Frames { bytes: Vec::new(), index: Vec::new() };
        let mut first = None;
        while let Some(frame) = reader.next_frame()? {
            let first = *first.get_or_insert(frame.timestamp);
            frames.index.push((frames.bytes.len(), frame.data.len(), (frame.timestamp - first).into()));
            frames.bytes.extend_from_slice(frame.data);
        }
        Ok(frames)
    }

    fn get(&self, i: usize) -> &[u8] {
        let (start, len, _) = self.index[i];
        &self.bytes[start..start + len]
    }
}

enum Sender {
    Packet(AfPacketDevice),
    Pcap(LiveDevice),
}

impl Sender {
    fn open(via: Via, interface: &str) -> Result<Sender, Box<dyn std::error::Error>> {
        Ok(match via {
            Via::Packet => {
                // Receive nothing (an empty ethertype list), send past the qdisc.
                let options = Options { ethertypes: Some(Vec::new()), bypass_qdisc: true, min_mtu: 0 };
                Sender::Packet(AfPacketDevice::open_with(interface, &options)?)
            }
            Via::Pcap => Sender::Pcap(LiveDevice::open(interface, &LiveOptions::default())?),
        })
    }

    /// Sends a prefix of `frames`; returns (sent, failed). Failed frames are
    /// skipped, as tcpreplay does.
    fn send(&mut self, frames: &[&[u8]]) -> (usize, usize) {
        loop {
            let outcome = match self {
                Sender::Packet(device) => match device.transmit_batch(frames) {
                    Ok(0) => None,
                    Ok(sent) => Some((sent, 0)),
                    Err(err) => {
                        log::warn!("{err}");
                        Some((0, 1))
                    }
                },
                Sender::Pcap(device) => match device.transmit(frames[0]) {
                    Ok(()) => Some((1, 0)),
                    Err(nb::Error::WouldBlock) => None,
                    Err(nb::Error::Other(err)) => {
                        log::warn!("{err}");
                        Some((0, 1))
                    }
                },
            };
            match outcome {
                Some(outcome) => return outcome,
                // The kernel's queue is full: sleep until it drains a little.
                None => {
                    let fd = match self {
                        Sender::Packet(device) => std::os::fd::AsFd::as_fd(device),
                        Sender::Pcap(device) => std::os::fd::AsFd::as_fd(device),
                    };
                    let _ = wait_writable(fd, Some(Duration::from_millis(10)));
                }
            }
        }
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

/// Sleeps until `deadline`, finishing with a short spin for accuracy.
fn sleep_until(deadline: Instant) {
    const SPIN: Duration = Duration::from_micros(200);
    let now = Instant::now();
    if deadline > now + SPIN {
        std::thread::sleep(deadline - now - SPIN);
    }
    while Instant::now() < deadline {
        std::hint::spin_loop();
    }
}

/// A bar on stderr (drawn only on a terminal) for runs that should take
/// more than a second: `expected` long when paced, or big at top speed.
fn progress_bar(total: u64, expected: Option<Duration>) -> ProgressBar {
    let long = expected.map_or(total >= 1_000_000, |expected| expected > Duration::from_secs(1));
    if !long {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} packets, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(rate) = args.multiplier.or(args.pps).or(args.mbps) {
        if !(rate > 0.0 && rate.is_finite()) {
            return Err("--multiplier, --pps and --mbps need a positive number".into());
        }
    }
    let frames = Frames::load(&args.capture)?;
    if frames.index.is_empty() {
        return Err(format!("{} holds no frames", args.capture.display()).into());
    }
    let mut sender = Sender::open(args.via, &args.interface)?;
    let per_loop = frames.index.len();
    let total = per_loop as u64 * u64::from(args.loops);
    let expected = (!args.topspeed).then(|| {
        let run_start = Instant::now();
        let last = Position { index: per_loop - 1, before: total, bytes_before: 0, run_start, loop_start: run_start };
        deadline(&args, &frames, &last).map_or(Duration::ZERO, |end| end - run_start)
    });
    let bar = progress_bar(total, expected);

    let (mut packets, mut bytes, mut failed) = (0u64, 0u64, 0u64);
    let run_start = Instant::now();
    let mut batch: Vec<&[u8]> = Vec::with_capacity(64);
    for _ in 0..args.loops {
        let loop_start = Instant::now();
        let mut i = 0;
        while i < per_loop {
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
                match deadline(&args, &frames, &at) {
                    Some(due) if !batch.is_empty() && due > Instant::now() => break,
                    Some(due) => sleep_until(due),
                    None => {}
                }
                batch_bytes += frames.get(index).len() as u64;
                batch.push(frames.get(index));
            }
            let (sent, skipped) = sender.send(&batch);
            packets += sent as u64;
            failed += skipped as u64;
            bytes += batch[..sent + skipped].iter().map(|frame| frame.len() as u64).sum::<u64>();
            i += sent + skipped;
            bar.set_position(packets + failed);
        }
    }
    bar.finish_and_clear();
    let seconds = run_start.elapsed().as_secs_f64().max(1e-9);
    println!(
        "sent {packets} packets, {bytes} bytes in {seconds:.3} s: {:.0} pps, {:.2} Mbps, {failed} failed",
        packets as f64 / seconds,
        bytes as f64 * 8.0 / seconds / 1e6
    );
    if failed > 0 { Err(format!("{failed} frames could not be sent").into()) } else { Ok(()) }
}

fn main() -> ExitCode {
    env_logger::init();
    whohas::host::exit("inject", run(Args::parse()))
}
