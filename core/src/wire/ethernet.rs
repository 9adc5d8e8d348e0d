//! Ethernet II framing: destination, source, ethertype, payload.

use super::{Error, Result};

pub use whohas_link::{
    EtherType, EthernetAddress, HEADER_LEN, MAX_FRAME_LEN, MAX_PAYLOAD_LEN, MIN_FRAME_LEN, ParseAddressError,
};

/// Largest frame the core receives, builds and signs: [`MAX_FRAME_LEN`],
/// or with the `jumbo` feature (hosts) 9216 bytes, a jumbo frame of MTU
/// up to 9202. Every node's receive buffer is this long, so a
/// microcontroller leaves the feature off.
pub const MAX_BUFFERED_FRAME_LEN: usize = if cfg!(feature = "jumbo") { 9216 } else { MAX_FRAME_LEN };

mod field {
    use core::ops::{Range, RangeFrom};
    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const PAYLOAD: RangeFrom<usize> = 14..;
}

/// A zero-copy view of an Ethernet II frame.
#[derive(Debug, Clone)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps a buffer without checking its length; accessors may panic on a
    /// buffer shorter than [`HEADER_LEN`].
    pub const fn new_unchecked(buffer: T) -> Self {
        EthernetFrame { buffer }
    }

    /// Wraps a buffer, checking it holds at least a full header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(EthernetFrame { buffer })
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Header length plus `payload_len`.
    pub const fn buffer_len(payload_len: usize) -> usize {
        HEADER_LEN + payload_len
    }

    /// The destination address.
    pub fn dst_addr(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer.as_ref()[field::DESTINATION]).unwrap_or_default()
    }

    /// The source address.
    pub fn src_addr(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer.as_ref()[field::SOURCE]).unwrap_or_default()
    }

    /// The ethertype.
    pub fn ethertype(&self) -> EtherType {
        let b = &self.buffer.as_ref()[field::ETHERTYPE];
        EtherType(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Everything after the header, including any padding.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&addr.0);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&addr.0);
    }

    /// Sets the ethertype.
    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&ethertype.0.to_be_bytes());
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// The parsed header of an Ethernet II frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EthernetRepr {
    /// Source address.
    pub src_addr: EthernetAddress,
    /// Destination address.
    pub dst_addr: EthernetAddress,
    /// Ethertype of the payload.
    pub ethertype: EtherType,
}

impl EthernetRepr {
    /// Parses a frame header, rejecting group source addresses.
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<Self> {
        let src_addr = frame.src_addr();
        if src_addr.is_multicast() {
            return Err(Error::GroupSource);
        }
        Ok(EthernetRepr { src_addr, dst_addr: frame.dst_addr(), ethertype: frame.ethertype() })
    }

    /// Length of the header this repr emits.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `frame`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }
}

/// Zero-pads `buffer[len..]` up to [`MIN_FRAME_LEN`] and returns the padded
/// length; `buffer` must hold at least that many bytes.
pub fn pad_to_minimum(buffer: &mut [u8], len: usize) -> usize {
    if len >= MIN_FRAME_LEN {
        return len;
    }
    buffer[len..MIN_FRAME_LEN].fill(0);
    MIN_FRAME_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    // First frame of tests/captures/seed000-vm1-vm2.pcap: a name-ARP request.
    const REQUEST: [u8; 29] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xfe, //
        0x03, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, b'V', b'M', b'2', 0, 0,
    ];

    #[test]
    fn parses_the_seed_header() {
        let frame = EthernetFrame::new_checked(&REQUEST[..]).unwrap();
        let repr = EthernetRepr::parse(&frame).unwrap();
        assert_eq!(repr.dst_addr, EthernetAddress::BROADCAST);
        assert_eq!(repr.src_addr, EthernetAddress([2, 0, 0, 0, 0, 1]));
        assert_eq!(repr.ethertype, EtherType::NAME_ARP);
        assert_eq!(frame.payload(), &REQUEST[14..]);
    }

    #[test]
    fn emits_the_seed_header() {
        let repr = EthernetRepr {
            src_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
            dst_addr: EthernetAddress::BROADCAST,
            ethertype: EtherType::NAME_ARP,
        };
        let mut buf = [0u8; HEADER_LEN];
        repr.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
        assert_eq!(buf, REQUEST[..HEADER_LEN]);
    }

    #[test]
    fn rejects_short_buffers_and_group_sources() {
        assert_eq!(EthernetFrame::new_checked(&REQUEST[..13]).unwrap_err(), Error::Truncated);
        let mut bad = REQUEST;
        bad[6] = 0x01;
        let frame = EthernetFrame::new_checked(&bad[..]).unwrap();
        assert_eq!(EthernetRepr::parse(&frame), Err(Error::GroupSource));
    }

    #[test]
    fn pads_short_frames_with_zeros() {
        let mut buf = [0xaau8; 64];
        assert_eq!(pad_to_minimum(&mut buf, 29), 60);
        assert!(buf[29..60].iter().all(|&b| b == 0));
        assert_eq!(buf[60], 0xaa);
        assert_eq!(pad_to_minimum(&mut buf, 61), 61);
    }

    #[test]
    fn classifies_and_parses_addresses() {
        assert!(EthernetAddress::BROADCAST.is_multicast());
        assert!(EthernetAddress([0x01, 0, 0x5e, 0, 0, 1]).is_multicast());
        assert!(EthernetAddress([2, 0, 0, 0, 0, 1]).is_unicast());
        assert!(!EthernetAddress::UNSPECIFIED.is_unicast());
        assert_eq!("02:00:00:00:00:0A".parse(), Ok(EthernetAddress([2, 0, 0, 0, 0, 10])));
        assert_eq!("02-00-00-00-00-0a".parse(), Ok(EthernetAddress([2, 0, 0, 0, 0, 10])));
        assert_eq!("02:00:00:00:00".parse::<EthernetAddress>(), Err(ParseAddressError));
        assert_eq!("02:00:00:00:00:00:00".parse::<EthernetAddress>(), Err(ParseAddressError));
        assert_eq!("02:00:00:00:00:100".parse::<EthernetAddress>(), Err(ParseAddressError));
    }
}
