use core::fmt;

/// Why a buffer is not a valid packet.
///
/// The node counts these in its statistics and drops the frame; they are
/// never a reason to panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// The buffer is shorter than the fixed header of the protocol.
    Truncated,
    /// A length field points past the end of the buffer.
    LengthBeyondBuffer,
    /// A name-ARP name length of zero.
    EmptyName,
    /// A name-ARP name length above [`NAME_MAX`](super::NAME_MAX).
    NameTooLong,
    /// A field holds a value this implementation does not speak
    /// (for example an ARP hardware type other than Ethernet).
    Unsupported,
    /// The source address is a group (multicast or broadcast) address,
    /// which no station may send from.
    GroupSource,
    /// The frame's checksum does not match: it was corrupted in flight.
    Checksum,
    /// Neighbour discovery with a hop limit below 255: it may come from
    /// beyond a router (RFC 4861 7.1).
    HopLimit,
    /// An option of length zero (RFC 4861 4.6).
    ZeroLengthOption,
    /// A neighbour discovery target that is a multicast address.
    MulticastTarget,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "buffer shorter than the protocol header",
            Error::LengthBeyondBuffer => "length field points past the end of the buffer",
            Error::EmptyName => "name length is zero",
            Error::NameTooLong => "name length exceeds the name capacity",
            Error::Unsupported => "unsupported protocol field value",
            Error::GroupSource => "source address is a group address",
            Error::Checksum => "checksum mismatch",
            Error::HopLimit => "neighbour discovery with a hop limit below 255",
            Error::ZeroLengthOption => "option of length zero",
            Error::MulticastTarget => "target is a multicast address",
        })
    }
}

impl core::error::Error for Error {}
