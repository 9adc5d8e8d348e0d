//! Reliable transfer of messages and streams to a named station: a
//! connection-oriented selective-repeat ARQ (ethertype 0x88B5) hosted by a
//! node as a [`Service`].
//!
//! A transfer to a station is addressed by *name*: the connection resolves
//! it through the node's resolver and cache, and the receiver learns the
//! sender's name from the opening frame. On the wire (see
//! [`wire::transfer`] and `docs/PROTOCOL.md`):
//!
//! - SYN / SYN-ACK open a connection under an id the initiator picks at
//!   random, with a random first sequence number; a restarted peer picks a
//!   new id, so its old frames are never taken for the new connection's.
//! - DATA segments are numbered (32-bit, wrapping); the receiver answers
//!   with a cumulative acknowledgement, a SACK bitmap of everything it
//!   holds above it, its window (flow control) and the echo of the sender's
//!   timestamp.
//! - The sender keeps every unacknowledged segment: a segment is sent
//!   again when its timeout expires (RFC 6298 from the echoed timestamps,
//!   ×1.5 per timeout up to a maximum, as KCP does) or at once when two
//!   acknowledgements passed over it (fast retransmit).
//! - FIN / FIN-ACK close it, the FIN-ACK carrying the receiver
//!   application's verdict (a status code: 0 for accepted); RESET refuses
//!   or aborts.
//! - Keep-alives probe a quiet peer; a peer heard from for no
//!   [`TransferConfig::dead_after`] ends the connection with
//!   [`Failure::DeadPeer`].
//! - A CRC-32 over the whole frame turns corruption into loss.
//!
//! Two modes: a *stream* (the application writes bytes, the receiver gets
//! them in order; for files) and *messages* (each message is one segment,
//! delivered whole, in order, exactly once, and the sender hears
//! [`TransferEvent::Delivered`] or [`TransferEvent::Undelivered`] for it).
//!
//! Memory is fixed: `CONNS` connections, each with a window of `WINDOW`
//! segments (a power of two) of [`MAX_SEGMENT`] bytes, used as the
//! retransmission buffer of a sender and the reorder buffer of a receiver.
//! A host can give each connection hundreds of segments, a microcontroller
//! four.

mod connection;
mod rtt;
mod seq;

use core::fmt;

use connection::{Connection, End, Phase, Role};
pub use connection::{ConnectionStats, HEADER_MAX};

