//! What the application sees of the transfer: connection and message ids,
//! events, errors, settings and counters.

use core::fmt;

use super::connection::HEADER_MAX;
use crate::time::Duration;
pub use crate::wire::transfer::MAX_SEGMENT;
use crate::wire::{EthernetAddress, Name};

/// Status codes of FIN-ACK and RESET frames. Codes from 16 up are the
/// application's own.
pub mod status {
    /// Delivered and accepted.
    pub const OK: u16 = 0;
    /// The receiver refused the connection.
    pub const REFUSED: u16 = 1;
    /// The receiver has no free connection.
    pub const BUSY: u16 = 2;
    /// The other end gave up.
    pub const ABORTED: u16 = 3;
}

/// A connection, as the application knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnId(u32);

impl ConnId {
    pub(super) const fn new(generation: u32, index: usize) -> ConnId {
        ConnId((generation << 8) | index as u32)
    }

    pub(super) fn index(self) -> usize {
        (self.0 & 0xff) as usize
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A message sent: its connection and its number there (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MessageId {
    /// The connection carrying it.
    pub conn: ConnId,
    /// Its number on the connection.
    pub number: u32,
}

/// Why a connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Failure {
    /// The peer's name did not resolve.
    Unresolved,
    /// Nothing was heard from the peer for [`TransferConfig::dead_after`].
    DeadPeer,
    /// The peer refused the connection, with this status.
    Refused(u16),
    /// The peer ended the connection, with this status.
    Reset(u16),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Unresolved => f.write_str("the peer's name did not resolve"),
            Failure::DeadPeer => f.write_str("the peer stopped answering"),
            Failure::Refused(status::BUSY) => f.write_str("the peer is busy (no free connection)"),
            Failure::Refused(code) => write!(f, "the peer refused the connection (status {code})"),
            Failure::Reset(code) => write!(f, "the peer ended the connection (status {code})"),
        }
    }
}

/// What a transfer reports to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TransferEvent<'a> {
    /// A station opened a connection to this node. It is accepted unless
    /// the handler calls [`Transfer::reject`](super::Transfer::reject) while handling this event.
    Incoming {
        /// The connection.
        conn: ConnId,
        /// The sender's name, as its opening frame claims.
        from: Name,
        /// The sender's MAC address.
        mac: EthernetAddress,
        /// Whether it carries messages (else a stream).
        messages: bool,
        /// The sender's opening header.
        header: &'a [u8],
    },
    /// A connection this node opened was accepted.
    Connected {
        /// The connection.
        conn: ConnId,
    },
    /// The next bytes of a stream, in order.
    Received {
        /// The connection.
        conn: ConnId,
        /// The bytes.
        data: &'a [u8],
    },
    /// A whole message, in order, once.
    Message {
        /// Which message.
        id: MessageId,
        /// The sender's name.
        from: Name,
        /// The message.
        data: &'a [u8],
    },
    /// A message this node sent was acknowledged by the receiver.
    Delivered {
        /// Which message.
        id: MessageId,
    },
    /// A message this node sent will not be delivered: its connection
    /// failed first.
    Undelivered {
        /// Which message.
        id: MessageId,
    },
    /// A stream's window has room again after a write that did not fit.
    Writable {
        /// The connection.
        conn: ConnId,
    },
    /// The sender has finished and every byte has been received: the
    /// handler decides the verdict now ([`Transfer::close`](super::Transfer::close) with a status;
    /// [`status::OK`] if it does nothing).
    Finished {
        /// The connection.
        conn: ConnId,
    },
    /// The connection closed normally; `status` is the receiver's verdict.
    Closed {
        /// The connection.
        conn: ConnId,
        /// The verdict.
        status: u16,
    },
    /// The connection failed.
    Failed {
        /// The connection.
        conn: ConnId,
        /// Why.
        failure: Failure,
    },
}

/// Why the application's request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TransferError {
    /// Every connection slot is in use; raise `CONNS`, or wait.
    NoFreeConnection,
    /// A message is longer than one segment.
    MessageTooLong {
        /// Its length.
        len: usize,
        /// The longest message.
        max: usize,
    },
    /// An opening header is longer than [`HEADER_MAX`].
    HeaderTooLong {
        /// Its length.
        len: usize,
    },
    /// The window has no room for another message now; wait for a
    /// `Delivered` event.
    WindowFull,
    /// No such connection, or it has ended.
    UnknownConnection,
    /// The connection cannot do that now (writing to a receiving end,
    /// writing after `finish`).
    WrongState,
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::NoFreeConnection => f.write_str("every connection is in use"),
            TransferError::MessageTooLong { len, max } => {
                write!(f, "a {len}-byte message does not fit one segment (at most {max} bytes); send a stream")
            }
            TransferError::HeaderTooLong { len } => {
                write!(f, "a {len}-byte opening header is longer than {HEADER_MAX} bytes")
            }
            TransferError::WindowFull => f.write_str("the window is full; wait for a message to be delivered"),
            TransferError::UnknownConnection => f.write_str("no such connection"),
            TransferError::WrongState => f.write_str("the connection cannot do that now"),
        }
    }
}

