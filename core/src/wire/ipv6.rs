//! The IPv6 header (RFC 8200) as far as neighbour discovery needs it, and
//! the addresses derived from a MAC or from another address.
//!
//! ```text
//! offset  size  field
//!      0     4  version (4 bits, 6), traffic class (8), flow label (20)
//!      4     2  payload length (bytes after this 40-byte header)
//!      6     1  next header (58: ICMPv6)
//!      7     1  hop limit
//!      8    16  source address
//!     24    16  destination address
//! ```
//!
//! Traffic class and flow label are ignored on receipt and sent as zero.
//! Bytes after the payload length (Ethernet padding) are ignored.

use core::net::Ipv6Addr;

use super::{Error, EthernetAddress, Result};

mod field {
    use core::ops::Range;
    pub const VERSION: usize = 0;
    pub const LENGTH: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: Range<usize> = 8..24;
    pub const DST: Range<usize> = 24..40;
}

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = 40;

/// The next-header value of ICMPv6.
pub const NEXT_HEADER_ICMPV6: u8 = 58;

/// The link-local all-nodes group, `ff02::1`.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// A zero-copy view of an IPv6 packet.
#[derive(Debug, Clone)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn address(bytes: &[u8]) -> Ipv6Addr {
    let mut octets = [0; 16];
    octets.copy_from_slice(bytes);
    Ipv6Addr::from(octets)
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps a buffer without checks; accessors may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wraps a buffer, checking that it holds the header and the payload its
    /// length field announces.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Ipv6Packet { buffer };
        let len = packet.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if HEADER_LEN + usize::from(packet.payload_len()) > len {
            return Err(Error::LengthBeyondBuffer);
        }
        Ok(packet)
    }

    /// The version field (6 for IPv6).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION] >> 4
    }

    /// Bytes after the header.
    pub fn payload_len(&self) -> u16 {
        let bytes = &self.buffer.as_ref()[field::LENGTH];
        u16::from_be_bytes([bytes[0], bytes[1]])
    }

    /// The protocol of the payload (58 for ICMPv6).
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// Hops left (255 for a packet that cannot have crossed a router).
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        address(&self.buffer.as_ref()[field::SRC])
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        address(&self.buffer.as_ref()[field::DST])
    }

    /// The payload, as long as the length field says.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..HEADER_LEN + usize::from(self.payload_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// The payload, mutably (from the header to the end of the buffer).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// The meaning of an IPv6 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ipv6Repr {
    /// The source address.
    pub src_addr: Ipv6Addr,
    /// The destination address.
    pub dst_addr: Ipv6Addr,
    /// The payload's protocol.
    pub next_header: u8,
    /// Bytes of payload.
    pub payload_len: u16,
    /// Hops left.
    pub hop_limit: u8,
}

impl Ipv6Repr {
    /// Reads a header: version 6, and a source that is not a group address.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv6Packet<T>) -> Result<Ipv6Repr> {
        if packet.version() != 6 {
            return Err(Error::Unsupported);
        }
        let src_addr = packet.src_addr();
        if src_addr.is_multicast() {
            return Err(Error::GroupSource);
        }
        Ok(Ipv6Repr {
            src_addr,
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: packet.payload_len(),
            hop_limit: packet.hop_limit(),
        })
    }

    /// Header plus payload.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + usize::from(self.payload_len)
    }

    /// Writes the header (traffic class and flow label zero).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv6Packet<T>) {
        let buffer = packet.buffer.as_mut();
        buffer[..4].copy_from_slice(&[0x60, 0, 0, 0]);
        buffer[field::LENGTH].copy_from_slice(&self.payload_len.to_be_bytes());
        buffer[field::NEXT_HEADER] = self.next_header;
        buffer[field::HOP_LIMIT] = self.hop_limit;
        buffer[field::SRC].copy_from_slice(&self.src_addr.octets());
        buffer[field::DST].copy_from_slice(&self.dst_addr.octets());
    }
}

/// The modified EUI-64 link-local address of a MAC (RFC 4291 appendix A):
/// what a Linux host gives itself, `fe80::` + the MAC with `ff:fe` in the
/// middle and the universal/local bit flipped.
pub fn link_local(mac: EthernetAddress) -> Ipv6Addr {
    with_interface_id(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), mac)
}

