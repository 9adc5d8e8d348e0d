//! RFC 826 ARP (ethertype 0x0806): answering for the node's IPv4 addresses,
//! resolving others, and noticing stations that claim the node's addresses.

use core::net::Ipv4Addr;

use super::resolution::{Protocol, Tables};
use super::{Event, ResolveError, State};
use crate::device::LinkDevice;
use crate::time::Instant;
use crate::wire::{ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetRepr};

impl State<'_> {
    pub(super) fn process_arp<D: LinkDevice, E>(
        &mut self,
        device: &mut D,
        now: Instant,
        header: &EthernetRepr,
        body: &[u8],
    ) -> Result<Option<Event<'static, E>>, D::Error> {
        let arp = match ArpPacket::new_checked(body).and_then(|packet| ArpRepr::parse(&packet)) {
            Ok(arp) => arp,
            Err(err) => {
                debug!("dropping malformed ARP from {:?}: {:?}", header.src_addr, err);
                self.id.stats.arp.rx_malformed += 1;
                return Ok(None);
            }
        };
        if self.id.ipv4.contains(&arp.source_protocol_addr) {
            info!("{:?} claims our address {:?}", arp.source_hardware_addr, arp.source_protocol_addr);
            self.id.stats.arp.rx_claims += 1;
            return Ok(Some(Event::AddressClaimed { address: arp.source_protocol_addr, by: arp.source_hardware_addr }));
        }
        match arp.operation {
            ArpOperation::Request => {
                self.merge(now, &arp);
                if !self.id.ipv4.contains(&arp.target_protocol_addr) || arp.is_gratuitous() {
                    self.id.stats.arp.rx_requests_for_others += 1;
                    return Ok(None);
                }
                let reply = ArpRepr {
                    operation: ArpOperation::Reply,
                    source_hardware_addr: self.id.mac,
                    source_protocol_addr: arp.target_protocol_addr,
                    target_hardware_addr: arp.source_hardware_addr,
                    target_protocol_addr: arp.source_protocol_addr,
                };
                if !self.send_body(device, arp.source_hardware_addr, &reply)? {
                    self.id.stats.arp.requests_unanswered += 1;
                    return Ok(None);
                }
                self.id.stats.arp.replies_sent += 1;
                Ok(Some(Event::ArpAnswered { requester: arp.source_hardware_addr, address: arp.target_protocol_addr }))
            }
            ArpOperation::Reply => {
                Ok(self.take_reply::<Arp, E>(now, header, arp.source_protocol_addr, arp.source_hardware_addr))
            }
        }
    }

    /// RFC 826's merge step, restricted: a request from a cached address
    /// with its cached MAC refreshes the entry; a different MAC is counted,
    /// never merged (anyone could send it).
    fn merge(&mut self, now: Instant, arp: &ArpRepr) {
        match self.arp_cache.lookup(&arp.source_protocol_addr, now) {
            Some(cached) if cached == arp.source_hardware_addr => {
                self.arp_cache.fill(arp.source_protocol_addr, cached, now, self.id.config.cache_ttl);
            }
            Some(_) => self.id.stats.arp.conflicts += 1,
            None => {}
        }
    }

    pub(super) fn start_arp_resolution<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        address: Ipv4Addr,
    ) -> Result<(), ResolveError<D::Error>> {
        self.start_resolving::<Arp, D>(device, now, &address)
    }
}

/// RFC 826 ARP as a resolution protocol: IPv4 addresses to MACs.
pub(super) struct Arp;

impl Protocol for Arp {
    type Key = Ipv4Addr;

    fn tables<'s>(state: &'s mut State<'_>) -> Tables<'s, Ipv4Addr> {
        Tables {
            config: &state.id.config,
            stats: &mut state.id.stats.arp,
            cache: state.arp_cache,
            resolver: state.arp_resolver,
        }
    }

    /// Broadcasts "who has `target`? tell" the node's first address, or
    /// 0.0.0.0 (like an RFC 5227 probe) if it has none.
    fn request<D: LinkDevice>(state: &mut State<'_>, device: &mut D, target: &Ipv4Addr) -> Result<bool, D::Error> {
        let request = ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: state.id.mac,
            source_protocol_addr: state.id.ipv4.first().copied().unwrap_or(Ipv4Addr::UNSPECIFIED),
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: *target,
        };
        state.send_body(device, EthernetAddress::BROADCAST, &request)
    }

    fn resolved<E>(
        address: Ipv4Addr,
        hardware_addr: EthernetAddress,
        previous: Option<EthernetAddress>,
    ) -> Event<'static, E> {
        Event::ArpResolved { address, hardware_addr, previous }
    }

    fn conflict<E>(address: Ipv4Addr, cached: EthernetAddress, other: EthernetAddress) -> Event<'static, E> {
        Event::AddressConflict { address, cached, other }
    }

    fn failed<E>(_: &mut State<'_>, address: Ipv4Addr) -> Event<'static, E> {
        Event::ArpResolutionFailed { address }
    }
}