impl core::error::Error for TransferError {}

/// Timers of the transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TransferConfig {
    /// The retransmission timeout before any round trip is measured (and
    /// for SYN).
    pub initial_rto: Duration,
    /// The shortest retransmission timeout.
    pub min_rto: Duration,
    /// The longest: back-off stops here.
    pub max_rto: Duration,
    /// A quiet peer is probed this often.
    pub keepalive: Duration,
    /// A peer not heard from for this long is dead: the connection fails.
    pub dead_after: Duration,
    /// A message connection unused for this long is closed.
    pub idle_close: Duration,
    /// A receiver remembers a closed connection this long, to answer a late
    /// duplicate FIN with the same verdict.
    pub linger: Duration,
    /// Segments a receiver lets all its senders have in flight together,
    /// shared out equally among the connections receiving at once: a busy
    /// receiver's buffers do not overflow, and each sender gets its share.
    pub receive_budget: u32,
    /// The longest segment this side sends (at most [`MAX_SEGMENT`]): a
    /// device that adds bytes to every frame (keyed mode's trailer) needs
    /// shorter ones.
    pub max_segment: usize,
    /// The longest DATA payload this side sends and takes: above
    /// [`MAX_SEGMENT`] on a jumbo link, where a frame carries a train of
    /// segments (`wire::transfer::payload_for_mtu`). Trains flow only when
    /// both ends allow them: the receiver offers its length in the
    /// SYN-ACK.
    pub max_payload: usize,
    /// The most queueing delay a sender keeps a bottleneck at: its
    /// congestion window shrinks when round trips grow longer than the
    /// shortest seen by more than its aim, and grows while they stay
    /// below it. The aim is between half of this and all of it: the less
    /// of the link the sender has, the longer (see `docs/PROTOCOL.md`,
    /// congestion control).
    pub queue_target: Duration,
}

impl Default for TransferConfig {
    /// Timeouts for a LAN: 200 ms before the first round trip, 1 ms to 2 s
    /// after (a LAN's round trips are well under a millisecond); keep-alive
    /// every second; dead after 10 s of silence.
    fn default() -> Self {
        TransferConfig {
            initial_rto: Duration::from_millis(200),
            min_rto: Duration::from_millis(1),
            max_rto: Duration::from_secs(2),
            keepalive: Duration::from_secs(1),
            dead_after: Duration::from_secs(10),
            idle_close: Duration::from_secs(30),
            linger: Duration::from_secs(4),
            receive_budget: 1024,
            max_segment: MAX_SEGMENT,
            max_payload: MAX_SEGMENT,
            queue_target: Duration::from_millis(10),
        }
    }
}

/// Counters of every connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TransferStats {
    /// Frames sent.
    pub frames_sent: u64,
    /// Well-formed frames received.
    pub frames_received: u64,
    /// Segments sent again.
    pub retransmits: u64,
    /// Of those, the ones sent again because their timeout expired (the
    /// others were found lost by a later segment's arrival).
    pub timeouts: u64,
    /// Of the segments sent again, the ones the receiver proved needless:
    /// the first copy had arrived after all (it or its acknowledgement was
    /// late).
    pub spurious: u64,
    /// Frames that failed to parse.
    pub rx_malformed: u64,
    /// Frames whose checksum failed (corrupted in flight), dropped as lost.
    pub rx_checksum: u64,
    /// Frames of no known connection (an old connection's, a restarted
    /// peer's).
    pub rx_unknown_connection: u64,
    /// Segments beyond the receive window.
    pub rx_outside_window: u64,
    /// Frames that make no sense in their connection's phase.
    pub rx_out_of_place: u64,
    /// Connections opened to other stations.
    pub opened: u64,
    /// Connections other stations opened to this node.
    pub accepted: u64,
    /// Connections refused for want of a free slot.
    pub refused_busy: u64,
}

/// What the application can know of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnectionInfo {
    /// The peer's MAC address, once known.
    pub peer_mac: Option<EthernetAddress>,
    /// Whether this node opened it (and sends).
    pub initiator: bool,
    /// Whether it carries messages.
    pub messages: bool,
    /// Segments written and not acknowledged yet.
    pub unacknowledged: u32,
    /// The smoothed round-trip time, once measured.
    pub srtt: Option<Duration>,
    /// Its counters.
    pub stats: ConnectionStats,
}

/// Counters of one connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnectionStats {
    /// Payload bytes acknowledged (sender) or received in order (receiver).
    pub bytes: u64,
    /// Segments sent for the first time.
    pub segments: u64,
    /// Segments sent again (after a timeout or fast retransmit).
    pub retransmits: u64,
    /// Of those, the ones sent again because their timeout expired.
    pub timeouts: u64,
    /// Of the segments sent again, the ones the receiver proved needless:
    /// the first copy had arrived after all (it or its acknowledgement was
    /// late).
    pub spurious: u64,
    /// Segments received twice or more (receiver).
    pub duplicates: u64,
}
