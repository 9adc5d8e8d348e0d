//! ICMPv6 echo (RFC 4443), neighbour discovery's solicitation and
//! advertisement (RFC 4861), and the MLDv2 general query and report
//! (RFC 3810), in IPv6 (ethertype 0x86DD).
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
//! MLDv2 query (130) / report (143), after a hop-by-hop header with the
//! router alert option, hop limit 1:
//!      4     2  query: maximum response delay (ms); report: reserved
//!      6     2  query: reserved; report: number of address records
//!      8     …  query: multicast address (:: for all), flags, QQIC,
//!               number of sources; report: records of type (1), aux length
//!               (1, in 4 bytes), number of sources (2), multicast address
//!               (16), the sources and the aux data
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
    pub const MLD_QUERY: u8 = 130;
    pub const MLD_REPORT: u8 = 143;
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
/// The hop limit of MLD (RFC 3810 5: it never leaves the link).
const MLD_HOP_LIMIT: u8 = 1;
/// The next-header value of the hop-by-hop options header.
const NEXT_HEADER_HOP_BY_HOP: u8 = 0;
/// The hop-by-hop header MLD travels behind: ICMPv6 next, 8 bytes, a router
/// alert option for MLD (type 5, length 2, value 0) and a 2-byte PadN.
const MLD_HOP_BY_HOP: [u8; 8] = [58, 0, 5, 2, 0, 0, 1, 0];
/// An MLDv2 general query.
const MLD_QUERY_LEN: usize = 28;
/// An MLDv2 report's fixed part, before its records.
const MLD_REPORT_FIXED_LEN: usize = 8;
/// An address record's fixed part, before its sources and aux data.
const MLD_RECORD_FIXED_LEN: usize = 20;

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
    /// An MLD query (type 130), read as the general query this crate
    /// sends: "which groups do you listen to?", answered after a random
    /// delay up to `max_response_ms`.
    MldQuery {
        /// The longest delay before an answer, in milliseconds.
        max_response_ms: u16,
    },
    /// An MLDv2 report (type 143): the groups a station listens to. Its
    /// solicited-node groups tell the last 24 bits of each of its
    /// addresses.
    MldReport(MldRecords<'a>),
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
            kind::MLD_QUERY if message.len() >= 24 => Ok(Icmpv6Repr::MldQuery { max_response_ms: u16_at(message, 4) }),
            kind::MLD_REPORT if message.len() >= MLD_REPORT_FIXED_LEN => {
                let records = MldRecords { count: u16_at(message, 6), bytes: &message[MLD_REPORT_FIXED_LEN..] };
                records.check()?;
                Ok(Icmpv6Repr::MldReport(records))
            }
            kind::MLD_QUERY | kind::MLD_REPORT => Err(Error::Truncated),
            _ => Err(Error::Unsupported),
        }
    }

    /// Whether this is MLD (sent with hop limit 1 behind a router alert).
    pub fn is_mld(&self) -> bool {
        matches!(self, Icmpv6Repr::MldQuery { .. } | Icmpv6Repr::MldReport(_))
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
            Icmpv6Repr::MldQuery { .. } => MLD_QUERY_LEN,
            Icmpv6Repr::MldReport(records) => MLD_REPORT_FIXED_LEN + records.bytes.len(),
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
            Icmpv6Repr::MldQuery { max_response_ms } => {
                // A general query: group ::, no sources, QQIC 125 s.
                message[0] = kind::MLD_QUERY;
                message[4..6].copy_from_slice(&max_response_ms.to_be_bytes());
                message[25] = 125;
            }
            Icmpv6Repr::MldReport(records) => {
                message[0] = kind::MLD_REPORT;
                message[6..8].copy_from_slice(&records.count.to_be_bytes());
                message[MLD_REPORT_FIXED_LEN..].copy_from_slice(records.bytes);
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

/// The address records of an MLDv2 report, checked to lie within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MldRecords<'a> {
    count: u16,
    bytes: &'a [u8],
}

impl<'a> MldRecords<'a> {
    /// The records of `count` whose bytes are `bytes`, unchecked.
    pub fn new(count: u16, bytes: &'a [u8]) -> Self {
        MldRecords { count, bytes }
    }

    /// Every record lies within the report (what follows them is ignored).
    fn check(&self) -> Result<()> {
        let mut at = 0;
        for _ in 0..self.count {
            at = self.record_end(at).ok_or(Error::LengthBeyondBuffer)?;
        }
        Ok(())
    }

    /// Where the record starting at `at` ends, if it lies within the bytes.
    fn record_end(&self, at: usize) -> Option<usize> {
        let fixed = self.bytes.get(at..at + MLD_RECORD_FIXED_LEN)?;
        let len = MLD_RECORD_FIXED_LEN + usize::from(fixed[1]) * 4 + usize::from(u16_at(fixed, 2)) * 16;
        (at + len <= self.bytes.len()).then_some(at + len)
    }

    /// The multicast groups the records are about.
    pub fn groups(&self) -> impl Iterator<Item = Ipv6Addr> + 'a {
        let records = *self;
        let mut at = 0;
        (0..self.count).map_while(move |_| {
            let end = records.record_end(at)?;
            let group = ipv6_at(records.bytes, at + 4);
            at = end;
            Some(group)
        })
    }
}

