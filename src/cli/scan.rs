//! `whohas scan`: who is on this segment, at which MAC? IPv4 with ARP, like
//! arp-scan, with an adaptive wait (the scanning station can answer ARP
//! meanwhile); IPv6 by asking the all-nodes group and confirming each
//! address with a neighbour solicitation (`--ipv6`); or both (`--all`).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration as StdDuration;

use super::device::{self, Device, Open, Via};
use super::output::print_line;
use super::report::Report;
use super::{Failure, Global, signals};
use crate::host::WaitMode;
use crate::linux::Interface;
use crate::node::Node;
use crate::runtime::{Context, Handler};
use crate::scan::{Ipv4Range, Ipv6Scanner, MAX_SOURCES, Rate, ScanConfig, ScanEvent, Scanner};
use crate::service::Service;
use crate::station::Event;
use crate::storage::{HostResources, Ipv6ScanTable, ScanTable};
use crate::wire::EtherType;
use crate::wire::ipv6::{is_link_local, link_local, with_interface_id};
use crate::{Config, Duration, EthernetAddress, Instant, Name};
use clap::ArgGroup;
use indicatif::{ProgressBar, ProgressStyle};

/// `whohas scan` arguments.
#[derive(clap::Args, Debug)]
#[command(group(ArgGroup::new("pace").args(["pps", "bandwidth"])))]
pub struct Args {
    /// What to scan: an IPv4 range like 198.18.0.0/24 (default: the
    /// interface's subnet; with --respond and no range, only answer), or
    /// with --ipv6 a prefix like 2001:db8::/64 whose hosts to find (it is
    /// not swept: see --ipv6).
    pub range: Option<String>,
    /// Scan IPv6 instead: ask the all-nodes group ff02::1 from the
    /// interface's link-local address and from an address in each of its
    /// prefixes (or in the given one), then confirm every address heard
    /// with a neighbour solicitation.
    #[arg(long, conflicts_with = "all")]
    pub ipv6: bool,
    /// Scan both families: ARP, then IPv6.
    #[arg(long)]
    pub all: bool,
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

/// A scanner as the command line drives it.
trait Progress {
    /// Requests sent, and the most the scan will send.
    fn progress(&self) -> (u64, u64);
}

impl Progress for ScanTable {
    fn progress(&self) -> (u64, u64) {
        Scanner::progress(self)
    }
}

impl Progress for Ipv6ScanTable {
    fn progress(&self) -> (u64, u64) {
        Ipv6Scanner::progress(self)
    }
}

/// Collects the findings of a scan of addresses `A` (and reports ARP
/// answered meanwhile).
struct Collect<A> {
    found: BTreeMap<A, Found>,
    bar: ProgressBar,
    json: bool,
    done: bool,
    failure: Option<Failure>,
}

impl<'s, A: Ord + Copy, S> Handler<Device, &'s mut S> for Collect<A>
where
    S: Progress + for<'e> Service<Event<'e> = ScanEvent<A>>,
{
    fn on_event(&mut self, ctx: &mut Context<'_, Device, &'s mut S>, event: Event<'_, ScanEvent<A>>) {
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
            // Answering the hosts that resolve a source address to reply is
            // the scan's own business.
            Event::Ipv6Answered { .. } => {}
            other => {
                let Ok(own) = other.node_event() else { return };
                let (me, json) = (ctx.name().clone(), self.json);
                if let Err(failure) = self.bar.suspend(|| Report::of(own, &me).print(json)) {
                    self.failure = Some(failure);
                    ctx.stop();
                }
            }
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, Device, &'s mut S>) -> Option<Instant> {
        let (sent, most) = ctx.services().progress();
        self.bar.set_length(most);
        self.bar.set_position(sent);
        None
    }
}

fn rtt_ms(rtt: Duration) -> f64 {
    rtt.total_micros() as f64 / 1000.0
}

/// Prints the rows in the order given, under a header for addresses
/// `width` wide.
fn print_found(global: &Global, args: &Args, rows: &[(IpAddr, &Found)], width: usize) -> Result<(), Failure> {
    if args.csv {
        print_line("ip,mac,rtt_ms,late,duplicates")?;
    } else if !global.json {
        print_line(format_args!("{:<width$}  {:<17}  {:>10}", "IP", "MAC", "RTT"))?;
    }
    for &(address, f) in rows {
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

/// A progress bar, when sending takes longer than a second.
fn progress_bar(global: &Global, sending: StdDuration, length: u64) -> ProgressBar {
    if sending <= StdDuration::from_secs(1) || global.quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} requests, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// What one family's scan found.
struct Outcome {
    hosts: usize,
    interrupted: bool,
    /// What to say if no family found anyone.
    nobody: String,
}

struct Scan<'a> {
    global: &'a Global,
    args: &'a Args,
    interface: &'a Interface,
}

impl Scan<'_> {
    fn config(&self) -> Result<ScanConfig, Failure> {
        let args = self.args;
        if !(args.backoff >= 1.0 && args.backoff <= 100.0) {
            return Err(Failure::error("--backoff must be between 1 and 100"));
        }
        let rate = match (args.pps, args.bandwidth) {
            (Some(pps), _) => Rate::PacketsPerSecond(pps),
            (None, Some(bps)) => Rate::BitsPerSecond(bps),
            (None, None) => Rate::BitsPerSecond(256_000),
        };
        Ok(ScanConfig {
            rate,
            attempts: args.retry,
            timeout: Duration::from_millis(args.timeout),
            backoff_percent: (args.backoff * 100.0).round() as u16,
            adaptive: !args.fixed_wait,
        })
    }

    /// The given range if it is IPv4 (`Ok(None)` if it is an IPv6 prefix).
    fn given_ipv4(&self) -> Result<Option<Ipv4Range>, Failure> {
        match &self.args.range {
            Some(text) if !text.contains(':') => text.parse().map(Some).map_err(Failure::from),
            _ => Ok(None),
        }
    }

    /// The given prefix if it is IPv6.
    fn given_ipv6(&self) -> Result<Option<(Ipv6Addr, u8)>, Failure> {
        let Some(text) = self.args.range.as_deref().filter(|text| text.contains(':')) else { return Ok(None) };
        let wrong = || Failure::error(format!("{text:?} is not an IPv6 prefix like 2001:db8::/64"));
        let (address, len) = text.split_once('/').unwrap_or((text, "128"));
        let len: u8 = len.parse().ok().filter(|&len| len <= 128).ok_or_else(wrong)?;
        Ok(Some((address.parse().map_err(|_| wrong())?, len)))
    }

    fn ipv4_range(&self) -> Result<Ipv4Range, Failure> {
        if let Some(range) = self.given_ipv4()? {
            return Ok(range);
        }
        let net = self.interface.ipv4.first().ok_or_else(|| {
            Failure::error(format!(
                "interface {} has no IPv4 address; give a range like 198.18.0.0/24",
                self.interface.name
            ))
        })?;
        Ok(Ipv4Range::cidr(net.address, net.prefix_len))
    }

    /// The addresses the IPv6 scan asks from: the interface's link-local
    /// one (or the one its MAC gives), then its address in the given prefix
    /// (or the one SLAAC would give it there), or else its other addresses.
    fn ipv6_sources(&self) -> Result<Vec<Ipv6Addr>, Failure> {
        let interface = self.interface;
        let mac = interface.mac;
        let mut sources = vec![interface.ipv6.iter().copied().find(|&a| is_link_local(a)).unwrap_or(link_local(mac))];
        match self.given_ipv6()? {
            Some((prefix, len)) => {
                let inside = |a: &Ipv6Addr| {
                    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                    u128::from(*a) & mask == u128::from(prefix) & mask
                };
                let own = interface.ipv6.iter().copied().find(inside);
                let source = own.unwrap_or_else(|| with_interface_id(prefix, mac));
                if !inside(&source) {
                    return Err(Failure::error(format!(
                        "{prefix}/{len} is narrower than a /64: give the /64 its hosts' addresses are in"
                    )));
                }
                sources.push(source);
            }
            None => sources.extend(interface.ipv6.iter().copied().filter(|&a| !is_link_local(a))),
        }
        sources.dedup();
        sources.truncate(MAX_SOURCES);
        Ok(sources)
    }

    fn open(&self, ethertype: EtherType) -> Result<Device, Failure> {
        let mut ethertypes = vec![ethertype];
        if self.args.respond.is_some() {
            ethertypes.push(EtherType::ARP);
        }
        device::open(self.interface, self.args.via, &Open { ethertypes: Some(ethertypes), ..Open::default() })
    }

    fn name() -> Result<Name, Failure> {
        Name::try_from("whohas-scan").map_err(Failure::from)
    }

    /// Runs `scanner` on a node until it is done; returns what it found.
    fn collect<A, S>(
        &self,
        device: Device,
        scanner: &mut S,
        sources: &[Ipv6Addr],
        sending: StdDuration,
    ) -> Result<(BTreeMap<A, Found>, bool), Failure>
    where
        A: Ord + Copy,
        S: Progress + for<'e> Service<Event<'e> = ScanEvent<A>>,
    {
        let mut resources = HostResources::new();
        let mut node: Node<Device, &mut S> =
            Node::with_services(device, Self::name()?, Config::default(), &mut resources, scanner);
        if let Some(address) = self.args.respond {
            node.add_ipv4_address(address)?;
        }
        // The node answers the hosts that solicit a source address to reply.
        for &source in sources {
            node.add_ipv6_address(source)?;
        }
        let bar = progress_bar(self.global, sending, node.services().progress().1);
        let mut collect = Collect { found: BTreeMap::new(), bar, json: self.global.json, done: false, failure: None };
        node.run(&mut signals::clock(WaitMode::Block), &mut collect)?;
        collect.bar.finish_and_clear();
        if let Some(failure) = collect.failure {
            return Err(failure);
        }
        Ok((collect.found, !collect.done && signals::received()))
    }

    fn ipv4(&self) -> Result<Outcome, Failure> {
        let (range, config) = (self.ipv4_range()?, self.config()?);
        let interface = self.interface;
        let source_ip = interface
            .ipv4
            .iter()
            .find(|net| range.index_of(net.address).is_some())
            .or(interface.ipv4.first())
            .map_or(Ipv4Addr::UNSPECIFIED, |net| net.address);
        let started = std::time::Instant::now();
        let mut scanner = Box::new(ScanTable::new(range, source_ip, config, signals::clock(WaitMode::Block).read())?);
        let sending: StdDuration = config.rate.interval(60).saturating_mul(range.len()).into();
        let (found, interrupted) = self.collect(self.open(EtherType::ARP)?, &mut *scanner, &[], sending)?;
        let rows: Vec<(IpAddr, &Found)> = found.iter().map(|(&address, f)| (IpAddr::V4(address), f)).collect();
        print_found(self.global, self.args, &rows, 15)?;
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
        Ok(Outcome { hosts: found.len(), interrupted, nobody: format!("no host answered in {range}") })
    }

    fn ipv6(&self) -> Result<Outcome, Failure> {
        let (sources, config) = (self.ipv6_sources()?, self.config()?);
        let interface = self.interface;
        if let Some((prefix, len)) = self.given_ipv6()? {
            if !self.global.quiet {
                eprintln!(
                    "{prefix}/{len} is not swept ({} addresses): asking ff02::1 from {}, which its hosts answer from \
                     their address in it",
                    if len <= 64 { "2^64 or more".to_owned() } else { format!("2^{}", 128 - u32::from(len)) },
                    sources[1]
                );
            }
        }
        let started = std::time::Instant::now();
        let ident = super::random_seed() as u16;
        let mut scanner = Box::new(Ipv6ScanTable::new(&sources, ident, config, signals::clock(WaitMode::Block).read()));
        let (found, interrupted) =
            self.collect(self.open(EtherType::IPV6)?, &mut *scanner, &sources, StdDuration::ZERO)?;
        // One row per address, grouped by MAC: link-local first.
        let mut rows: Vec<(IpAddr, &Found)> = found.iter().map(|(&address, f)| (IpAddr::V6(address), f)).collect();
        rows.sort_by_key(|&(address, f)| (f.mac, !matches!(address, IpAddr::V6(a) if is_link_local(a)), address));
        print_found(self.global, self.args, &rows, 25)?;
        let stats = scanner.stats();
        let macs: std::collections::BTreeSet<EthernetAddress> = found.values().map(|f| f.mac).collect();
        let sources: Vec<String> = sources.iter().map(ToString::to_string).collect();
        eprintln!(
            "{} addresses of {} hosts found on {} (IPv6, asked from {}): {} requests in {:.3} s{}",
            found.len(),
            macs.len(),
            interface.name,
            sources.join(", "),
            stats.requests_sent,
            started.elapsed().as_secs_f64(),
            if stats.duplicates > 0 { format!(", {} duplicate answers", stats.duplicates) } else { String::new() },
        );
        if scanner.overflow() > 0 {
            eprintln!("whohas: {} more addresses were heard than the scan holds", scanner.overflow());
        }
        let nobody = format!("no IPv6 host answered on {}", interface.name);
        Ok(Outcome { hosts: found.len(), interrupted, nobody })
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

/// Answers ARP for `address` until stopped.
fn respond(global: &Global, scan: &Scan<'_>, address: Ipv4Addr) -> Result<(), Failure> {
    let mut resources = HostResources::new();
    let mut node: Node<Device> =
        Node::new(scan.open(EtherType::ARP)?, Scan::name()?, Config::default(), &mut resources);
    node.add_ipv4_address(address)?;
    print_line(format_args!("answering ARP for {address} as {} on {}", node.mac_address(), scan.interface.name))?;
    let mut answer = Answer { json: global.json, failure: None };
    node.run(&mut signals::clock(WaitMode::Block), &mut answer)?;
    answer.failure.map_or(Ok(()), Err)
}

/// Runs `whohas scan`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let interface = device::interface(global)?;
    let scan = Scan { global, args, interface: &interface };
    if let (Some(address), None, false, false) = (args.respond, &args.range, args.ipv6, args.all) {
        return respond(global, &scan, address);
    }
    if args.ipv6 && scan.given_ipv4()?.is_some() {
        return Err(Failure::error("--ipv6 takes an IPv6 prefix like 2001:db8::/64, not an IPv4 range"));
    }
    let mut outcomes = Vec::new();
    if !args.ipv6 {
        outcomes.push(scan.ipv4()?);
    }
    if (args.ipv6 || args.all) && !outcomes.iter().any(|o| o.interrupted) {
        outcomes.push(scan.ipv6()?);
    }
    if outcomes.iter().any(|o| o.interrupted) {
        Err(Failure::interrupted("interrupted: the scan is incomplete"))
    } else if outcomes.iter().all(|o| o.hosts == 0) {
        let nobody: Vec<&str> = outcomes.iter().map(|o| o.nobody.as_str()).collect();
        Err(Failure::not_found(nobody.join(", and ")))
    } else {
        Ok(())
    }
}
