//! name-ARP (ethertype 0xFFFE): "who has NAME?" / "NAME is at MAC".
//!
//! The body is the original C program's struct as laid out on x86-64:
//!
//! ```text
//! struct { unsigned int len; unsigned char ethAddr[6]; unsigned char data[]; }
//!
//! offset  size  field
//!      0     4  len: name length, u32 little endian
//!      4     6  ethAddr: zero in a request, the replier's MAC in a reply
//!     10   len  data: the name, no terminator
//! 10+len     2  tail padding of the struct (whohas sends zero; the C
//!               program sends whatever its stack held)
//! ```
//!
//! so a body is `12 + len` bytes. Parsing ignores every byte after the name,
//! whatever its value: the struct's tail padding is uninitialised memory in
//! the C program, and Ethernet's minimum-size padding is not defined by
//! 802.3 (some NICs leak memory into it). It is strict only where a sender
//! lies: a length beyond the body or above [`NAME_MAX`], an empty name, a
//! group address as the replier's.

use super::{Error, EthernetAddress, NAME_MAX, Name, Result};

mod field {
    use core::ops::Range;
    pub const NAME_LEN: Range<usize> = 0..4;
    pub const HARDWARE_ADDR: Range<usize> = 4..10;
    pub const NAME: usize = 10;
}

/// Fixed part of the body: `len` and `ethAddr`.
pub const HEADER_LEN: usize = field::NAME;
/// Tail padding the C compiler adds after the name (struct alignment of 4).
pub const PADDING_LEN: usize = 2;

/// A zero-copy view of a name-ARP body (the Ethernet payload).
#[derive(Debug, Clone)]
pub struct NameArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> NameArpPacket<T> {
    /// Wraps a buffer without checks; accessors may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        NameArpPacket { buffer }
    }

    /// Wraps a buffer, checking the header and the declared name fit in it.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = NameArpPacket { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the header is present and `len` stays inside the buffer.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let end = usize::try_from(self.name_len()).ok().and_then(|n| n.checked_add(HEADER_LEN));
        match end {
            Some(end) if end <= len => Ok(()),
            _ => Err(Error::LengthBeyondBuffer),
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Body length for a name of `name_len` bytes, padding included.
    pub const fn buffer_len(name_len: usize) -> usize {
        HEADER_LEN + name_len + PADDING_LEN
    }

    /// The declared name length.
    pub fn name_len(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::NAME_LEN];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The `ethAddr` field.
    pub fn hardware_addr(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer.as_ref()[field::HARDWARE_ADDR]).unwrap_or_default()
    }

    /// The name bytes (valid after `new_checked`).
    pub fn name(&self) -> &[u8] {
        let end = field::NAME + self.name_len() as usize;
        &self.buffer.as_ref()[field::NAME..end]
    }

    /// Everything after the name: struct padding and link padding, which
    /// parsing ignores (a decoder may show it).
    pub fn trailer(&self) -> &[u8] {
        let end = field::NAME + self.name_len() as usize;
        &self.buffer.as_ref()[end..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> NameArpPacket<T> {
    /// Sets the name length field.
    pub fn set_name_len(&mut self, len: u32) {
        self.buffer.as_mut()[field::NAME_LEN].copy_from_slice(&len.to_le_bytes());
    }

    /// Sets the `ethAddr` field.
    pub fn set_hardware_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::HARDWARE_ADDR].copy_from_slice(&addr.0);
    }

    /// Writes `name` and the two padding bytes after the header.
    pub fn set_name(&mut self, name: &[u8]) {
        let buffer = self.buffer.as_mut();
        let end = field::NAME + name.len();
        buffer[field::NAME..end].copy_from_slice(name);
        buffer[end..end + PADDING_LEN].fill(0);
    }
}

/// The meaning of a name-ARP body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NameArpRepr {
    /// "Who has `name`?": `ethAddr` is all zero. Broadcast.
    Request {
        /// The name asked for.
        name: Name,
    },
    /// "`name` is at `hardware_addr`". Unicast to the requester.
    Reply {
        /// The name of the replier.
        name: Name,
        /// The replier's MAC address.
        hardware_addr: EthernetAddress,
    },
}

impl NameArpRepr {
    /// Parses a checked body.
    pub fn parse<T: AsRef<[u8]>>(packet: &NameArpPacket<T>) -> Result<Self> {
        packet.check_len()?;
        let len = packet.name_len();
        if len == 0 {
            return Err(Error::EmptyName);
        }
        if len as usize > NAME_MAX {
            return Err(Error::NameTooLong);
        }
        let name = Name::new(packet.name()).map_err(|_| Error::NameTooLong)?;
        let hardware_addr = packet.hardware_addr();
        if hardware_addr.is_unspecified() {
            Ok(NameArpRepr::Request { name })
        } else if hardware_addr.is_multicast() {
            Err(Error::GroupSource)
        } else {
            Ok(NameArpRepr::Reply { name, hardware_addr })
        }
    }