/// An ICMPv6 message in its IPv6 packet: an Ethernet payload of ethertype
/// 0x86DD. Sent with hop limit 255, which neighbour discovery requires and
/// an echo may carry; MLD with hop limit 1 behind a router alert.
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
    /// payload), directly or behind one hop-by-hop header (as MLD travels).
    /// A packet of another protocol, or an ICMPv6 type not spoken here, is
    /// [`Error::Unsupported`].
    pub fn parse(body: &'a [u8]) -> Result<(Ipv6Repr, Icmpv6Packet<'a>)> {
        let packet = Ipv6Packet::new_checked(body)?;
        let ip = Ipv6Repr::parse(&packet)?;
        let mut payload = &body[HEADER_LEN..ip.buffer_len()];
        let mut next_header = ip.next_header;
        if next_header == NEXT_HEADER_HOP_BY_HOP {
            let [next, units, ..] = *payload else { return Err(Error::Truncated) };
            let len = (usize::from(units) + 1) * 8;
            payload = payload.get(len..).ok_or(Error::LengthBeyondBuffer)?;
            next_header = next;
        }
        if next_header != NEXT_HEADER_ICMPV6 {
            return Err(Error::Unsupported);
        }
        let message = Icmpv6Repr::parse(&ip, payload)?;
        Ok((ip, Icmpv6Packet { src_addr: ip.src_addr, dst_addr: ip.dst_addr, message }))
    }

    /// Bytes of the IPv6 packet.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.extension_len() + self.message.buffer_len()
    }

    /// MLD travels behind a hop-by-hop header with a router alert.
    fn extension_len(&self) -> usize {
        if self.message.is_mld() { MLD_HOP_BY_HOP.len() } else { 0 }
    }

    /// Writes the IPv6 packet into `buffer` (exactly
    /// [`buffer_len`](Self::buffer_len) bytes).
    pub fn emit(&self, buffer: &mut [u8]) {
        let mld = self.message.is_mld();
        let ip = Ipv6Repr {
            src_addr: self.src_addr,
            dst_addr: self.dst_addr,
            next_header: if mld { NEXT_HEADER_HOP_BY_HOP } else { NEXT_HEADER_ICMPV6 },
            payload_len: (self.extension_len() + self.message.buffer_len()) as u16,
            hop_limit: if mld { MLD_HOP_LIMIT } else { NDP_HOP_LIMIT },
        };
        let mut packet = Ipv6Packet::new_unchecked(buffer);
        ip.emit(&mut packet);
        let payload = packet.payload_mut();
        let message = if mld {
            payload[..MLD_HOP_BY_HOP.len()].copy_from_slice(&MLD_HOP_BY_HOP);
            &mut payload[MLD_HOP_BY_HOP.len()..]
        } else {
            payload
        };
        self.message.emit(&self.src_addr, &self.dst_addr, message);
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

    /// An MLDv2 report as a Linux kernel sent it on joining the
    /// solicited-node groups of 2001:db8::a5 and ::a6 (tshark: "Multicast
    /// Listener Report Message v2", 4 records, checksum correct).
    const KERNEL_MLD_REPORT: &str = "600000000060 0001 fe8000000000000000005efffe100001 ff020000000000000000000000000016 \
        3a00050200000100 8f000c4d 00000004 \
        04000000 ff0200000000000000000001ff0000a6 04000000 ff0200000000000000000001ff0000a5 \
        04000000 ff0200000000000000000001ff100001 04000000 ff0200000000000000000001ff000001";

    fn hex(text: &str) -> std::vec::Vec<u8> {
        let digits: std::string::String = text.chars().filter(|c| !c.is_whitespace()).collect();
        (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap()).collect()
    }

    fn round_trip(packet: Icmpv6Packet<'_>) -> std::vec::Vec<u8> {
        let mut bytes = std::vec![0xa5u8; packet.buffer_len()];
        packet.emit(&mut bytes);
        let (ip, parsed) = Icmpv6Packet::parse(&bytes).unwrap();
        assert_eq!(ip.hop_limit, if packet.message.is_mld() { 1 } else { 255 });
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
    fn reads_a_kernels_mld_report_behind_its_router_alert_and_writes_it_back() {
        let bytes = hex(KERNEL_MLD_REPORT);
        let (ip, packet) = Icmpv6Packet::parse(&bytes).unwrap();
        assert_eq!(ip.hop_limit, 1);
        let Icmpv6Repr::MldReport(records) = packet.message else { panic!("{packet:?}") };
        let groups: std::vec::Vec<std::string::String> = records.groups().map(|g| std::format!("{g}")).collect();
        assert_eq!(groups, ["ff02::1:ff00:a6", "ff02::1:ff00:a5", "ff02::1:ff10:1", "ff02::1:ff00:1"]);
        assert_eq!(round_trip(packet), bytes);
        // A record running past the report is refused.
        let mut short = bytes.clone();
        short[57] = 5;
        assert_eq!(parse(&short), Err(Error::Checksum));
        fix_checksum_at(&mut short, 48);
        assert_eq!(parse(&short), Err(Error::LengthBeyondBuffer));
        // The general query whohas sends, behind the same header.
        let query = Icmpv6Packet {
            src_addr: ip.src_addr,
            dst_addr: crate::wire::ipv6::ALL_NODES,
            message: Icmpv6Repr::MldQuery { max_response_ms: 500 },
        };
        let bytes = round_trip(query);
        assert_eq!((bytes[6], bytes[7], &bytes[40..48]), (0, 1, &MLD_HOP_BY_HOP[..]));
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
        fix_checksum_at(bytes, HEADER_LEN);
    }

    /// Recomputes the checksum of the ICMPv6 message starting at `start`.
    fn fix_checksum_at(bytes: &mut [u8], start: usize) {
        bytes[start + 2..start + 4].fill(0);
        let (src, dst) = (ipv6_at(bytes, 8), ipv6_at(bytes, 24));
        let end = HEADER_LEN + usize::from(u16_at(bytes, 4));
        let sum = ipv6::checksum(&src, &dst, NEXT_HEADER_ICMPV6, &bytes[start..end]);
        bytes[start + 2..start + 4].copy_from_slice(&sum.to_be_bytes());
    }
}
