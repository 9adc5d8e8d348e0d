//! IPv6 neighbour discovery (RFC 4861, ICMPv6 in ethertype 0x86DD):
//! answering solicitations for the node's IPv6 addresses, resolving others,
//! and noticing stations that claim the node's addresses. The same rules
//! as ARP: only an advertisement that answers the node's own solicitation,
//! unicast to it, is cached.

use core::net::Ipv6Addr;

use super::resolution::{Protocol, Tables};
use super::{Event, ResolveError, State};
use crate::device::LinkDevice;
use crate::time::Instant;
use crate::wire::ipv6::{self, link_local, multicast_mac, solicited_node};
use crate::wire::{AdvertFlags, Error, EthernetAddress, EthernetRepr, Icmpv6Packet, Icmpv6Repr};

impl State<'_> {
    pub(super) fn process_ipv6<D: LinkDevice, E>(
        &mut self,
        device: &mut D,
        now: Instant,
        header: &EthernetRepr,
        body: &[u8],
    ) -> Result<Option<Event<'static, E>>, D::Error> {
        let (ip, packet) = match Icmpv6Packet::parse(body) {
            Ok(parsed) => parsed,
            // Other IPv6 traffic, and ICMPv6 other than echo and NDP.
            Err(Error::Unsupported) => {
                self.id.stats.link.rx_foreign += 1;
                return Ok(None);
            }
            Err(err) => {
                debug!("dropping malformed ICMPv6 from {:?}: {:?}", header.src_addr, err);
                self.id.stats.ndp.rx_malformed += 1;
                return Ok(None);
            }
        };
        let stats = &mut self.id.stats.ndp;
        match packet.message {
            Icmpv6Repr::NeighborSolicit { target, source_lladdr } => {
                if !self.id.ipv6.contains(&target) {
                    stats.rx_requests_for_others += 1;
                    return Ok(None);
                }
                if ip.src_addr.is_unspecified() {
                    // Duplicate address detection by another station.
                    info!("{:?} probes for our address {:?}", header.src_addr, target);
                    stats.rx_claims += 1;
                    return Ok(None);
                }
                let requester = source_lladdr.unwrap_or(header.src_addr);
                let answer = Icmpv6Packet {
                    src_addr: target,
                    dst_addr: ip.src_addr,
                    message: Icmpv6Repr::NeighborAdvert {
                        flags: AdvertFlags { router: false, solicited: true, override_: true },
                        target,
                        target_lladdr: Some(self.id.mac),
                    },
                };
                if !self.send_body(device, requester, &answer)? {
                    self.id.stats.ndp.requests_unanswered += 1;
                    return Ok(None);
                }
                self.id.stats.ndp.replies_sent += 1;
                Ok(Some(Event::Ipv6Answered { requester, address: target }))
            }
            Icmpv6Repr::NeighborAdvert { flags, target, target_lladdr } => {
                if self.id.ipv6.contains(&target) {
                    info!("{:?} claims our address {:?}", header.src_addr, target);
                    stats.rx_claims += 1;
                    return Ok(None);
                }
                if !flags.solicited {
                    stats.rx_unsolicited_replies += 1;
                    return Ok(None);
                }
                let hardware_addr = target_lladdr.unwrap_or(header.src_addr);
                Ok(self.take_reply::<Ndp, E>(now, header, target, hardware_addr))
            }
            Icmpv6Repr::EchoRequest { .. }
            | Icmpv6Repr::EchoReply { .. }
            | Icmpv6Repr::MldQuery { .. }
            | Icmpv6Repr::MldReport(_) => {
                self.id.stats.link.rx_foreign += 1;
                Ok(None)
            }
        }
    }

    pub(super) fn start_ipv6_resolution<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        address: Ipv6Addr,
    ) -> Result<(), ResolveError<D::Error>> {
        self.start_resolving::<Ndp, D>(device, now, &address)
    }

    /// The node's source address towards `target`: its first address of the
    /// same scope (link-local or not), else its link-local address derived
    /// from its MAC, as a Linux host would have it.
    pub(crate) fn ipv6_source(&self, target: Ipv6Addr) -> Ipv6Addr {
        let link_scope = ipv6::is_link_local(target);
        self.id
            .ipv6
            .iter()
            .copied()
            .find(|&address| ipv6::is_link_local(address) == link_scope)
            .unwrap_or_else(|| link_local(self.id.mac))
    }
}

/// IPv6 neighbour discovery as a resolution protocol: IPv6 addresses to
/// MACs.
pub(super) struct Ndp;

impl Protocol for Ndp {
    type Key = Ipv6Addr;

    fn tables<'s>(state: &'s mut State<'_>) -> Tables<'s, Ipv6Addr> {
        Tables {
            config: &state.id.config,
            stats: &mut state.id.stats.ndp,
            cache: state.ndp_cache,
            resolver: state.ndp_resolver,
        }
    }

    /// Sends "who has `target`?" to its solicited-node group, with the
    /// node's MAC so the answer can be unicast.
    fn request<D: LinkDevice>(state: &mut State<'_>, device: &mut D, target: &Ipv6Addr) -> Result<bool, D::Error> {
        let group = solicited_node(*target);
        let solicitation = Icmpv6Packet {
            src_addr: state.ipv6_source(*target),
            dst_addr: group,
            message: Icmpv6Repr::NeighborSolicit { target: *target, source_lladdr: Some(state.id.mac) },
        };
        state.send_body(device, multicast_mac(group), &solicitation)
    }

    fn resolved<E>(
        address: Ipv6Addr,
        hardware_addr: EthernetAddress,
        previous: Option<EthernetAddress>,
    ) -> Event<'static, E> {
        Event::Ipv6Resolved { address, hardware_addr, previous }
    }

    fn conflict<E>(address: Ipv6Addr, cached: EthernetAddress, other: EthernetAddress) -> Event<'static, E> {
        Event::Ipv6Conflict { address, cached, other }
    }

    fn failed<E>(_: &mut State<'_>, address: Ipv6Addr) -> Event<'static, E> {
        Event::Ipv6ResolutionFailed { address }
    }
}