/// `prefix` (its first 64 bits) with the modified EUI-64 interface
/// identifier of `mac`: the address SLAAC gives a host in that /64.
pub fn with_interface_id(prefix: Ipv6Addr, mac: EthernetAddress) -> Ipv6Addr {
    let m = mac.0;
    let mut octets = prefix.octets();
    octets[8..].copy_from_slice(&[m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
    Ipv6Addr::from(octets)
}

/// The solicited-node multicast group of `address` (RFC 4291 2.7.1),
/// `ff02::1:ffXX:XXXX` with its last 24 bits: where neighbour solicitations
/// for it are sent.
pub fn solicited_node(address: Ipv6Addr) -> Ipv6Addr {
    let o = address.octets();
    Ipv6Addr::from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, o[13], o[14], o[15]])
}

/// The Ethernet group address of an IPv6 multicast group (RFC 2464 7),
/// `33:33` and its last 32 bits.
pub fn multicast_mac(group: Ipv6Addr) -> EthernetAddress {
    let o = group.octets();
    EthernetAddress([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// Whether a frame's destination MAC is an IPv6 group address (`33:33:…`).
pub fn is_multicast_mac(mac: EthernetAddress) -> bool {
    mac.0[0] == 0x33 && mac.0[1] == 0x33
}

/// Whether `address` is link-local unicast (`fe80::/10`).
pub fn is_link_local(address: Ipv6Addr) -> bool {
    address.segments()[0] & 0xffc0 == 0xfe80
}

/// The Internet checksum of an upper-layer `message` over the IPv6
/// pseudo-header (RFC 8200 8.1), with the message's own checksum field
/// read as it stands: 0 when a received message is intact, or the value to
/// write when that field was zeroed first.
pub fn checksum(src: &Ipv6Addr, dst: &Ipv6Addr, next_header: u8, message: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        let mut chunks = bytes.chunks_exact(2);
        for pair in &mut chunks {
            sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
        }
        if let [last] = chunks.remainder() {
            sum += u32::from(*last) << 8;
        }
        // Fold now and then so 64 KiB messages cannot overflow.
        sum = (sum & 0xffff) + (sum >> 16);
    };
    add(&src.octets());
    add(&dst.octets());
    add(&(message.len() as u32).to_be_bytes());
    add(&[0, 0, 0, next_header]);
    add(message);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    const MAC: EthernetAddress = EthernetAddress([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]);

    #[test]
    fn derives_addresses_like_linux_and_rfc_4291() {
        assert_eq!(link_local(MAC), "fe80::5eff:fe10:1".parse::<Ipv6Addr>().unwrap());
        let prefix: Ipv6Addr = "2001:db8:1::".parse().unwrap();
        assert_eq!(with_interface_id(prefix, MAC), "2001:db8:1::5eff:fe10:1".parse::<Ipv6Addr>().unwrap());
        let target: Ipv6Addr = "2001:db8::1234:5678".parse().unwrap();
        assert_eq!(solicited_node(target), "ff02::1:ff34:5678".parse::<Ipv6Addr>().unwrap());
        assert_eq!(multicast_mac(solicited_node(target)), EthernetAddress([0x33, 0x33, 0xff, 0x34, 0x56, 0x78]));
        assert!(is_multicast_mac(multicast_mac(ALL_NODES)));
        assert!(is_link_local(link_local(MAC)) && !is_link_local(target));
    }

    #[test]
    fn header_round_trips_and_rejects_what_is_wrong() {
        let repr = Ipv6Repr {
            src_addr: link_local(MAC),
            dst_addr: ALL_NODES,
            next_header: NEXT_HEADER_ICMPV6,
            payload_len: 8,
            hop_limit: 255,
        };
        let mut bytes = [0xaau8; 48];
        repr.emit(&mut Ipv6Packet::new_unchecked(&mut bytes[..]));
        assert_eq!(&bytes[..8], &[0x60, 0, 0, 0, 0, 8, 58, 255]);
        assert_eq!(Ipv6Repr::parse(&Ipv6Packet::new_checked(&bytes[..]).unwrap()), Ok(repr));
        // Ethernet padding after the payload is ignored; a payload beyond the buffer is not.
        let padded = [&bytes[..], &[0; 10]].concat::<u8>();
        assert_eq!(Ipv6Packet::new_checked(&padded[..]).unwrap().payload().len(), 8);
        assert_eq!(Ipv6Packet::new_checked(&bytes[..47]).err(), Some(Error::LengthBeyondBuffer));
        assert_eq!(Ipv6Packet::new_checked(&bytes[..39]).err(), Some(Error::Truncated));
        let mut v4 = bytes;
        v4[0] = 0x45;
        assert_eq!(Ipv6Repr::parse(&Ipv6Packet::new_unchecked(&v4[..])), Err(Error::Unsupported));
        let mut group = bytes;
        group[8] = 0xff;
        assert_eq!(Ipv6Repr::parse(&Ipv6Packet::new_unchecked(&group[..])), Err(Error::GroupSource));
    }
}
