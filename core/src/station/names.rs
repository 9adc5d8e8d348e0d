//! name-ARP (ethertype 0xFFFE): answering for the node's name, resolving
//! other names.

use super::resolution::{Protocol, Tables};
use super::{Event, ResolveError, State};
use crate::device::LinkDevice;
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
            NameArpRepr::Reply { name, hardware_addr } => {
                Ok(self.take_reply::<NameArp, E>(now, header, name, hardware_addr))
            }
        }
    }

    /// Starts resolving `name`.
    pub(super) fn start_resolution<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        name: &Name,
    ) -> Result<(), ResolveError<D::Error>> {
        self.start_resolving::<NameArp, D>(device, now, name)
    }
}

/// name-ARP as a resolution protocol: names to MACs.
pub(super) struct NameArp;

impl Protocol for NameArp {
    type Key = Name;

    fn tables<'s>(state: &'s mut State<'_>) -> Tables<'s, Name> {
        Tables {
            config: &state.id.config,
            stats: &mut state.id.stats.name_arp,
            cache: state.cache,
            resolver: state.resolver,
        }
    }

    /// Broadcasts "who has `name`?".
    fn request<D: LinkDevice>(state: &mut State<'_>, device: &mut D, name: &Name) -> Result<bool, D::Error> {
        debug!("resolving {:?}", name);
        state.send_body(device, EthernetAddress::BROADCAST, &NameArpRepr::Request { name: name.clone() })
    }

    fn resolved<E>(name: Name, hardware_addr: EthernetAddress, previous: Option<EthernetAddress>) -> Event<'static, E> {
        Event::Resolved { name, hardware_addr, previous }
    }

    fn conflict<E>(name: Name, cached: EthernetAddress, other: EthernetAddress) -> Event<'static, E> {
        info!("{:?} answered by {:?} and {:?}", name, cached, other);
        Event::NameConflict { name, cached, other }
    }

    /// The frames queued for `name` are dropped, and the event says how many.
    fn failed<E>(state: &mut State<'_>, name: Name) -> Event<'static, E> {
        debug!("no answer for {:?}", name);
        let dropped_frames = state.drop_queued_for(&name);
        Event::ResolutionFailed { name, dropped_frames }
    }
}
