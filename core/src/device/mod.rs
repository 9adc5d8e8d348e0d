//! The link-layer device abstraction and the devices that live in the core.
//!
//! A [`LinkDevice`] moves whole Ethernet frames (no preamble, no FCS) in and
//! out, never blocking. Backends implement it over real hardware or sockets
//! (`whohas-hal-linux`, `whohas-hal-pcap`); the core adds an in-memory
//! [`Segment`] for tests and demos, and a [`FaultInjector`] wrapper that
//! drops, duplicates, corrupts and reorders frames.

mod fault;
mod segment;

pub use fault::{FaultConfig, FaultInjector, FaultStats, Rng};
pub use segment::{Segment, SegmentError, SegmentPort};

use crate::wire::ethernet::{self, MAX_FRAME_LEN, MAX_PAYLOAD_LEN};
use crate::wire::{EthernetAddress, EthernetFrame, EthernetRepr};

/// What a device can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Capabilities {
    /// Largest Ethernet payload (the interface MTU), in bytes. Frames are at
    /// most `mtu + 14` bytes long.
    pub mtu: usize,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities { mtu: MAX_PAYLOAD_LEN }
    }
}

impl Capabilities {
    /// Largest frame the device carries: `mtu` plus the Ethernet header.
    pub const fn max_frame_len(&self) -> usize {
        self.mtu + crate::wire::ethernet::HEADER_LEN
    }
}

/// A non-blocking Ethernet device.
///
/// # Contract
///
/// - `receive` and `transmit` never block. `Err(nb::Error::WouldBlock)` means
///   "not now": no frame is waiting, or the transmit queue is full. Callers
///   retry later, usually after waiting for readiness.
/// - `Err(nb::Error::Other(e))` is a real fault of the device (interface gone,
///   socket error). Implementations never panic on I/O errors.
/// - Frames are complete Ethernet II frames starting at the destination
///   address, without FCS. Devices do not pad: the caller pads frames shorter
///   than 60 bytes if the medium needs it.
pub trait LinkDevice {
    /// A device fault.
    type Error: core::fmt::Debug;

    /// The station's own MAC address: the source of the frames it sends.
    fn mac_address(&self) -> EthernetAddress;

    /// What the device can carry.
    fn capabilities(&self) -> Capabilities;

    /// Receives one frame into `buffer`.
    ///
    /// Returns the frame's length on the wire. If that is more than
    /// `buffer.len()` the frame did not fit: only the first `buffer.len()`
    /// bytes were stored and the caller should treat it as truncated.
    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, Self::Error>;

    /// Transmits one frame.
    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), Self::Error>;
}

impl<D: LinkDevice + ?Sized> LinkDevice for &mut D {
    type Error = D::Error;

    fn mac_address(&self) -> EthernetAddress {
        (**self).mac_address()
    }

    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, Self::Error> {
        (**self).receive(buffer)
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), Self::Error> {
        (**self).transmit(frame)
    }
}

/// Frames up to this length are built in a small stack buffer, so sending
/// an ARP or name-ARP frame does not clear a full 1514-byte buffer.
const SMALL_FRAME: usize = 128;

/// Builds a frame in a stack buffer (`header`, then `payload_len` bytes
/// written by `fill`), zero-pads it to Ethernet's 60-byte minimum and hands
/// it to `device`. `payload_len` is capped at 1500.
pub fn transmit_frame<D: LinkDevice + ?Sized>(
    device: &mut D,
    header: EthernetRepr,
    payload_len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> nb::Result<(), D::Error> {
    let len = EthernetFrame::<&[u8]>::buffer_len(payload_len.min(MAX_PAYLOAD_LEN));
    if len <= SMALL_FRAME {
        build_and_send(device, &mut [0u8; SMALL_FRAME], len, header, fill)
    } else {
        build_and_send(device, &mut [0u8; MAX_FRAME_LEN], len, header, fill)
    }
}

fn build_and_send<D: LinkDevice + ?Sized>(
    device: &mut D,
    buffer: &mut [u8],
    len: usize,
    header: EthernetRepr,
    fill: impl FnOnce(&mut [u8]),
) -> nb::Result<(), D::Error> {
    let mut frame = EthernetFrame::new_unchecked(&mut buffer[..len]);
    header.emit(&mut frame);
    fill(frame.payload_mut());
    let padded = ethernet::pad_to_minimum(buffer, len);
    device.transmit(&buffer[..padded])
}
