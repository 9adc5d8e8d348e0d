//! RFC 826 ARP (ethertype 0x0806): answering for the node's IPv4 addresses,
//! resolving others, and noticing stations that claim the node's addresses.

use core::net::Ipv4Addr;

use super::{Event, ResolveError, State};
use crate::device::LinkDevice;
use crate::resolver::{Answer, Due};
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
            ArpOperation::Reply => Ok(self.take_arp_reply(now, header, &arp)),
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

    fn take_arp_reply<E>(&mut self, now: Instant, header: &EthernetRepr, arp: &ArpRepr) -> Option<Event<'static, E>> {
        let (address, hardware_addr) = (arp.source_protocol_addr, arp.source_hardware_addr);
        let stats = &mut self.id.stats.arp;
        if header.dst_addr != self.id.mac {
            stats.rx_unsolicited_replies += 1;
            return None;
        }
        if hardware_addr != header.src_addr {
            stats.rx_mismatched_replies += 1;
            return None;
        }
        match self.arp_resolver.answer(&address, hardware_addr, now, &self.id.config) {
            Answer::First(address) => {
                stats.rx_answers += 1;
                let previous = self.arp_cache.last_known(&address).filter(|&previous| previous != hardware_addr);
                self.arp_cache.fill(address, hardware_addr, now, self.id.config.cache_ttl);
                Some(Event::ArpResolved { address, hardware_addr, previous })
            }
            Answer::Repeat => {
                stats.rx_repeated_replies += 1;
                None
            }
            Answer::Conflict { cached } => {
                stats.rx_answers += 1;
                stats.conflicts += 1;
                Some(Event::AddressConflict { address, cached, other: hardware_addr })
            }
            Answer::Unsolicited => {
                stats.rx_unsolicited_replies += 1;
                None
            }
        }
    }

    pub(super) fn start_arp_resolution<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        address: Ipv4Addr,
    ) -> Result<(), ResolveError<D::Error>> {
        if self.arp_resolver.start(now, &address, &self.id.config)? {
            self.request_ipv4(device, address).map_err(ResolveError::Device)?;
        }
        Ok(())
    }

    /// Broadcasts "who has `target`? tell" the node's first address, or
    /// 0.0.0.0 (like an RFC 5227 probe) if it has none.
    fn request_ipv4<D: LinkDevice>(&mut self, device: &mut D, target: Ipv4Addr) -> Result<(), D::Error> {
        let request = ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: self.id.mac,
            source_protocol_addr: self.id.ipv4.first().copied().unwrap_or(Ipv4Addr::UNSPECIFIED),
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: target,
        };
        if self.send_body(device, EthernetAddress::BROADCAST, &request)? {
            self.id.stats.arp.requests_sent += 1;
        }
        Ok(())
    }

    /// Sends the ARP retries due at `now`; returns the first failure.
    pub(super) fn next_arp_timer<D: LinkDevice, E>(
        &mut self,
        device: &mut D,
        now: Instant,
    ) -> Result<Option<Event<'static, E>>, D::Error> {
        while let Some((address, due)) = self.arp_resolver.next_due(now, &self.id.config) {
            match due {
                Due::Retry => self.request_ipv4(device, address)?,
                Due::Failed { .. } => {
                    self.id.stats.arp.failures += 1;
                    return Ok(Some(Event::ArpResolutionFailed { address }));
                }
            }
        }
        Ok(None)
    }
}
