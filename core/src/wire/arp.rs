//! RFC 826 ARP for IPv4 over Ethernet (ethertype 0x0806).
//!
//! ```text
//! offset  size  field
//!      0     2  hardware type: 1 (Ethernet)
//!      2     2  protocol type: 0x0800 (IPv4)
//!      4     1  hardware address length: 6
//!      5     1  protocol address length: 4
//!      6     2  operation: 1 request, 2 reply
//!      8     6  sender hardware address
//!     14     4  sender protocol address
//!     18     6  target hardware address
//!     24     4  target protocol address
//! ```

use core::net::Ipv4Addr;

use super::{Error, EthernetAddress, Result};

mod field {
    use core::ops::Range;
    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    pub const SHA: Range<usize> = 8..14;
    pub const SPA: Range<usize> = 14..18;
    pub const THA: Range<usize> = 18..24;
    pub const TPA: Range<usize> = 24..28;
}

/// Length of an ARP packet for IPv4 over Ethernet.
pub const PACKET_LEN: usize = 28;

const HTYPE_ETHERNET: u16 = 1;
const PTYPE_IPV4: u16 = 0x0800;

/// A zero-copy view of an ARP packet.
#[derive(Debug, Clone)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

fn ipv4(bytes: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
}

fn u16_at(bytes: &[u8]) -> u16 {
    u16::from_be_bytes([bytes[0], bytes[1]])
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps a buffer without checks; accessors may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        ArpPacket { buffer }
    }

    /// Wraps a buffer, checking it holds an IPv4-over-Ethernet packet's bytes.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < PACKET_LEN {
            return Err(Error::Truncated);
        }
        Ok(ArpPacket { buffer })
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Hardware type (1 for Ethernet).
    pub fn hardware_type(&self) -> u16 {
        u16_at(&self.buffer.as_ref()[field::HTYPE])
    }

    /// Protocol type (0x0800 for IPv4).
    pub fn protocol_type(&self) -> u16 {
        u16_at(&self.buffer.as_ref()[field::PTYPE])
    }

    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Operation (1 request, 2 reply).
    pub fn operation(&self) -> u16 {
        u16_at(&self.buffer.as_ref()[field::OPER])
    }

    /// Sender hardware address.
    pub fn source_hardware_addr(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer.as_ref()[field::SHA]).unwrap_or_default()
    }

    /// Sender protocol address.
    pub fn source_protocol_addr(&self) -> Ipv4Addr {
        ipv4(&self.buffer.as_ref()[field::SPA])
    }

    /// Target hardware address.
    pub fn target_hardware_addr(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer.as_ref()[field::THA]).unwrap_or_default()
    }

    /// Target protocol address.
    pub fn target_protocol_addr(&self) -> Ipv4Addr {
        ipv4(&self.buffer.as_ref()[field::TPA])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    fn set(&mut self, range: core::ops::Range<usize>, bytes: &[u8]) {
        self.buffer.as_mut()[range].copy_from_slice(bytes);
    }

    /// Writes the fixed Ethernet/IPv4 header fields and the operation.
    pub fn set_header(&mut self, operation: u16) {
        self.set(field::HTYPE, &HTYPE_ETHERNET.to_be_bytes());
        self.set(field::PTYPE, &PTYPE_IPV4.to_be_bytes());
        self.buffer.as_mut()[field::HLEN] = 6;
        self.buffer.as_mut()[field::PLEN] = 4;
        self.set(field::OPER, &operation.to_be_bytes());
    }

    /// Sets the sender addresses.
    pub fn set_source(&mut self, hardware: EthernetAddress, protocol: Ipv4Addr) {
        self.set(field::SHA, &hardware.0);
        self.set(field::SPA, &protocol.octets());
    }

    /// Sets the target addresses.
    pub fn set_target(&mut self, hardware: EthernetAddress, protocol: Ipv4Addr) {
        self.set(field::THA, &hardware.0);
        self.set(field::TPA, &protocol.octets());
    }
}

/// ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ArpOperation {
    /// "Who has `target_protocol_addr`? Tell `source_protocol_addr`."
    Request,
    /// "`source_protocol_addr` is at `source_hardware_addr`."
    Reply,
}

impl ArpOperation {
    fn code(self) -> u16 {
        match self {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
        }
    }
}

/// The meaning of an ARP packet for IPv4 over Ethernet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ArpRepr {
    /// Request or reply.
    pub operation: ArpOperation,
    /// Sender MAC.
    pub source_hardware_addr: EthernetAddress,
    /// Sender IPv4 address (0.0.0.0 in an RFC 5227 probe).
    pub source_protocol_addr: Ipv4Addr,
    /// Target MAC (zero in a request).
    pub target_hardware_addr: EthernetAddress,
    /// Target IPv4 address.
    pub target_protocol_addr: Ipv4Addr,
}