    /// The name the body carries.
    pub fn name(&self) -> &Name {
        match self {
            NameArpRepr::Request { name } | NameArpRepr::Reply { name, .. } => name,
        }
    }

    /// Length of the body `emit` writes.
    pub fn buffer_len(&self) -> usize {
        NameArpPacket::<&[u8]>::buffer_len(self.name().len())
    }

    /// Writes the body; `packet` must be at least `buffer_len()` bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut NameArpPacket<T>) {
        let (name, hardware_addr) = match self {
            NameArpRepr::Request { name } => (name, EthernetAddress::UNSPECIFIED),
            NameArpRepr::Reply { name, hardware_addr } => (name, *hardware_addr),
        };
        // A Name is at most NAME_MAX (64) bytes, so the cast is lossless.
        packet.set_name_len(name.len() as u32);
        packet.set_hardware_addr(hardware_addr);
        packet.set_name(name.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Bodies of the first two frames of tests/captures/seed000-vm1-vm2.pcap,
    // which match what the C program puts on the wire byte for byte.
    const REQUEST_BODY: [u8; 15] = [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'V', b'M', b'2', 0, 0];
    const REPLY_BODY: [u8; 15] = [3, 0, 0, 0, 2, 0, 0, 0, 0, 2, b'V', b'M', b'2', 0, 0];

    fn name(text: &str) -> Name {
        Name::try_from(text).unwrap()
    }

    #[test]
    fn parses_c_request_and_reply() {
        let request = NameArpRepr::parse(&NameArpPacket::new_checked(&REQUEST_BODY[..]).unwrap());
        assert_eq!(request, Ok(NameArpRepr::Request { name: name("VM2") }));
        let reply = NameArpRepr::parse(&NameArpPacket::new_checked(&REPLY_BODY[..]).unwrap());
        assert_eq!(
            reply,
            Ok(NameArpRepr::Reply { name: name("VM2"), hardware_addr: EthernetAddress([2, 0, 0, 0, 0, 2]) })
        );
    }

    #[test]
    fn emits_c_request_and_reply() {
        let mut buf = [0xaau8; 15];
        let repr = NameArpRepr::Request { name: name("VM2") };
        assert_eq!(repr.buffer_len(), 15);
        repr.emit(&mut NameArpPacket::new_unchecked(&mut buf[..]));
        assert_eq!(buf, REQUEST_BODY);
        let repr = NameArpRepr::Reply { name: name("VM2"), hardware_addr: EthernetAddress([2, 0, 0, 0, 0, 2]) };
        repr.emit(&mut NameArpPacket::new_unchecked(&mut buf[..]));
        assert_eq!(buf, REPLY_BODY);
    }

    #[test]
    fn accepts_missing_padding_and_ethernet_zero_padding() {
        let unpadded = &REQUEST_BODY[..13];
        assert!(NameArpRepr::parse(&NameArpPacket::new_unchecked(unpadded)).is_ok());
        let mut padded = [0u8; 46];
        padded[..15].copy_from_slice(&REQUEST_BODY);
        assert!(NameArpRepr::parse(&NameArpPacket::new_unchecked(&padded[..])).is_ok());
    }

    /// The request the C program sent on a Debian machine: its struct's
    /// tail padding went out as `ff 00`, whatever the stack held.
    #[test]
    fn accepts_the_c_programs_uninitialised_padding() {
        let mut body = [0xa5u8; 46];
        body[..13].copy_from_slice(&REQUEST_BODY[..13]);
        body[13] = 0xff;
        body[14] = 0;
        let packet = NameArpPacket::new_checked(&body[..]).unwrap();
        assert_eq!(NameArpRepr::parse(&packet), Ok(NameArpRepr::Request { name: name("VM2") }));
        assert_eq!(packet.trailer().len(), 33);
    }

    #[test]
    fn rejects_lies_and_garbage() {
        let parse = |body: &[u8]| NameArpRepr::parse(&NameArpPacket::new_unchecked(body));
        assert_eq!(parse(&REQUEST_BODY[..9]), Err(Error::Truncated));
        assert_eq!(parse(&REQUEST_BODY[..12]), Err(Error::LengthBeyondBuffer));
        let mut body = REQUEST_BODY;
        body[0] = 0;
        assert_eq!(parse(&body), Err(Error::EmptyName));
        body[0] = 0xff;
        body[3] = 0xff;
        assert_eq!(parse(&body), Err(Error::LengthBeyondBuffer));
        let mut long = [0u8; 12 + NAME_MAX + 1];
        long[0] = NAME_MAX as u8 + 1;
        long[10..10 + NAME_MAX + 1].fill(b'a');
        assert_eq!(parse(&long), Err(Error::NameTooLong));
        let mut group = REPLY_BODY;
        group[4] = 0x03;
        assert_eq!(parse(&group), Err(Error::GroupSource));
    }
}
