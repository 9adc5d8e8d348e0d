//! An ARP scanner, like arp-scan: who is on this subnet, at which MAC?
//!
//! ```text
//! scan                          # the default interface's own subnet
//! scan -i eth0 198.18.0.0/24 --retry 3 --pps 2000
//! scan 198.18.0.0/24 --json     # or --csv
//! scan --respond 198.18.0.50    # answer ARP for an address, so arping finds us
//! ```
//!
//! Prints a table sorted by address (IP, MAC, round-trip time), with
//! duplicate answers and late replies flagged, and a summary on stderr.
//! Exit status: 0 hosts found, 1 none, 2 error.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::Duration as StdDuration;

use clap::{ArgGroup, Parser};
use indicatif::{ProgressBar, ProgressStyle};
use whohas::host::{self, Clock, Wait, WaitMode};
use whohas::linux::{AfPacketDevice, Interface, Options, interface};
use whohas::node::{Event, Node};
use whohas::pcap::{LiveDevice, LiveOptions};
use whohas::scan::{Ipv4Range, Rate, ScanConfig, ScanEvent, ScanStatus, Scanner};
use whohas::{Config, Duration, EthernetAddress, Name};

/// The largest range scanned at once: a /16.
const MAX_HOSTS: usize = 65_536;

#[derive(Parser)]
#[command(version, about = "Find the hosts of an IPv4 subnet with ARP")]
#[command(group(ArgGroup::new("pace").args(["pps", "bandwidth"])))]
#[command(group(ArgGroup::new("format").args(["json", "csv"])))]
struct Args {
    /// Addresses to scan, like 198.18.0.0/24 (default: the interface's subnet).
    range: Option<Ipv4Range>,
    /// Interface (default: the one carrying the default route).
    #[arg(short, long)]
    interface: Option<String>,
    /// Requests per second.
    #[arg(long)]
    pps: Option<u32>,
    /// Bits per second on the wire (arp-scan's default: 256000).
    #[arg(long)]
    bandwidth: Option<u64>,
    /// Requests per address at most (arp-scan's --retry).
    #[arg(long, default_value_t = 2)]
    retry: u8,
    /// Longest wait in ms after a round before the next (arp-scan's --timeout).
    #[arg(long, default_value_t = 500)]
    timeout: u64,
    /// Growth of the wait per round (arp-scan's --backoff).
    #[arg(long, default_value_t = 1.5)]
    backoff: f64,
    /// Always wait the full timeout, as arp-scan does, instead of adapting
    /// the wait to the round trips seen.
    #[arg(long)]
    fixed_wait: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Print CSV.
    #[arg(long)]
    csv: bool,
    /// Capture and inject through libpcap instead of an AF_PACKET socket.
    #[arg(long)]
    pcap: bool,
    /// Instead of scanning, answer ARP for this address until stopped.
    #[arg(long, value_name = "IPV4", conflicts_with_all = ["range", "json", "csv"])]
    respond: Option<Ipv4Addr>,
}

/// One row of the result.
struct Found {
    mac: EthernetAddress,
    rtt: Duration,
    late: bool,
    duplicates: Vec<EthernetAddress>,
}

fn options() -> Options {
    Options { ethertypes: Some(vec![whohas::wire::EtherType::ARP]), ..Options::default() }
}

fn live_options() -> LiveOptions {
    LiveOptions { filter: Some("arp".to_owned()), ..LiveOptions::default() }
}

fn run(args: &Args) -> Result<bool, Box<dyn std::error::Error>> {
    let interface = match &args.interface {
        Some(name) => interface::by_name(name)?,
        None => interface::default_interface()?,
    };
    if let Some(address) = args.respond {
        return match args.pcap {
            false => respond(AfPacketDevice::open_with(&interface.name, &options())?, address),
            true => respond(LiveDevice::open(&interface.name, &live_options())?, address),
        };
    }
    let range = match args.range {
        Some(range) => range,
        None => {
            let net = interface.ipv4.first().ok_or_else(|| {
                format!("interface {} has no IPv4 address; give a range like 198.18.0.0/24", interface.name)
            })?;
            Ipv4Range::cidr(net.address, net.prefix_len)
        }
    };
    let found = match args.pcap {
        false => scan(args, &interface, range, AfPacketDevice::open_with(&interface.name, &options())?)?,
        true => scan(args, &interface, range, LiveDevice::open(&interface.name, &live_options())?)?,
    };
    print(args, &found);
    Ok(!found.is_empty())
}

