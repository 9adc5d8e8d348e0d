//! ICMPv6 echo (RFC 4443) and neighbour discovery's solicitation and
//! advertisement (RFC 4861), in IPv6 (ethertype 0x86DD).
//!
//! ```text
//! offset  size  field (from the start of the ICMPv6 message)
//!      0     1  type: 128 echo request, 129 echo reply,
//!                     135 neighbour solicitation, 136 neighbour advertisement
//!      1     1  code: 0
//!      2     2  checksum over the IPv6 pseudo-header and the message
//! echo:
//!      4     2  identifier
//!      6     2  sequence number
//!      8     …  data
//! solicitation / advertisement:
//!      4     4  reserved / advertisement flags (R 0x80, S 0x40, O 0x20 in byte 4)
//!      8    16  target address
//!     24     …  options: type (1 source, 2 target link-layer address),
//!               length in units of 8 bytes, value (a MAC: 6 bytes)
//! ```
//!
//! What is rejected, as RFC 4861 7.1 says: a wrong checksum, neighbour
//! discovery with a hop limit other than 255 (it may have crossed a router)
//! or a code other than 0, a multicast target, and an option of length 0.
//! Reserved bits and unknown options are ignored.

use core::net::Ipv6Addr;

use super::ipv6::{self, HEADER_LEN, Ipv6Packet, Ipv6Repr, NEXT_HEADER_ICMPV6};
use super::{Error, EthernetAddress, Result};

/// ICMPv6 message types this module reads and writes.
mod kind {
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;
}

const OPTION_SOURCE_LLADDR: u8 = 1;
const OPTION_TARGET_LLADDR: u8 = 2;
/// Type, code, checksum.
const MESSAGE_HEADER_LEN: usize = 4;
/// Up to the first option of a solicitation or advertisement.
const NDP_FIXED_LEN: usize = 24;
/// A link-layer address option for Ethernet.
const LLADDR_OPTION_LEN: usize = 8;
/// The hop limit neighbour discovery is sent with and must arrive with.
pub const NDP_HOP_LIMIT: u8 = 255;

/// The flags of a neighbour advertisement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AdvertFlags {
    /// The sender is a router.
    pub router: bool,
    /// The advertisement answers a solicitation.
    pub solicited: bool,
    /// The advertisement should override a cached link-layer address.
    pub override_: bool,
}

impl AdvertFlags {
    fn from_byte(byte: u8) -> Self {
        AdvertFlags { router: byte & 0x80 != 0, solicited: byte & 0x40 != 0, override_: byte & 0x20 != 0 }
    }

    fn to_byte(self) -> u8 {
        u8::from(self.router) << 7 | u8::from(self.solicited) << 6 | u8::from(self.override_) << 5
    }
}

/// The meaning of an ICMPv6 message this crate speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Icmpv6Repr<'a> {
    /// "Are you there?" (type 128).
    EchoRequest {
        /// Chosen by the sender to match replies.
        ident: u16,
        /// Chosen by the sender to match replies.
        seq_no: u16,
        /// Returned in the reply.
        data: &'a [u8],
    },
    /// The answer to an echo request (type 129), with its identifier,
    /// sequence number and data.
    EchoReply {
        /// The request's identifier.
        ident: u16,
        /// The request's sequence number.
        seq_no: u16,
        /// The request's data.
        data: &'a [u8],
    },
    /// "Who has `target`?" (type 135).
    NeighborSolicit {
        /// The address asked for.
        target: Ipv6Addr,
        /// The asker's MAC, so the answer can be unicast (absent when the
        /// source is `::`, in duplicate address detection).
        source_lladdr: Option<EthernetAddress>,
    },
    /// "`target` is at `target_lladdr`" (type 136).
    NeighborAdvert {
        /// Router, solicited and override flags.
        flags: AdvertFlags,
        /// The address advertised.
        target: Ipv6Addr,
        /// Its MAC (absent when the advertiser assumes the asker knows it).
        target_lladdr: Option<EthernetAddress>,
    },
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

fn ipv6_at(bytes: &[u8], at: usize) -> Ipv6Addr {
    let mut octets = [0; 16];
    octets.copy_from_slice(&bytes[at..at + 16]);
    Ipv6Addr::from(octets)
}