use crate::device::LinkDevice;
use crate::rng::Rng;
use crate::service::Service;
use crate::station::Event;
use crate::station::Station;
use crate::time::{self, Duration, Instant};
pub use crate::wire::transfer::MAX_SEGMENT;
use crate::wire::transfer::{Kind, SynPayload, TransferRepr};
use crate::wire::{self, EtherType, EthernetAddress, EthernetRepr, Name};

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
    fn new(generation: u32, index: usize) -> ConnId {
        ConnId((generation << 8) | index as u32)
    }

    fn index(self) -> usize {
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
    /// the handler calls [`Transfer::reject`] while handling this event.
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
    /// handler decides the verdict now ([`Transfer::close`] with a status;
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

/// The reliable transfer service: up to `CONNS` connections at once, each
/// with a window of `WINDOW` segments (a power of two).
pub struct Transfer<const CONNS: usize = 4, const WINDOW: usize = 16> {
    config: TransferConfig,
    rng: Rng,
    generation: u32,
    /// Where polls and events start, rotating, so connections take turns.
    cursor: usize,
    /// The application asked for something since the last poll.
    dirty: bool,
    next_poll: Option<Instant>,
    stats: TransferStats,
    conns: [Connection<WINDOW>; CONNS],
}

impl<const CONNS: usize, const WINDOW: usize> Transfer<CONNS, WINDOW> {
    /// A transfer service with `config`, its connection ids and first
    /// sequence numbers drawn from a generator seeded with `seed` (hosts:
    /// from the operating system; firmware: from whatever entropy it has).
    pub fn new(config: TransferConfig, seed: u64) -> Self {
        const { assert!(CONNS > 0 && CONNS <= 256, "CONNS must be between 1 and 256") };
        Transfer {
            config,
            rng: Rng::new(seed),
            generation: 0,
            cursor: 0,
            dirty: false,
            next_poll: None,
            stats: TransferStats::default(),
            conns: [const { Connection::FREE }; CONNS],
        }
    }

    /// The counters.
    pub fn stats(&self) -> &TransferStats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &TransferConfig {
        &self.config
    }

    fn connection(&self, conn: ConnId) -> Option<&Connection<WINDOW>> {
        self.conns.get(conn.index()).filter(|c| c.handle == conn && c.phase != Phase::Free)
    }

    fn connection_mut(&mut self, conn: ConnId) -> Result<&mut Connection<WINDOW>, TransferError> {
        self.conns
            .get_mut(conn.index())
            .filter(|c| c.handle == conn && c.phase != Phase::Free)
            .ok_or(TransferError::UnknownConnection)
    }

    /// What there is to know of `conn`.
    pub fn info(&self, conn: ConnId) -> Option<ConnectionInfo> {
        self.connection(conn).map(|c| ConnectionInfo {
            peer_mac: c.peer_mac,
            initiator: c.role == Role::Initiator,
            messages: c.messages,
            unacknowledged: c.unacknowledged(),
            srtt: c.srtt(),
            stats: c.stats,
        })
    }

    /// The peer of `conn`.
    pub fn peer(&self, conn: ConnId) -> Option<&Name> {
        self.connection(conn).map(|c| &c.peer)
    }

    fn free_slot(&mut self) -> Result<(usize, ConnId), TransferError> {
        let index = self
            .conns
            .iter()
            .position(|c| c.phase == Phase::Free && c.notify.end.is_none())
            .ok_or(TransferError::NoFreeConnection)?;
        self.generation = self.generation.wrapping_add(1) & 0x00ff_ffff;
        Ok((index, ConnId::new(self.generation, index)))
    }

    fn nonzero_random(&mut self) -> u32 {
        loop {
            let value = self.rng.next_u32();
            if value != 0 {
                return value;
            }
        }
    }

    fn start(&mut self, peer: &Name, messages: bool, header: &[u8], now: Instant) -> Result<ConnId, TransferError> {
        let isn = self.rng.next_u32();
        self.start_at(peer, messages, header, now, isn)
    }

    /// [`start`](Self::start) with a given first sequence number.
    fn start_at(
        &mut self,
        peer: &Name,
        messages: bool,
        header: &[u8],
        now: Instant,
        isn: u32,
    ) -> Result<ConnId, TransferError> {
        if header.len() > HEADER_MAX {
            return Err(TransferError::HeaderTooLong { len: header.len() });
        }
        let (index, handle) = self.free_slot()?;
        let conn_id = self.nonzero_random();
        let conn = &mut self.conns[index];
        conn.start(Role::Initiator, messages, handle, conn_id, isn, peer.clone(), None, now);
        // Checked above: the header fits.
        let _ = conn.header.extend_from_slice(header);
        self.stats.opened += 1;
        self.dirty = true;
        Ok(handle)
    }

    /// Opens a stream to the station called `peer`, with an opening header
    /// the receiver sees in its `Incoming` event (a file's name, size and
    /// hash, say). Write with [`write`](Self::write), end with
    /// [`finish`](Self::finish). `now` is the time of the call.
    pub fn open(&mut self, peer: &Name, header: &[u8], now: Instant) -> Result<ConnId, TransferError> {
        self.start(peer, false, header, now)
    }

    /// Sends `data` as one message to `peer`, over the message connection
    /// to it (opened if there is none). The message is delivered whole, in
    /// order, once; a `Delivered` or `Undelivered` event follows.
    pub fn send_message(&mut self, peer: &Name, data: &[u8], now: Instant) -> Result<MessageId, TransferError> {
        let max = self.max_segment();
        if data.len() > max {
            return Err(TransferError::MessageTooLong { len: data.len(), max });
        }
        let existing = self.conns.iter().position(|c| {
            c.role == Role::Initiator
                && c.messages
                && !c.finish
                && matches!(c.phase, Phase::Resolving | Phase::Connecting | Phase::Open)
                && c.peer == *peer
        });
        let index = match existing {
            Some(index) => index,
            None => self.start(peer, true, &[], now)?.index(),
        };
        let conn = &mut self.conns[index];
        let number = conn.end.wrapping_sub(conn.isn());
        if !conn.write_message(data) {
            return Err(TransferError::WindowFull);
        }
        self.dirty = true;
        Ok(MessageId { conn: conn.handle, number })
    }

    /// Writes the next bytes of a stream; returns how many fit the window
    /// (0 when it is full: a `Writable` event says when there is room).
    pub fn write(&mut self, conn: ConnId, data: &[u8]) -> Result<usize, TransferError> {
        let max_segment = self.max_segment();
        let c = self.connection_mut(conn)?;
        if c.role != Role::Initiator || c.messages || c.finish || c.is_over() {
            return Err(TransferError::WrongState);
        }
        let taken = c.write_stream(data, max_segment);
        self.dirty = true;
        Ok(taken)
    }

    /// Room in `conn`'s window, in bytes (whole segments).
    pub fn room(&self, conn: ConnId) -> usize {
        self.connection(conn).map_or(0, |c| c.room() as usize * self.max_segment())
    }

    /// The longest segment, and message, this side sends.
    pub fn max_segment(&self) -> usize {
        self.config.max_segment.min(MAX_SEGMENT)
    }

    /// Ends a stream: a FIN goes out once every byte is acknowledged, and
    /// the receiver's verdict arrives as `Closed`.
    pub fn finish(&mut self, conn: ConnId) -> Result<(), TransferError> {
        let c = self.connection_mut(conn)?;
        if c.role != Role::Initiator || c.is_over() {
            return Err(TransferError::WrongState);
        }
        c.finish = true;
        self.dirty = true;
        Ok(())
    }

    /// The receiver's verdict on a finished stream (while handling
    /// `Finished`): `status` goes back to the sender in the FIN-ACK.
    /// Before that, it ends the connection with a RESET carrying `status`.
    pub fn close(&mut self, conn: ConnId, status: u16) -> Result<(), TransferError> {
        let c = self.connection_mut(conn)?;
        c.status = status;
        if !matches!(c.phase, Phase::Verdict | Phase::Ended { .. }) {
            c.phase = Phase::Resetting;
            c.notify = Default::default();
        }
        self.dirty = true;
        Ok(())
    }

    /// Refuses an incoming connection (while handling `Incoming`): a RESET
    /// with `status` goes back, and nothing more is heard of it.
    pub fn reject(&mut self, conn: ConnId, status: u16) -> Result<(), TransferError> {
        self.close(conn, status)
    }

    /// Gives a connection up at once: a RESET goes to the peer, and nothing
    /// more is heard of it.
    pub fn abort(&mut self, conn: ConnId) -> Result<(), TransferError> {
        self.close(conn, status::ABORTED)
    }

    /// A SYN for no known connection: a new one, if there is room.
    fn offer<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        src: EthernetAddress,
        repr: &TransferRepr<'_>,
    ) -> Result<(), D::Error> {
        let Ok(syn) = SynPayload::parse(repr.payload) else {
            self.stats.rx_malformed += 1;
            return Ok(());
        };
        let (Ok(name), true) = (Name::new(syn.name), syn.header.len() <= HEADER_MAX) else {
            self.stats.rx_malformed += 1;
            return Ok(());
        };
        let Ok((index, handle)) = self.free_slot() else {
            self.stats.refused_busy += 1;
            return refuse(station, src, repr.conn_id, status::BUSY, &mut self.stats);
        };
        let conn = &mut self.conns[index];
        conn.start(Role::Acceptor, repr.messages, handle, repr.conn_id, repr.seq, name, Some(src), station.now());
        let _ = conn.header.extend_from_slice(syn.header);
        conn.receive(repr, station.now(), &self.config, &mut self.stats);
        self.stats.accepted += 1;
        // The newcomer takes its share from the start.
        self.share_receive_budget();
        Ok(())
    }

    /// The next event of connection `index`, its payload copied to `scratch`.
    fn event_of<'s>(conn: &mut Connection<WINDOW>, scratch: &'s mut [u8]) -> Option<TransferEvent<'s>> {
        let handle = conn.handle;
        let notify = &mut conn.notify;
        if core::mem::take(&mut notify.offered) {
            let header = &mut scratch[..conn.header.len()];
            header.copy_from_slice(&conn.header);
            let (from, mac, messages) = (conn.peer.clone(), conn.peer_mac.unwrap_or_default(), conn.messages);
            return Some(TransferEvent::Incoming { conn: handle, from, mac, messages, header });
        }
        if core::mem::take(&mut notify.connected) {
            return Some(TransferEvent::Connected { conn: handle });
        }
        if conn.phase != Phase::Resetting {
            let (isn, messages, peer) = (conn.isn(), conn.messages, conn.peer.clone());
            if let Some(slot) = conn.take_delivery() {
                let (seq, bytes) = (slot.seq, slot.bytes());
                let data = &mut scratch[..bytes.len()];
                data.copy_from_slice(bytes);
                return Some(if messages {
                    TransferEvent::Message {
                        id: MessageId { conn: handle, number: seq.wrapping_sub(isn) },
                        from: peer,
                        data,
                    }
                } else {
                    TransferEvent::Received { conn: handle, data }
                });
            }
        }
        if conn.messages && conn.role == Role::Initiator && seq::before(conn.reported, conn.una) {
            let number = conn.reported.wrapping_sub(conn.isn());
            conn.reported = conn.reported.wrapping_add(1);
            return Some(TransferEvent::Delivered { id: MessageId { conn: handle, number } });
        }
        if core::mem::take(&mut conn.notify.writable) {
            return Some(TransferEvent::Writable { conn: handle });
        }
        if !conn.has_delivery() && core::mem::take(&mut conn.notify.finished) {
            return Some(TransferEvent::Finished { conn: handle });
        }
        let end = conn.notify.end?;
        if conn.messages && conn.role == Role::Initiator && seq::before(conn.reported, conn.end) {
            let number = conn.reported.wrapping_sub(conn.isn());
            conn.reported = conn.reported.wrapping_add(1);
            return Some(TransferEvent::Undelivered { id: MessageId { conn: handle, number } });
        }
        conn.notify.end = None;
        if conn.role == Role::Initiator {
            conn.phase = Phase::Free;
        }
        Some(match end {
            End::Closed(status) => TransferEvent::Closed { conn: handle, status },
            End::Failed(failure) => TransferEvent::Failed { conn: handle, failure },
        })
    }

    /// Shares [`TransferConfig::receive_budget`] out equally among the
    /// connections receiving now (at least four segments each).
    fn share_receive_budget(&mut self) {
        let receiving = self.conns.iter().filter(|c| c.role == Role::Acceptor && c.phase == Phase::Open).count().max(1);
        let share = (self.config.receive_budget / receiving as u32).max(4);
        for conn in self.conns.iter_mut().filter(|c| c.role == Role::Acceptor) {
            conn.window_cap = share;
        }
    }

    fn conn_has_event(conn: &Connection<WINDOW>) -> bool {
        let notify = conn.notify;
        notify.offered
            || notify.connected
            || notify.writable
            || notify.finished
            || notify.end.is_some()
            || (conn.phase != Phase::Resetting && conn.has_delivery())
            || (conn.messages && conn.role == Role::Initiator && seq::before(conn.reported, conn.una))
    }
}

