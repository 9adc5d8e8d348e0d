//! `whohas scan`: who is on this IPv4 subnet, at which MAC? Like arp-scan,
//! with an adaptive wait; the scanning station can answer ARP meanwhile.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration as StdDuration;

use super::device::{self, Device, Open, Via};
use super::output::print_line;
use super::report::Report;
use super::{Failure, Global, signals};
use crate::host::WaitMode;
use crate::linux::Interface;
use crate::node::Node;
use crate::runtime::{Context, Handler};
use crate::scan::{Ipv4Range, Rate, ScanConfig, ScanEvent};
use crate::station::Event;
use crate::storage::{HostResources, ScanTable};
use crate::wire::EtherType;
use crate::{Config, Duration, EthernetAddress, Instant, Name};
use clap::ArgGroup;
use indicatif::{ProgressBar, ProgressStyle};

/// `whohas scan` arguments.
#[derive(clap::Args, Debug)]
#[command(group(ArgGroup::new("pace").args(["pps", "bandwidth"])))]
pub struct Args {
    /// Addresses to scan, like 198.18.0.0/24 (default: the interface's
    /// subnet; with --respond and no range, only answer).
    pub range: Option<Ipv4Range>,
    /// Requests per second.
    #[arg(long)]
    pub pps: Option<u32>,
    /// Bits per second on the wire (arp-scan's default: 256000).
    #[arg(long)]
    pub bandwidth: Option<u64>,
    /// Requests per address at most (arp-scan's --retry).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..))]
    pub retry: u8,
    /// Longest wait in ms after a round before the next (arp-scan's --timeout).
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub timeout: u64,
    /// Growth of the wait per round (arp-scan's --backoff).
    #[arg(long, default_value_t = 1.5)]
    pub backoff: f64,
    /// Always wait the full timeout, as arp-scan does, instead of adapting
    /// the wait to the round trips seen.
    #[arg(long)]
    pub fixed_wait: bool,
    /// Print CSV.
    #[arg(long)]
    pub csv: bool,
    /// Answer ARP for this address: while scanning, or, without a range,
    /// until stopped.
    #[arg(long, value_name = "IPV4")]
    pub respond: Option<Ipv4Addr>,
    /// How frames reach the interface.
    #[arg(long, value_enum, default_value_t)]
    pub via: Via,
}

/// One row of the result.
struct Found {
    mac: EthernetAddress,
    rtt: Duration,
    late: bool,
    duplicates: Vec<EthernetAddress>,
}

/// Collects the scan's findings (and reports ARP answered meanwhile).
struct Collect {
    found: BTreeMap<Ipv4Addr, Found>,
    bar: ProgressBar,
    json: bool,
    done: bool,
    failure: Option<Failure>,
}

/// Prints a node event's report above the progress bar.
fn show(bar: &ProgressBar, event: Event<'_>, me: &Name, json: bool) -> Result<(), Failure> {
    bar.suspend(|| Report::of(event, me).print(json))
}

/// The node hosting a scan lends it the scanner, which lives in a box.
type Hosted<'s> = &'s mut ScanTable;

impl<'s> Handler<Device, Hosted<'s>> for Collect {
    fn on_event(&mut self, ctx: &mut Context<'_, Device, Hosted<'s>>, event: Event<'_, ScanEvent>) {
        match event {
            Event::Service(ScanEvent::Host { address, hardware_addr, rtt, late }) => {
                self.found.insert(address, Found { mac: hardware_addr, rtt, late, duplicates: Vec::new() });
            }
            Event::Service(ScanEvent::Duplicate { address, other, .. }) => {
                if let Some(entry) = self.found.get_mut(&address) {
                    entry.duplicates.push(other);
                }
            }
            Event::Service(ScanEvent::Done) => {
                self.done = true;
                ctx.stop();
            }
            other => {
                let Ok(own) = other.node_event() else { return };
                if let Err(failure) = show(&self.bar, own, &ctx.name().clone(), self.json) {
                    self.failure = Some(failure);
                    ctx.stop();
                }
            }
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, Device, Hosted<'s>>) -> Option<Instant> {
        let (sent, most) = ctx.services().progress();
        self.bar.set_length(most);
        self.bar.set_position(sent);
        None
    }
}

fn rtt_ms(rtt: Duration) -> f64 {
    rtt.total_micros() as f64 / 1000.0
}

fn print_found(global: &Global, args: &Args, found: &BTreeMap<Ipv4Addr, Found>) -> Result<(), Failure> {
    if args.csv {
        print_line("ip,mac,rtt_ms,late,duplicates")?;
    } else if !global.json {
        print_line(format_args!("{:<15}  {:<17}  {:>10}", "IP", "MAC", "RTT"))?;
    }
    for (&address, f) in found {
        let duplicates: Vec<String> = f.duplicates.iter().map(ToString::to_string).collect();
        if args.csv {
            print_line(format_args!("{address},{},{:.3},{},{}", f.mac, rtt_ms(f.rtt), f.late, duplicates.join(" ")))?;
        } else {
            let rtt_ms = (rtt_ms(f.rtt) * 1000.0).round() / 1000.0;
            Report::Host { address, mac: f.mac.to_string(), rtt_ms, late: f.late, duplicates }.print(global.json)?;
        }
    }
    Ok(())
}

struct Scan<'a> {
    global: &'a Global,
    args: &'a Args,
}

