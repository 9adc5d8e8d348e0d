//! name-ARP (ethertype 0xFFFE): answering for the node's name, resolving
//! other names.

use super::{Event, ResolveError, State};
use crate::device::LinkDevice;
use crate::resolver::{Answer, Due};
use crate::time::Instant;
use crate::wire::{EthernetAddress, EthernetRepr, Name, NameArpPacket, NameArpRepr};

impl State<'_> {
    pub(super) fn process_name_arp<D: LinkDevice, E>(
        &mut self,
        device: &mut D,
        now: Instant,
        header: &EthernetRepr,
        body: &[u8],
    ) -> Result<Option<Event<'static, E>>, D::Error> {
        let repr = match NameArpRepr::parse(&NameArpPacket::new_unchecked(body)) {
            Ok(repr) => repr,
            Err(err) => {
                debug!("dropping malformed name-ARP from {:?}: {:?}", header.src_addr, err);
                self.id.stats.name_arp.rx_malformed += 1;
                return Ok(None);
            }
        };
        match repr {
            NameArpRepr::Request { name } => {
                if name != self.id.name || !self.id.answering {
                    self.id.stats.name_arp.rx_requests_for_others += 1;
                    return Ok(None);
                }
                let reply = NameArpRepr::Reply { name, hardware_addr: self.id.mac };
                if !self.send_body(device, header.src_addr, &reply)? {
                    self.id.stats.name_arp.requests_unanswered += 1;
                    return Ok(None);
                }
                self.id.stats.name_arp.replies_sent += 1;
                debug!("answered {:?} for our name", header.src_addr);
                Ok(Some(Event::Answered { requester: header.src_addr }))
            }
            NameArpRepr::Reply { name, hardware_addr } => Ok(self.take_name_reply(now, header, name, hardware_addr)),
        }
    }

    /// A reply to a name resolution: cached if it answers one in progress,
    /// a conflict if it contradicts a fresh answer, otherwise counted.
    fn take_name_reply<E>(
        &mut self,
        now: Instant,
        header: &EthernetRepr,
        name: Name,
        hardware_addr: EthernetAddress,
    ) -> Option<Event<'static, E>> {
        let stats = &mut self.id.stats.name_arp;
        if header.dst_addr != self.id.mac {
            debug!("ignoring broadcast reply {:?} is at {:?}", name, hardware_addr);
            stats.rx_unsolicited_replies += 1;
            return None;
        }
        if hardware_addr != header.src_addr {
            debug!("ignoring reply for {:?} naming {:?} but sent by {:?}", name, hardware_addr, header.src_addr);
            stats.rx_mismatched_replies += 1;
            return None;
        }
        match self.resolver.answer(&name, hardware_addr, now, &self.id.config) {
            Answer::First(name) => {
                stats.rx_answers += 1;
                debug!("{:?} is at {:?}", name, hardware_addr);
                let previous = self.cache.last_known(&name).filter(|&previous| previous != hardware_addr);
                self.cache.fill(name.clone(), hardware_addr, now, self.id.config.cache_ttl);
                Some(Event::Resolved { name, hardware_addr, previous })
            }
            Answer::Repeat => {
                stats.rx_repeated_replies += 1;
                None
            }
            Answer::Conflict { cached } => {
                info!("{:?} answered by {:?} and {:?}", name, cached, hardware_addr);
                stats.rx_answers += 1;
                stats.conflicts += 1;
                Some(Event::NameConflict { name, cached, other: hardware_addr })
            }
            Answer::Unsolicited => {
                debug!("ignoring unsolicited reply {:?} is at {:?}", name, hardware_addr);
                stats.rx_unsolicited_replies += 1;
                None
            }
        }
    }

    pub(super) fn start_resolution<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        name: &Name,
    ) -> Result<(), ResolveError<D::Error>> {
        if self.resolver.start(now, name, &self.id.config)? {
            debug!("resolving {:?}", name);
            self.request_name(device, name).map_err(ResolveError::Device)?;
        }
        Ok(())
    }

    /// Broadcasts "who has `name`?".
    fn request_name<D: LinkDevice>(&mut self, device: &mut D, name: &Name) -> Result<(), D::Error> {
        let request = NameArpRepr::Request { name: name.clone() };
        if self.send_body(device, EthernetAddress::BROADCAST, &request)? {
            self.id.stats.name_arp.requests_sent += 1;
        }
        Ok(())
    }

    /// Sends the name-ARP retries due at `now`; returns the first failure.
    pub(super) fn next_name_timer<D: LinkDevice, E>(
        &mut self,
        device: &mut D,
        now: Instant,
    ) -> Result<Option<Event<'static, E>>, D::Error> {
        while let Some((name, due)) = self.resolver.next_due(now, &self.id.config) {
            match due {
                Due::Retry => self.request_name(device, &name)?,
                Due::Failed { attempts } => {
                    debug!("no answer for {:?} after {} requests", name, attempts);
                    self.id.stats.name_arp.failures += 1;
                    let dropped_frames = self.drop_queued_for(&name);
                    return Ok(Some(Event::ResolutionFailed { name, dropped_frames }));
                }
            }
        }
        Ok(None)
    }
}
