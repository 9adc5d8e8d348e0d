//! How the node puts frames on the device: counted, padded, and noting a
//! device with no room so the run loop waits for it.

use super::{Identity, State};
use crate::device::{self, LinkDevice, TransmitError};
use crate::wire::{
    ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetRepr, Icmpv6Packet, NameArpPacket, NameArpRepr,
};

/// A protocol body the node sends in an Ethernet frame of its own ethertype.
pub(super) trait Body {
    const ETHERTYPE: EtherType;
    fn len(&self) -> usize;
    fn write(&self, payload: &mut [u8]);
}

impl Body for NameArpRepr {
    const ETHERTYPE: EtherType = EtherType::NAME_ARP;
    fn len(&self) -> usize {
        self.buffer_len()
    }
    fn write(&self, payload: &mut [u8]) {
        self.emit(&mut NameArpPacket::new_unchecked(payload))
    }
}

impl Body for ArpRepr {
    const ETHERTYPE: EtherType = EtherType::ARP;
    fn len(&self) -> usize {
        self.buffer_len()
    }
    fn write(&self, payload: &mut [u8]) {
        self.emit(&mut ArpPacket::new_unchecked(payload))
    }
}

impl Body for Icmpv6Packet<'_> {
    const ETHERTYPE: EtherType = EtherType::IPV6;
    fn len(&self) -> usize {
        self.buffer_len()
    }
    fn write(&self, payload: &mut [u8]) {
        self.emit(payload)
    }
}

impl Identity {
    /// Sends a frame from the node to `to`, counting it, or counting and
    /// noting a device with no room.
    pub(super) fn transmit<D: LinkDevice>(
        &mut self,
        device: &mut D,
        to: EthernetAddress,
        ethertype: EtherType,
        payload_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> nb::Result<(), TransmitError<D::Error>> {
        let header = EthernetRepr { src_addr: self.mac, dst_addr: to, ethertype };
        let sent = device::transmit_frame(device, header, payload_len, fill);
        match sent {
            Ok(()) => self.stats.link.tx_frames += 1,
            Err(nb::Error::WouldBlock) => {
                self.stats.link.tx_busy += 1;
                self.tx_blocked = true;
            }
            Err(nb::Error::Other(_)) => {}
        }
        sent
    }
}

impl State<'_> {
    /// Sends a name-ARP, ARP or NDP body and says whether it went out. A device
    /// with no room drops it: for a request the retry timer covers it as if
    /// it were lost on the wire, for a reply the requester's retry does.
    pub(super) fn send_body<D: LinkDevice, B: Body>(
        &mut self,
        device: &mut D,
        to: EthernetAddress,
        body: &B,
    ) -> Result<bool, D::Error> {
        // The node's bodies are at most 78 bytes: never too long for a frame.
        device::went_out(self.id.transmit(device, to, B::ETHERTYPE, body.len(), |payload| body.write(payload)))
    }
}