/// Refuses a connection that has no slot: a RESET with `status`. One the
/// device has no room for is covered by the peer's own SYN retries.
fn refuse<D: LinkDevice>(
    station: &mut Station<'_, D>,
    to: EthernetAddress,
    conn_id: u32,
    status: u16,
    stats: &mut TransferStats,
) -> Result<(), D::Error> {
    let payload = status.to_be_bytes();
    let repr = TransferRepr {
        kind: Kind::Reset,
        from_initiator: false,
        messages: false,
        conn_id,
        seq: 0,
        ack: 0,
        window: 0,
        timestamp: station.now().total_micros() as u32,
        echo: 0,
        sack: &[],
        payload: &payload,
    };
    connection::transmit(station, to, &repr, stats).map(drop)
}

impl<const CONNS: usize, const WINDOW: usize> Service for Transfer<CONNS, WINDOW> {
    type Event<'s> = TransferEvent<'s>;

    fn accepts(&self, ethertype: EtherType) -> bool {
        ethertype == EtherType::TRANSFER
    }

    fn receive<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        header: &EthernetRepr,
        frame: &[u8],
    ) -> Result<(), D::Error> {
        let body = &frame[wire::ethernet::HEADER_LEN..];
        let repr = match TransferRepr::parse(header.dst_addr, header.src_addr, body) {
            Ok(repr) => repr,
            Err(wire::Error::Checksum) => {
                self.stats.rx_checksum += 1;
                return Ok(());
            }
            Err(_) => {
                self.stats.rx_malformed += 1;
                return Ok(());
            }
        };
        self.stats.frames_received += 1;
        let role = if repr.from_initiator { Role::Acceptor } else { Role::Initiator };
        let now = station.now();
        match self.conns.iter_mut().find(|c| c.matches(header.src_addr, repr.conn_id, role)) {
            Some(conn) => {
                conn.receive(&repr, now, &self.config, &mut self.stats);
                conn.acknowledge_burst(station, &self.config, &mut self.stats)?;
            }
            None if repr.kind == Kind::Syn && repr.from_initiator && header.dst_addr == station.mac_address() => {
                self.offer(station, header.src_addr, &repr)?
            }
            None => self.stats.rx_unknown_connection += 1,
        }
        Ok(())
    }

    fn on_node_event<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        event: &Event<'_>,
    ) -> Result<(), D::Error> {
        let now = station.now();
        match event {
            Event::Resolved { name, hardware_addr, .. } => {
                for conn in self.conns.iter_mut().filter(|c| c.phase == Phase::Resolving && c.peer == *name) {
                    conn.resolved(*hardware_addr, now);
                }
                self.dirty = true;
            }
            Event::ResolutionFailed { name, .. } => {
                for conn in self.conns.iter_mut().filter(|c| c.phase == Phase::Resolving && c.peer == *name) {
                    conn.end_with(End::Failed(Failure::Unresolved), now, &self.config);
                }
                // A resolution slot is free: connections waiting for one
                // try again.
                self.dirty = true;
            }
            _ => {}
        }
        Ok(())
    }

    fn poll<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error> {
        let now = station.now();
        self.dirty = false;
        self.share_receive_budget();
        let mut next = None;
        for i in 0..CONNS {
            let conn = &mut self.conns[(self.cursor + i) % CONNS];
            if conn.phase == Phase::Resolving {
                match station.resolve(&conn.peer) {
                    Ok(Some(mac)) => conn.resolved(mac, now),
                    // The node reports the answer as an event.
                    Ok(None) => continue,
                    // Every slot is busy with other names: this one waits
                    // for the next to end (an event, within the node's
                    // bounded retries).
                    Err(crate::station::ResolveError::TooManyResolutions) => continue,
                    Err(crate::station::ResolveError::Device(err)) => return Err(err),
                    Err(_) => {
                        conn.end_with(End::Failed(Failure::Unresolved), now, &self.config);
                        continue;
                    }
                }
            }
            next = time::earliest(next, conn.poll(station, &self.config, &mut self.stats)?);
        }
        self.cursor = (self.cursor + 1) % CONNS;
        self.next_poll = next;
        Ok(())
    }

    fn poll_at(&self) -> Option<Instant> {
        if self.dirty { Some(Instant::ZERO) } else { self.next_poll }
    }

    fn has_event(&self) -> bool {
        self.conns.iter().any(Self::conn_has_event)
    }

    fn next_event<'s>(&mut self, scratch: &'s mut [u8]) -> Option<TransferEvent<'s>> {
        let index = (0..CONNS).map(|i| (self.cursor + i) % CONNS).find(|&i| Self::conn_has_event(&self.conns[i]))?;
        // The next event comes from the next connection: they take turns.
        self.cursor = (index + 1) % CONNS;
        Self::event_of(&mut self.conns[index], scratch)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use crate::Node;
    use crate::device::Segment;
    use crate::runtime::{Context, Handler};
    use crate::station::{Config, Resources};

    /// Notes the status a connection closed with and the data received.
    struct Recorder<'a> {
        closed: &'a mut Option<u16>,
        received: &'a mut Vec<u8>,
    }

    impl<D: LinkDevice> Handler<D, Transfer<1, 16>> for Recorder<'_> {
        fn on_event(&mut self, _: &mut Context<'_, D, Transfer<1, 16>>, event: Event<'_, TransferEvent<'_>>) {
            match event {
                Event::Service(TransferEvent::Closed { status, .. }) => *self.closed = Some(status),
                Event::Service(TransferEvent::Received { data, .. }) => self.received.extend_from_slice(data),
                _ => {}
            }
        }
    }

    #[test]
    fn sequence_numbers_wrap_around_mid_transfer() {
        let segment: Segment<2, 64> = Segment::new();
        let a = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 1])).unwrap();
        let b = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 2])).unwrap();
        let (mut sender_storage, mut receiver_storage) = (Resources::<8>::new(), Resources::<8>::new());
        let mut sender: Node<_, Transfer<1, 16>> = Node::with_services(
            a,
            Name::try_from("a").unwrap(),
            Config::default(),
            &mut sender_storage,
            Transfer::new(TransferConfig::default(), 1),
        );
        let mut receiver: Node<_, Transfer<1, 16>> = Node::with_services(
            b,
            Name::try_from("b").unwrap(),
            Config::default(),
            &mut receiver_storage,
            Transfer::new(TransferConfig::default(), 2),
        );
        let data: Vec<u8> = (0..100 * MAX_SEGMENT).map(|i| (i * 7 % 251) as u8).collect();
        // 100 segments from 30 before the wrap.
        let conn = sender
            .services_mut()
            .start_at(&Name::try_from("b").unwrap(), false, b"", Instant::ZERO, u32::MAX - 30)
            .unwrap();
        let (mut written, mut received, mut closed) = (0, Vec::new(), None);
        let mut now = Instant::ZERO;
        while closed.is_none() {
            if written < data.len() {
                written += sender.services_mut().write(conn, &data[written..]).unwrap();
                if written == data.len() {
                    sender.services_mut().finish(conn).unwrap();
                }
            }
            let mut events = Recorder { closed: &mut closed, received: &mut received };
            sender.poll(now, &mut events).unwrap();
            receiver.poll(now, &mut events).unwrap();
            now += Duration::from_micros(100);
            assert!(now < Instant::from_secs(10), "the transfer never ended");
        }
        assert_eq!(closed, Some(status::OK));
        assert!(received == data, "every byte, in order, across the wrap");
    }
}