impl ArpRepr {
    /// Parses a checked packet; anything but IPv4 over Ethernet with
    /// operation 1 or 2 is [`Error::Unsupported`].
    pub fn parse<T: AsRef<[u8]>>(packet: &ArpPacket<T>) -> Result<Self> {
        if packet.buffer.as_ref().len() < PACKET_LEN {
            return Err(Error::Truncated);
        }
        if (packet.hardware_type(), packet.protocol_type(), packet.hardware_len(), packet.protocol_len())
            != (HTYPE_ETHERNET, PTYPE_IPV4, 6, 4)
        {
            return Err(Error::Unsupported);
        }
        let operation = match packet.operation() {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            _ => return Err(Error::Unsupported),
        };
        let source_hardware_addr = packet.source_hardware_addr();
        if source_hardware_addr.is_multicast() {
            return Err(Error::GroupSource);
        }
        Ok(ArpRepr {
            operation,
            source_hardware_addr,
            source_protocol_addr: packet.source_protocol_addr(),
            target_hardware_addr: packet.target_hardware_addr(),
            target_protocol_addr: packet.target_protocol_addr(),
        })
    }

    /// Length of the packet `emit` writes.
    pub const fn buffer_len(&self) -> usize {
        PACKET_LEN
    }

    /// Writes the packet; `packet` must be at least [`PACKET_LEN`] bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ArpPacket<T>) {
        packet.set_header(self.operation.code());
        packet.set_source(self.source_hardware_addr, self.source_protocol_addr);
        packet.set_target(self.target_hardware_addr, self.target_protocol_addr);
    }

    /// A gratuitous ARP: the sender announces its own address (sender and
    /// target protocol addresses are equal).
    pub fn is_gratuitous(&self) -> bool {
        self.source_protocol_addr == self.target_protocol_addr
    }

    /// An RFC 5227 probe: a request from 0.0.0.0 checking whether an address
    /// is in use.
    pub fn is_probe(&self) -> bool {
        self.operation == ArpOperation::Request && self.source_protocol_addr.is_unspecified()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Frames 1 and 2 of tests/captures/seed004-arp.pcap, after the Ethernet header.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x08, 0x00, 0x27, 0xaf, 0xc8, 0x68, 0xc0, 0xa8, 0x23, 0xcb,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xa8, 0x23, 0x01,
    ];
    const REPLY: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x00, 0x23, 0xaa, 0x69, 0x72, 0xdd, 0xc0, 0xa8, 0x23, 0x01,
        0x08, 0x00, 0x27, 0xaf, 0xc8, 0x68, 0xc0, 0xa8, 0x23, 0xcb,
    ];
    const HOST: EthernetAddress = EthernetAddress([0x08, 0x00, 0x27, 0xaf, 0xc8, 0x68]);
    const GATEWAY: EthernetAddress = EthernetAddress([0x00, 0x23, 0xaa, 0x69, 0x72, 0xdd]);

    fn request() -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: HOST,
            source_protocol_addr: Ipv4Addr::new(192, 168, 35, 203),
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: Ipv4Addr::new(192, 168, 35, 1),
        }
    }

    fn reply() -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Reply,
            source_hardware_addr: GATEWAY,
            source_protocol_addr: Ipv4Addr::new(192, 168, 35, 1),
            target_hardware_addr: HOST,
            target_protocol_addr: Ipv4Addr::new(192, 168, 35, 203),
        }
    }

    #[test]
    fn parses_the_captured_request_and_reply() {
        assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&REQUEST[..]).unwrap()), Ok(request()));
        assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&REPLY[..]).unwrap()), Ok(reply()));
    }

    #[test]
    fn emits_the_captured_request_and_reply() {
        for (repr, bytes) in [(request(), REQUEST), (reply(), REPLY)] {
            let mut buf = [0xaa; PACKET_LEN];
            repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
            assert_eq!(buf, bytes);
        }
    }

    #[test]
    fn recognises_gratuitous_and_probe() {
        let gratuitous = ArpRepr { target_protocol_addr: Ipv4Addr::new(192, 168, 35, 203), ..request() };
        assert!(gratuitous.is_gratuitous());
        let mut bytes = [0u8; PACKET_LEN];
        gratuitous.emit(&mut ArpPacket::new_unchecked(&mut bytes[..]));
        assert_eq!(ArpRepr::parse(&ArpPacket::new_unchecked(&bytes[..])), Ok(gratuitous));
        let probe = ArpRepr { source_protocol_addr: Ipv4Addr::UNSPECIFIED, ..request() };
        assert!(probe.is_probe() && !request().is_probe());
    }

    #[test]
    fn rejects_other_protocols_and_short_packets() {
        assert_eq!(ArpPacket::new_checked(&REQUEST[..27]).unwrap_err(), Error::Truncated);
        let mut ipv6 = REQUEST;
        ipv6[2] = 0x86;
        assert_eq!(ArpRepr::parse(&ArpPacket::new_unchecked(&ipv6[..])), Err(Error::Unsupported));
        let mut rarp = REQUEST;
        rarp[7] = 3;
        assert_eq!(ArpRepr::parse(&ArpPacket::new_unchecked(&rarp[..])), Err(Error::Unsupported));
        let mut group = REQUEST;
        group[8] = 0x01;
        assert_eq!(ArpRepr::parse(&ArpPacket::new_unchecked(&group[..])), Err(Error::GroupSource));
    }
}