/// The Ethernet address in the first option of kind `wanted`, if any.
/// An option of length 0 (which would loop forever) or one running past
/// the message is an error; other options are skipped.
fn lladdr_option(mut options: &[u8], wanted: u8) -> Result<Option<EthernetAddress>> {
    let mut found = None;
    while !options.is_empty() {
        let [kind, units, ..] = *options else { return Err(Error::Truncated) };
        let len = usize::from(units) * 8;
        if len == 0 {
            return Err(Error::ZeroLengthOption);
        }
        let option = options.get(..len).ok_or(Error::LengthBeyondBuffer)?;
        if kind == wanted && found.is_none() && len == LLADDR_OPTION_LEN {
            found = EthernetAddress::from_bytes(&option[2..8]);
        }
        options = &options[len..];
    }
    Ok(found)
}

impl<'a> Icmpv6Repr<'a> {
    /// Reads the ICMPv6 `message` that `ip` carries, checking its checksum
    /// and, for neighbour discovery, the rules of RFC 4861 7.1.1/7.1.2.
    /// Types other than these four are [`Error::Unsupported`].
    pub fn parse(ip: &Ipv6Repr, message: &'a [u8]) -> Result<Icmpv6Repr<'a>> {
        if message.len() < MESSAGE_HEADER_LEN {
            return Err(Error::Truncated);
        }
        if ipv6::checksum(&ip.src_addr, &ip.dst_addr, NEXT_HEADER_ICMPV6, message) != 0 {
            return Err(Error::Checksum);
        }
        let (kind, code) = (message[0], message[1]);
        match kind {
            kind::ECHO_REQUEST | kind::ECHO_REPLY => {
                if message.len() < 8 {
                    return Err(Error::Truncated);
                }
                let (ident, seq_no, data) = (u16_at(message, 4), u16_at(message, 6), &message[8..]);
                Ok(if kind == kind::ECHO_REQUEST {
                    Icmpv6Repr::EchoRequest { ident, seq_no, data }
                } else {
                    Icmpv6Repr::EchoReply { ident, seq_no, data }
                })
            }
            kind::NEIGHBOR_SOLICIT | kind::NEIGHBOR_ADVERT => {
                if message.len() < NDP_FIXED_LEN {
                    return Err(Error::Truncated);
                }
                if ip.hop_limit != NDP_HOP_LIMIT {
                    return Err(Error::HopLimit);
                }
                if code != 0 {
                    return Err(Error::Unsupported);
                }
                let target = ipv6_at(message, 8);
                if target.is_multicast() {
                    return Err(Error::MulticastTarget);
                }
                let options = &message[NDP_FIXED_LEN..];
                Ok(if kind == kind::NEIGHBOR_SOLICIT {
                    Icmpv6Repr::NeighborSolicit { target, source_lladdr: lladdr_option(options, OPTION_SOURCE_LLADDR)? }
                } else {
                    Icmpv6Repr::NeighborAdvert {
                        flags: AdvertFlags::from_byte(message[4]),
                        target,
                        target_lladdr: lladdr_option(options, OPTION_TARGET_LLADDR)?,
                    }
                })
            }
            _ => Err(Error::Unsupported),
        }
    }

    /// Whether this is neighbour discovery (sent with hop limit 255).
    pub fn is_ndp(&self) -> bool {
        matches!(self, Icmpv6Repr::NeighborSolicit { .. } | Icmpv6Repr::NeighborAdvert { .. })
    }

    /// Bytes of the message.
    pub fn buffer_len(&self) -> usize {
        let lladdr_len = |lladdr: &Option<EthernetAddress>| if lladdr.is_some() { LLADDR_OPTION_LEN } else { 0 };
        match self {
            Icmpv6Repr::EchoRequest { data, .. } | Icmpv6Repr::EchoReply { data, .. } => 8 + data.len(),
            Icmpv6Repr::NeighborSolicit { source_lladdr, .. } => NDP_FIXED_LEN + lladdr_len(source_lladdr),
            Icmpv6Repr::NeighborAdvert { target_lladdr, .. } => NDP_FIXED_LEN + lladdr_len(target_lladdr),
        }
    }

    /// Writes the message into `message` (exactly [`buffer_len`](Self::buffer_len)
    /// bytes) with the checksum for a packet from `src` to `dst`.
    pub fn emit(&self, src: &Ipv6Addr, dst: &Ipv6Addr, message: &mut [u8]) {
        message.fill(0);
        match *self {
            Icmpv6Repr::EchoRequest { ident, seq_no, data } | Icmpv6Repr::EchoReply { ident, seq_no, data } => {
                message[0] =
                    if matches!(self, Icmpv6Repr::EchoRequest { .. }) { kind::ECHO_REQUEST } else { kind::ECHO_REPLY };
                message[4..6].copy_from_slice(&ident.to_be_bytes());
                message[6..8].copy_from_slice(&seq_no.to_be_bytes());
                message[8..].copy_from_slice(data);
            }
            Icmpv6Repr::NeighborSolicit { target, source_lladdr } => {
                message[0] = kind::NEIGHBOR_SOLICIT;
                message[8..24].copy_from_slice(&target.octets());
                write_lladdr(&mut message[NDP_FIXED_LEN..], OPTION_SOURCE_LLADDR, source_lladdr);
            }
            Icmpv6Repr::NeighborAdvert { flags, target, target_lladdr } => {
                message[0] = kind::NEIGHBOR_ADVERT;
                message[4] = flags.to_byte();
                message[8..24].copy_from_slice(&target.octets());
                write_lladdr(&mut message[NDP_FIXED_LEN..], OPTION_TARGET_LLADDR, target_lladdr);
            }
        }
        let sum = ipv6::checksum(src, dst, NEXT_HEADER_ICMPV6, message);
        message[2..4].copy_from_slice(&sum.to_be_bytes());
    }
}

fn write_lladdr(option: &mut [u8], kind: u8, lladdr: Option<EthernetAddress>) {
    if let Some(mac) = lladdr {
        option[0] = kind;
        option[1] = 1;
        option[2..8].copy_from_slice(&mac.0);
    }
}

/// An ICMPv6 message in its IPv6 packet: an Ethernet payload of ethertype
/// 0x86DD. Sent with hop limit 255, which neighbour discovery requires and
/// an echo may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Icmpv6Packet<'a> {
    /// The IPv6 source.
    pub src_addr: Ipv6Addr,
    /// The IPv6 destination.
    pub dst_addr: Ipv6Addr,
    /// The message.
    pub message: Icmpv6Repr<'a>,
}