impl Scan<'_> {
    fn config(&self, interface: &Interface, range: Ipv4Range) -> Result<ScanConfig, Failure> {
        let args = self.args;
        if !(args.backoff >= 1.0 && args.backoff <= 100.0) {
            return Err(Failure::error("--backoff must be between 1 and 100"));
        }
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
        Ok(ScanConfig {
            source_ip,
            rate,
            attempts: args.retry,
            timeout: Duration::from_millis(args.timeout),
            backoff_percent: (args.backoff * 100.0).round() as u16,
            adaptive: !args.fixed_wait,
        })
    }

    fn range(&self, interface: &Interface) -> Result<Ipv4Range, Failure> {
        match self.args.range {
            Some(range) => Ok(range),
            None => {
                let net = interface.ipv4.first().ok_or_else(|| {
                    Failure::error(format!(
                        "interface {} has no IPv4 address; give a range like 198.18.0.0/24",
                        interface.name
                    ))
                })?;
                Ok(Ipv4Range::cidr(net.address, net.prefix_len))
            }
        }
    }
}

/// Answers ARP for the `--respond` address until stopped.
struct Answer {
    json: bool,
    failure: Option<Failure>,
}

impl Handler<Device> for Answer {
    fn on_event(&mut self, ctx: &mut Context<'_, Device, ()>, event: Event<'_>) {
        if let Err(failure) = Report::of(event, &ctx.name().clone()).print(self.json) {
            self.failure = Some(failure);
            ctx.stop();
        }
    }
}

impl Scan<'_> {
    fn run(self, device: Device, interface: &Interface) -> Result<(), Failure> {
        let (global, args) = (self.global, self.args);
        let name = Name::try_from("whohas-scan").map_err(Failure::from)?;
        if let (Some(address), None) = (args.respond, args.range) {
            let mut resources = HostResources::new();
            let mut node: Node<Device> = Node::new(device, name, Config::default(), &mut resources);
            node.add_ipv4_address(address)?;
            print_line(format_args!("answering ARP for {address} as {} on {}", node.mac_address(), interface.name))?;
            let mut answer = Answer { json: global.json, failure: None };
            node.run(&mut signals::clock(WaitMode::Block), &mut answer)?;
            return answer.failure.map_or(Ok(()), Err);
        }
        let range = self.range(interface)?;
        let config = self.config(interface, range)?;
        let clock = signals::clock(WaitMode::Block);
        let started = std::time::Instant::now();
        let mut scanner = Box::new(ScanTable::new(range, config, clock.read())?);
        let mut resources = HostResources::new();
        let mut node: Node<Device, Hosted<'_>> =
            Node::with_services(device, name, Config::default(), &mut resources, &mut *scanner);
        if let Some(address) = args.respond {
            node.add_ipv4_address(address)?;
        }
        let sending: StdDuration = config.rate.interval().saturating_mul(range.len()).into();
        let bar = if sending > StdDuration::from_secs(1) && !global.quiet {
            let bar = ProgressBar::new(node.services().progress().1);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} requests, eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        let mut collect = Collect { found: BTreeMap::new(), bar, json: global.json, done: false, failure: None };
        node.run(&mut { clock }, &mut collect)?;
        collect.bar.finish_and_clear();
        if let Some(failure) = collect.failure {
            return Err(failure);
        }
        let stats = *node.services().stats();
        print_found(global, args, &collect.found)?;
        eprintln!(
            "{} hosts found in {range} ({} addresses) on {}: {} requests in {:.3} s{}",
            collect.found.len(),
            range.len(),
            interface.name,
            stats.requests_sent,
            started.elapsed().as_secs_f64(),
            if stats.duplicates > 0 { format!(", {} duplicate answers", stats.duplicates) } else { String::new() },
        );
        if !collect.done && signals::received() {
            Err(Failure::interrupted("interrupted: the scan is incomplete"))
        } else if collect.found.is_empty() {
            Err(Failure::not_found(format!("no host answered in {range}")))
        } else {
            Ok(())
        }
    }
}

/// Runs `whohas scan`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let interface = device::interface(global)?;
    let open = Open { ethertypes: Some(vec![EtherType::ARP]), ..Open::default() };
    let device = device::open(&interface, args.via, &open)?;
    Scan { global, args }.run(device, &interface)
}
