//! # whohas-link
//!
//! The contract between an Ethernet driver and a whohas node, and nothing
//! else, in the way `embassy-net-driver` stands apart from `embassy-net`: a
//! driver (AF_PACKET, libpcap, the LAN9118, your board's MAC) depends on
//! this crate only, never on the protocol core, and the core runs on any
//! driver that implements it.
//!
//! - [`LinkDevice`]: move whole Ethernet frames in and out, never blocking.
//! - [`Capabilities`]: what the device carries (its MTU).
//! - [`Wait`]: on a host, sleep until the device is ready.
//! - [`EthernetAddress`], [`EtherType`] and the frame-size constants both
//!   sides need.
#![no_std]
#![deny(unsafe_code)]

use core::fmt;
use core::str::FromStr;
use core::time::Duration;

/// The `nb` crate, whose `Result` the [`LinkDevice`] methods return.
pub use nb;

/// Length of the Ethernet II header (destination, source, ethertype).
pub const HEADER_LEN: usize = 14;
/// Shortest frame on the wire without FCS; shorter frames are zero-padded.
pub const MIN_FRAME_LEN: usize = 60;
/// Largest frame for a 1500-byte MTU, without FCS.
pub const MAX_FRAME_LEN: usize = 1514;
/// Largest payload of a frame for a 1500-byte MTU.
pub const MAX_PAYLOAD_LEN: usize = MAX_FRAME_LEN - HEADER_LEN;
/// A 48-bit Ethernet (MAC) address.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);
    /// `00:00:00:00:00:00`, used by name-ARP requests for "unknown".
    pub const UNSPECIFIED: EthernetAddress = EthernetAddress([0; 6]);

    /// The address from its six bytes.
    pub const fn new(bytes: [u8; 6]) -> Self {
        EthernetAddress(bytes)
    }

    /// The address from a slice; `None` unless it is exactly six bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(EthernetAddress)
    }

    /// The six bytes of the address.
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// Whether this is the broadcast address.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Whether this is a group address (multicast, including broadcast).
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Whether this is an individual (unicast) address other than all-zero.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast() && *self != Self::UNSPECIFIED
    }

    /// Whether this is the all-zero address.
    pub fn is_unspecified(&self) -> bool {
        *self == Self::UNSPECIFIED
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

impl fmt::Debug for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for EthernetAddress {
    fn format(&self, f: defmt::Formatter<'_>) {
        let b = self.0;
        defmt::write!(
            f,
            "{=u8:02x}:{=u8:02x}:{=u8:02x}:{=u8:02x}:{=u8:02x}:{=u8:02x}",
            b[0],
            b[1],
            b[2],
            b[3],
            b[4],
            b[5]
        )
    }
}

/// The error of parsing a MAC address from text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParseAddressError;

impl fmt::Display for ParseAddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected a MAC address as six hex bytes, like 02:00:00:00:00:01")
    }
}

impl core::error::Error for ParseAddressError {}

impl FromStr for EthernetAddress {
    type Err = ParseAddressError;

    /// Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let separator = if s.contains('-') { '-' } else { ':' };
        let mut bytes = [0u8; 6];
        let mut parts = s.split(separator);
        for byte in &mut bytes {
            let part = parts.next().ok_or(ParseAddressError)?;
            if part.is_empty() || part.len() > 2 {
                return Err(ParseAddressError);
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| ParseAddressError)?;
        }
        match parts.next() {
            None => Ok(EthernetAddress(bytes)),
            Some(_) => Err(ParseAddressError),
        }
    }
}

/// The ethertype field of an Ethernet II frame.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EtherType(pub u16);

impl EtherType {
    /// IPv4.
    pub const IPV4: EtherType = EtherType(0x0800);
    /// RFC 826 ARP.
    pub const ARP: EtherType = EtherType(0x0806);
    /// IPv6.
    pub const IPV6: EtherType = EtherType(0x86dd);
    /// 802.1Q VLAN tag.
    pub const VLAN: EtherType = EtherType(0x8100);
    /// The name-ARP protocol of the original C program.
    pub const NAME_ARP: EtherType = EtherType(0xfffe);
    /// The data protocol of the original C program.
    pub const DATA: EtherType = EtherType(0xfffd);

    /// whohas' reliable transfer: IEEE 802's Local Experimental Ethertype 1.
    pub const TRANSFER: EtherType = EtherType(0x88b5);
    /// whohas' presence: IEEE 802's Local Experimental Ethertype 2.
    pub const PRESENCE: EtherType = EtherType(0x88b6);
    /// Keyed mode's handshake (a challenge and its answer), beside the
    /// original C program's two ethertypes.
    pub const KEYED: EtherType = EtherType(0xfffc);

    /// Every ethertype whohas speaks: what a device's filter should let
    /// through to a node (the AF_PACKET BPF program and the libpcap filter
    /// are both built from this list).
    pub const WHOHAS: [EtherType; 6] = [
        EtherType::NAME_ARP,
        EtherType::DATA,
        EtherType::ARP,
        EtherType::TRANSFER,
        EtherType::PRESENCE,
        EtherType::KEYED,
    ];
}

impl fmt::Debug for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EtherType::IPV4 => f.write_str("IPv4"),
            EtherType::ARP => f.write_str("ARP"),
            EtherType::IPV6 => f.write_str("IPv6"),
            EtherType::VLAN => f.write_str("802.1Q"),
            EtherType::NAME_ARP => f.write_str("name-ARP"),
            EtherType::DATA => f.write_str("data"),
            EtherType::TRANSFER => f.write_str("transfer"),
            EtherType::PRESENCE => f.write_str("presence"),
            EtherType(other) => write!(f, "0x{other:04x}"),
        }
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

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
        self.mtu + HEADER_LEN
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
/// - `receive` returns the frame's length on the wire, `len`, and stores its
///   first `min(len, buffer.len())` bytes. `len <= buffer.len()` means the
///   whole frame is in `buffer[..len]`; `len > buffer.len()` means it did
///   not fit and the caller drops it as truncated. A device whose source
///   holds only part of a frame (a capture cut short by its snap length)
///   never returns it: it counts and drops it itself, so no caller ever
///   reads stale bytes as part of a frame.
pub trait LinkDevice {
    /// A device fault.
    type Error: core::fmt::Debug;

    /// The station's own MAC address: the source of the frames it sends.
    fn mac_address(&self) -> EthernetAddress;

    /// What the device can carry.
    fn capabilities(&self) -> Capabilities;

    /// Receives one frame into `buffer`; returns its length on the wire (see
    /// the contract above for frames that do not fit).
    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, Self::Error>;

    /// Transmits one frame. A device may hold it back to send several with
    /// one operation: it sends them at [`flush`](Self::flush) at the latest.
    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), Self::Error>;

    /// Sends the frames `transmit` held back. A node calls it at the end of
    /// every poll. `WouldBlock`: the device has no room for some of them
    /// yet; they stay held, and a later flush sends them.
    fn flush(&mut self) -> nb::Result<(), Self::Error> {
        Ok(())
    }
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

    fn flush(&mut self) -> nb::Result<(), Self::Error> {
        (**self).flush()
    }
}

/// A device that can put a host thread to sleep until it is ready.
pub trait Wait: LinkDevice {
    /// Sleeps until a frame may be received, or, with `writable`, the device
    /// may take a frame, or `timeout` passes (`None`: no limit). Spurious
    /// wake-ups are allowed; a signal ends the wait.
    fn wait(&mut self, timeout: Option<Duration>, writable: bool) -> Result<(), Self::Error>;
}