fn scan<D: Wait<Error: std::error::Error + 'static>>(
    args: &Args,
    interface: &Interface,
    range: Ipv4Range,
    mut device: D,
) -> Result<BTreeMap<Ipv4Addr, Found>, Box<dyn std::error::Error>> {
    let source_ip = interface
        .ipv4
        .iter()
        .find(|net| range.index_of(net.address).is_some())
        .or(interface.ipv4.first())
        .map_or(Ipv4Addr::UNSPECIFIED, |net| net.address);
    let rate = match (args.pps, args.bandwidth) {
        (Some(pps), _) => Rate::PacketsPerSecond(pps),
        (None, Some(bps)) => Rate::BitsPerSecond(bps),
        (None, None) => Rate::BitsPerSecond(256_000),
    };
    if !(args.backoff >= 1.0 && args.backoff <= 100.0) {
        return Err("--backoff must be between 1 and 100".into());
    }
    let config = ScanConfig {
        source_ip,
        rate,
        attempts: args.retry.max(1),
        timeout: Duration::from_millis(args.timeout),
        backoff_percent: (args.backoff * 100.0).round() as u16,
        adaptive: !args.fixed_wait,
    };
    let clock = Clock::new();
    let started = std::time::Instant::now();
    let mut scanner = Box::new(Scanner::<MAX_HOSTS>::new(range, config, clock.now())?);
    let sending: StdDuration = (rate.interval().saturating_mul(range.len() as u64)).into();
    let bar = if sending > StdDuration::from_secs(1) {
        let bar = ProgressBar::new(scanner.progress().1);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} requests, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut found: BTreeMap<Ipv4Addr, Found> = BTreeMap::new();
    loop {
        let status = scanner.poll(&mut device, clock.now(), |event| match event {
            ScanEvent::Host { address, hardware_addr, rtt, late } => {
                found.insert(address, Found { mac: hardware_addr, rtt, late, duplicates: Vec::new() });
            }
            ScanEvent::Duplicate { address, other, .. } => {
                if let Some(entry) = found.get_mut(&address) {
                    entry.duplicates.push(other);
                }
            }
        })?;
        let (sent, most) = scanner.progress();
        bar.set_length(most);
        bar.set_position(sent);
        match status {
            ScanStatus::Done => break,
            ScanStatus::Running { next_poll_at } => {
                let wait = clock.until(next_poll_at);
                if !wait.is_zero() {
                    device.wait(Some(wait))?;
                }
            }
        }
    }
    bar.finish_and_clear();
    let stats = scanner.stats();
    eprintln!(
        "{} hosts found in {range} ({} addresses) on {}: {} requests in {:.3} s{}",
        found.len(),
        range.len(),
        interface.name,
        stats.requests_sent,
        started.elapsed().as_secs_f64(),
        if stats.duplicates > 0 { format!(", {} duplicate answers", stats.duplicates) } else { String::new() },
    );
    Ok(found)
}

fn rtt_ms(rtt: Duration) -> f64 {
    rtt.total_micros() as f64 / 1000.0
}

fn print(args: &Args, found: &BTreeMap<Ipv4Addr, Found>) {
    if args.json {
        let rows: Vec<String> = found
            .iter()
            .map(|(ip, f)| {
                let dups: Vec<String> = f.duplicates.iter().map(|mac| format!("\"{mac}\"")).collect();
                format!(
                    "  {{\"ip\": \"{ip}\", \"mac\": \"{}\", \"rtt_ms\": {:.3}, \"late\": {}, \"duplicates\": [{}]}}",
                    f.mac,
                    rtt_ms(f.rtt),
                    f.late,
                    dups.join(", ")
                )
            })
            .collect();
        println!("[\n{}\n]", rows.join(",\n"));
    } else if args.csv {
        println!("ip,mac,rtt_ms,late,duplicates");
        for (ip, f) in found {
            let dups: Vec<String> = f.duplicates.iter().map(ToString::to_string).collect();
            println!("{ip},{},{:.3},{},{}", f.mac, rtt_ms(f.rtt), f.late, dups.join(" "));
        }
    } else {
        println!("{:<15}  {:<17}  {:>10}", "IP", "MAC", "RTT");
        for (ip, f) in found {
            let mut flags = String::new();
            if f.late {
                flags.push_str("  (late)");
            }
            for mac in &f.duplicates {
                flags.push_str(&format!("  (DUP: {mac})"));
            }
            println!("{:<15}  {:<17}  {:>7.3} ms{flags}", ip.to_string(), f.mac.to_string(), rtt_ms(f.rtt));
        }
    }
}

/// Answers ARP for `address` until killed.
fn respond<D: Wait<Error: std::error::Error + 'static>>(
    device: D,
    address: Ipv4Addr,
) -> Result<bool, Box<dyn std::error::Error>> {
    let mac = device.mac_address();
    let mut node: Node<D> = Node::new(device, Name::try_from("whohas")?, Config::default());
    node.add_ipv4_address(address).map_err(|_| "no room for the address")?;
    println!("answering ARP for {address} as {mac}");
    let clock = Clock::new();
    loop {
        host::turn(&mut node, &clock, None, WaitMode::Block, |event| {
            if let Event::ArpAnswered { requester, address } = event {
                println!("answered who-has {address} from {requester}");
            }
        })?;
    }
}

fn main() -> ExitCode {
    env_logger::init();
    match run(&Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("scan: {err}");
            ExitCode::from(2)
        }
    }
}