impl<'a> Icmpv6Packet<'a> {
    /// Reads an IPv6 packet carrying ICMPv6 (`body` is the Ethernet
    /// payload). A packet of another protocol, or an ICMPv6 type not
    /// spoken here, is [`Error::Unsupported`]; extension headers are not
    /// followed (neighbour discovery never uses them).
    pub fn parse(body: &'a [u8]) -> Result<(Ipv6Repr, Icmpv6Packet<'a>)> {
        let packet = Ipv6Packet::new_checked(body)?;
        let ip = Ipv6Repr::parse(&packet)?;
        if ip.next_header != NEXT_HEADER_ICMPV6 {
            return Err(Error::Unsupported);
        }
        let message = Icmpv6Repr::parse(&ip, &body[HEADER_LEN..ip.buffer_len()])?;
        Ok((ip, Icmpv6Packet { src_addr: ip.src_addr, dst_addr: ip.dst_addr, message }))
    }

    /// Bytes of the IPv6 packet.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.message.buffer_len()
    }

    /// Writes the IPv6 packet into `buffer` (exactly
    /// [`buffer_len`](Self::buffer_len) bytes).
    pub fn emit(&self, buffer: &mut [u8]) {
        let ip = Ipv6Repr {
            src_addr: self.src_addr,
            dst_addr: self.dst_addr,
            next_header: NEXT_HEADER_ICMPV6,
            payload_len: self.message.buffer_len() as u16,
            hop_limit: NDP_HOP_LIMIT,
        };
        let mut packet = Ipv6Packet::new_unchecked(buffer);
        ip.emit(&mut packet);
        self.message.emit(&self.src_addr, &self.dst_addr, packet.payload_mut());
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::wire::ipv6::{link_local, solicited_node};

    const MAC: EthernetAddress = EthernetAddress([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]);

    /// A neighbour solicitation and the advertisement answering it, as two
    /// Linux kernels sent them (tcpdump; tshark reads "Neighbor
    /// Solicitation for 2001:db8::2 from 02:00:5e:10:00:01" and "Neighbor
    /// Advertisement 2001:db8::2 (sol, ovr) is at 02:00:5e:10:00:02").
    const KERNEL_NS: &str = "6000000000203aff 20010db8000000000000000000000001 ff0200000000000000000001ff000002 \
        8700be16 00000000 20010db8000000000000000000000002 0101 02005e100001";
    const KERNEL_NA: &str = "6000000000203aff 20010db8000000000000000000000002 20010db8000000000000000000000001 \
        88002c61 60000000 20010db8000000000000000000000002 0201 02005e100002";

    fn hex(text: &str) -> std::vec::Vec<u8> {
        let digits: std::string::String = text.chars().filter(|c| !c.is_whitespace()).collect();
        (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap()).collect()
    }

    fn round_trip(packet: Icmpv6Packet<'_>) -> std::vec::Vec<u8> {
        let mut bytes = std::vec![0xa5u8; packet.buffer_len()];
        packet.emit(&mut bytes);
        let (ip, parsed) = Icmpv6Packet::parse(&bytes).unwrap();
        assert_eq!(ip.hop_limit, 255);
        assert_eq!(parsed, packet);
        bytes
    }

    #[test]
    fn reads_and_writes_the_kernels_solicitation_and_advertisement_byte_for_byte() {
        let (a, b): (Ipv6Addr, Ipv6Addr) = ("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap());
        let solicitation = Icmpv6Packet {
            src_addr: a,
            dst_addr: solicited_node(b),
            message: Icmpv6Repr::NeighborSolicit { target: b, source_lladdr: Some(MAC) },
        };
        let advertisement = Icmpv6Packet {
            src_addr: b,
            dst_addr: a,
            message: Icmpv6Repr::NeighborAdvert {
                flags: AdvertFlags { router: false, solicited: true, override_: true },
                target: b,
                target_lladdr: Some(EthernetAddress([0x02, 0x00, 0x5e, 0x10, 0x00, 0x02])),
            },
        };
        for (text, expected) in [(KERNEL_NS, solicitation), (KERNEL_NA, advertisement)] {
            let bytes = hex(text);
            assert_eq!(Icmpv6Packet::parse(&bytes).unwrap().1, expected);
            assert_eq!(round_trip(expected), bytes);
        }
    }

    #[test]
    fn every_message_round_trips() {
        let (a, b) = (link_local(MAC), "2001:db8::7".parse::<Ipv6Addr>().unwrap());
        for message in [
            Icmpv6Repr::EchoRequest { ident: 0x1234, seq_no: 7, data: b"whohas" },
            Icmpv6Repr::EchoReply { ident: 0x1234, seq_no: 7, data: b"odd" },
            Icmpv6Repr::NeighborSolicit { target: b, source_lladdr: None },
            Icmpv6Repr::NeighborAdvert {
                flags: AdvertFlags { router: true, solicited: true, override_: false },
                target: b,
                target_lladdr: Some(MAC),
            },
        ] {
            round_trip(Icmpv6Packet { src_addr: a, dst_addr: b, message });
        }
    }

    #[test]
    fn rejects_what_rfc_4861_rejects_and_ignores_what_it_ignores() {
        let good = hex(KERNEL_NS);
        // Reserved bits set, an unknown option before the address: still read.
        let mut liberal = good.clone();
        liberal[44] = 0xff;
        liberal.splice(64..64, [9, 1, 0, 0, 0, 0, 0, 0]);
        liberal[5] += 8;
        fix_checksum(&mut liberal);
        assert!(matches!(parse(&liberal), Ok(Icmpv6Repr::NeighborSolicit { source_lladdr: Some(MAC), .. })));

        let mut corrupt = good.clone();
        corrupt[70] ^= 1;
        assert_eq!(parse(&corrupt), Err(Error::Checksum));
        let mut routed = good.clone();
        routed[7] = 64;
        assert_eq!(parse(&routed), Err(Error::HopLimit));
        let mut empty_option = good.clone();
        empty_option[65] = 0;
        fix_checksum(&mut empty_option);
        assert_eq!(parse(&empty_option), Err(Error::ZeroLengthOption));
        let mut long_option = good.clone();
        long_option[65] = 2;
        fix_checksum(&mut long_option);
        assert_eq!(parse(&long_option), Err(Error::LengthBeyondBuffer));
        let mut group_target = good.clone();
        group_target[48] = 0xff;
        fix_checksum(&mut group_target);
        assert_eq!(parse(&group_target), Err(Error::MulticastTarget));
        let mut short = good.clone();
        short.truncate(60);
        short[5] = 20;
        fix_checksum(&mut short);
        assert_eq!(parse(&short), Err(Error::Truncated));
        let mut other = good.clone();
        other[40] = 134;
        fix_checksum(&mut other);
        assert_eq!(parse(&other), Err(Error::Unsupported));
    }

    fn parse(bytes: &[u8]) -> Result<Icmpv6Repr<'_>> {
        Icmpv6Packet::parse(bytes).map(|(_, packet)| packet.message)
    }

    fn fix_checksum(bytes: &mut [u8]) {
        bytes[42..44].fill(0);
        let (src, dst) = (ipv6_at(bytes, 8), ipv6_at(bytes, 24));
        let end = HEADER_LEN + usize::from(u16_at(bytes, 4));
        let sum = ipv6::checksum(&src, &dst, NEXT_HEADER_ICMPV6, &bytes[HEADER_LEN..end]);
        bytes[42..44].copy_from_slice(&sum.to_be_bytes());
    }
}
