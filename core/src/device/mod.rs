//! The link-layer device abstraction and the devices that live in the core.
//!
//! A [`LinkDevice`] moves whole Ethernet frames (no preamble, no FCS) in and
//! out, never blocking. It is defined in the `whohas-link` crate, which
//! drivers implement without depending on the core (`whohas-hal-linux`,
//! `whohas-hal-pcap`, `whohas-hal-lan9118`); the core adds an in-memory
//! [`Segment`] for tests and demos, and a [`FaultInjector`] wrapper that
//! drops, duplicates, corrupts and reorders frames.

mod fault;
mod segment;

use core::fmt;

pub use fault::{FaultConfig, FaultInjector, FaultStats};
pub use segment::{Segment, SegmentError, SegmentPort};

pub use crate::rng::Rng;
pub use whohas_link::{Capabilities, LinkDevice, Wait};

use crate::wire::ethernet::{self, MAX_BUFFERED_FRAME_LEN, MAX_FRAME_LEN};
use crate::wire::{EthernetFrame, EthernetRepr};

/// Frames up to this length are built in a small stack buffer, so sending
/// an ARP or name-ARP frame does not clear a full 1514-byte buffer.
const SMALL_FRAME: usize = 128;

/// The complete frame a [`LinkDevice::receive`] returning `len` stored in
/// `buffer`, or `None` if it was cut short.
pub fn received(buffer: &[u8], len: usize) -> Option<&[u8]> {
    buffer.get(..len)
}

/// Why [`transmit_frame`] sent nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TransmitError<E> {
    /// The payload is longer than an Ethernet frame carries.
    PayloadTooLong {
        /// The payload's length.
        len: usize,
        /// The longest payload.
        max: usize,
    },
    /// The device failed.
    Device(E),
}

impl<E: fmt::Debug> fmt::Display for TransmitError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransmitError::PayloadTooLong { len, max } => {
                write!(f, "a {len}-byte payload does not fit a frame; the limit is {max} bytes")
            }
            TransmitError::Device(err) => write!(f, "device error: {err:?}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for TransmitError<E> {}

/// Builds a frame in a stack buffer (`header`, then `payload_len` bytes
/// written by `fill`, which gets exactly that many), zero-pads it to
/// Ethernet's 60-byte minimum and hands it to `device`. A `payload_len`
/// above 1500 (9202 with the `jumbo` feature) sends nothing and says so.
pub fn transmit_frame<D: LinkDevice + ?Sized>(
    device: &mut D,
    header: EthernetRepr,
    payload_len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> nb::Result<(), TransmitError<D::Error>> {
    let max = MAX_BUFFERED_FRAME_LEN - ethernet::HEADER_LEN;
    if payload_len > max {
        return Err(nb::Error::Other(TransmitError::PayloadTooLong { len: payload_len, max }));
    }
    let len = EthernetFrame::<&[u8]>::buffer_len(payload_len);
    // The smallest buffer that holds the frame: each is zeroed per frame,
    // and a jumbo one (9216 bytes) is for jumbo frames only.
    if len <= SMALL_FRAME {
        return build_and_send(device, &mut [0u8; SMALL_FRAME], len, header, fill);
    }
    #[cfg(feature = "jumbo")]
    if len > MAX_FRAME_LEN {
        return build_and_send(device, &mut [0u8; MAX_BUFFERED_FRAME_LEN], len, header, fill);
    }
    build_and_send(device, &mut [0u8; MAX_FRAME_LEN], len, header, fill)
}

/// Whether a [`transmit_frame`] went out (`Ok(true)`) or was not taken
/// (`Ok(false)`: the device had no room, or the payload was longer than a
/// frame, which callers whose payloads are bounded never see); the
/// device's error otherwise. For frames whose loss a timer repairs.
pub fn went_out<E>(result: nb::Result<(), TransmitError<E>>) -> Result<bool, E> {
    match result {
        Ok(()) => Ok(true),
        Err(nb::Error::Other(TransmitError::Device(err))) => Err(err),
        Err(nb::Error::WouldBlock | nb::Error::Other(TransmitError::PayloadTooLong { .. })) => Ok(false),
    }
}

fn build_and_send<D: LinkDevice + ?Sized>(
    device: &mut D,
    buffer: &mut [u8],
    len: usize,
    header: EthernetRepr,
    fill: impl FnOnce(&mut [u8]),
) -> nb::Result<(), TransmitError<D::Error>> {
    let mut frame = EthernetFrame::new_unchecked(&mut buffer[..len]);
    header.emit(&mut frame);
    fill(frame.payload_mut());
    let padded = ethernet::pad_to_minimum(buffer, len);
    device.transmit(&buffer[..padded]).map_err(|err| err.map(TransmitError::Device))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{EtherType, EthernetAddress};

    #[test]
    fn an_oversized_payload_is_an_error_not_a_panic() {
        let segment: Segment<1, 1> = Segment::new();
        let mut port = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 1])).unwrap();
        let header = EthernetRepr {
            src_addr: port.mac_address(),
            dst_addr: EthernetAddress::BROADCAST,
            ethertype: EtherType::DATA,
        };
        // Longer than any frame the core builds (1514 bytes, 9216 with the
        // `jumbo` feature).
        let max = MAX_BUFFERED_FRAME_LEN - ethernet::HEADER_LEN;
        let payload = [7u8; MAX_BUFFERED_FRAME_LEN];
        let sent = transmit_frame(&mut port, header, payload.len(), |buffer| buffer.copy_from_slice(&payload));
        assert_eq!(sent, Err(nb::Error::Other(TransmitError::PayloadTooLong { len: payload.len(), max })));
        // Longer than the device takes: the device says so.
        let sent = transmit_frame(&mut port, header, 1600, |buffer| buffer.fill(7));
        assert!(matches!(sent, Err(nb::Error::Other(_))), "{sent:?}");
    }

    #[test]
    fn received_frames_are_complete_or_none() {
        let buffer = [1u8; 8];
        assert_eq!(received(&buffer, 8), Some(&buffer[..]));
        assert_eq!(received(&buffer, 9), None);
    }
}
