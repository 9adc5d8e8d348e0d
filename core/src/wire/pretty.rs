//! One-line human summaries of frames, for logs, the demo and the decoder.

use core::fmt;

use super::transfer::TransferRepr;
use super::{ArpOperation, ArpPacket, ArpRepr, Escaped, EtherType, EthernetFrame, NameArpPacket, NameArpRepr, data};

/// Longest stretch of a data payload shown before it is cut.
const DATA_PREVIEW: usize = 64;

/// Displays a raw frame as `SRC > DST PROTOCOL details`.
///
/// ```
/// use whohas_core::wire::PrettyFrame;
/// let frame = [
///     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0xff, 0xfe,
///     3, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'V', b'M', b'2', 0, 0,
/// ];
/// assert_eq!(
///     PrettyFrame(&frame).to_string(),
///     "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff name-ARP who has \"VM2\"?"
/// );
/// ```
pub struct PrettyFrame<'a>(pub &'a [u8]);

impl fmt::Display for PrettyFrame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let frame = match EthernetFrame::new_checked(self.0) {
            Ok(frame) => frame,
            Err(_) => return write!(f, "runt frame of {} bytes", self.0.len()),
        };
        write!(f, "{} > {} ", frame.src_addr(), frame.dst_addr())?;
        match frame.ethertype() {
            EtherType::NAME_ARP => match NameArpRepr::parse(&NameArpPacket::new_unchecked(frame.payload())) {
                Ok(NameArpRepr::Request { name }) => write!(f, "name-ARP who has \"{name}\"?"),
                Ok(NameArpRepr::Reply { name, hardware_addr }) => {
                    write!(f, "name-ARP \"{name}\" is at {hardware_addr}")
                }
                Err(err) => write!(f, "name-ARP malformed: {err}"),
            },
            EtherType::DATA => {
                let message = data::message(self.0.len(), frame.payload());
                write!(f, "data {} bytes \"{}\"", message.len(), Escaped::preview(message, DATA_PREVIEW))
            }
            EtherType::ARP => match ArpRepr::parse(&ArpPacket::new_unchecked(frame.payload())) {
                Ok(arp) if arp.operation == ArpOperation::Request => {
                    write!(f, "ARP who has {}? tell {}", arp.target_protocol_addr, arp.source_protocol_addr)
                }
                Ok(arp) => write!(f, "ARP {} is at {}", arp.source_protocol_addr, arp.source_hardware_addr),
                Err(err) => write!(f, "ARP malformed: {err}"),
            },
            EtherType::TRANSFER => match TransferRepr::parse(frame.dst_addr(), frame.src_addr(), frame.payload()) {
                Ok(t) => write!(
                    f,
                    "transfer {} conn={:08x} seq={} ack={} win={} len={}",
                    t.kind,
                    t.conn_id,
                    t.seq,
                    t.ack,
                    t.window,
                    t.payload.len()
                ),
                Err(err) => write!(f, "transfer malformed: {err}"),
            },
            other => write!(f, "{other} {} bytes", frame.payload().len()),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn summarises_each_kind_of_frame() {
        let reply =
            [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0xff, 0xfe, 3, 0, 0, 0, 2, 0, 0, 0, 0, 2, b'V', b'M', b'2', 0, 0];
        assert_eq!(
            format!("{}", PrettyFrame(&reply)),
            "02:00:00:00:00:02 > 02:00:00:00:00:01 name-ARP \"VM2\" is at 02:00:00:00:00:02"
        );
        let data = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0xff, 0xfd, b'h', b'i', b'\n'];
        assert_eq!(format!("{}", PrettyFrame(&data)), "02:00:00:00:00:02 > 02:00:00:00:00:01 data 3 bytes \"hi\\x0a\"");
        let ipv4 = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45];
        assert_eq!(format!("{}", PrettyFrame(&ipv4)), "02:00:00:00:00:02 > 02:00:00:00:00:01 IPv4 1 bytes");
        assert_eq!(format!("{}", PrettyFrame(&ipv4[..5])), "runt frame of 5 bytes");
        let mut transfer = [0u8; 14 + 32];
        transfer[..14].copy_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5]);
        transfer[14..].copy_from_slice(&[
            1, 8, 1, 0, 0, 0, 0, 7, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        assert_eq!(
            format!("{}", PrettyFrame(&transfer)),
            "02:00:00:00:00:02 > 02:00:00:00:00:01 transfer malformed: checksum mismatch"
        );
        let sum = crc32fast::hash(&transfer[..42]);
        transfer[42..].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            format!("{}", PrettyFrame(&transfer)),
            "02:00:00:00:00:02 > 02:00:00:00:00:01 transfer PING conn=00000007 seq=9 ack=0 win=0 len=0"
        );
        let bad = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0xff, 0xfe, 9, 0, 0, 0];
        assert_eq!(
            format!("{}", PrettyFrame(&bad)),
            "02:00:00:00:00:02 > 02:00:00:00:00:01 name-ARP malformed: buffer shorter than the protocol header"
        );
    }
}
