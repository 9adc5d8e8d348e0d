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

mod admission;
mod congestion;
mod connection;
mod rtt;
mod seq;
mod types;

use connection::Connection;
pub use connection::HEADER_MAX;
pub use types::{
    ConnId, ConnectionInfo, ConnectionStats, Failure, MAX_SEGMENT, MessageId, TransferConfig, TransferError,
    TransferEvent, TransferStats, status,
};

use crate::device::LinkDevice;
use crate::rng::Rng;
use crate::service::Service;
use crate::station::{Event, ResolveError, Station};
use crate::time::{self, Instant};
use crate::wire::transfer::{Kind, TransferRepr};
use crate::wire::{self, EtherType, EthernetRepr, Name};

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
        self.conns.get(conn.index()).filter(|c| c.is(conn))
    }

    fn connection_mut(&mut self, conn: ConnId) -> Result<&mut Connection<WINDOW>, TransferError> {
        self.conns.get_mut(conn.index()).filter(|c| c.is(conn)).ok_or(TransferError::UnknownConnection)
    }

    /// What there is to know of `conn`.
    pub fn info(&self, conn: ConnId) -> Option<ConnectionInfo> {
        self.connection(conn).map(Connection::info)
    }

    /// The peer of `conn`.
    pub fn peer(&self, conn: ConnId) -> Option<&Name> {
        self.connection(conn).map(Connection::peer)
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
        let index = match self.conns.iter().position(|c| c.takes_messages_to(peer)) {
            Some(index) => index,
            None => self.start(peer, true, &[], now)?.index(),
        };
        let conn = &mut self.conns[index];
        let number = conn.write_message(data).ok_or(TransferError::WindowFull)?;
        self.dirty = true;
        Ok(MessageId { conn: conn.handle(), number })
    }

    /// Writes the next bytes of a stream; returns how many fit the window
    /// (0 when it is full: a `Writable` event says when there is room).
    pub fn write(&mut self, conn: ConnId, data: &[u8]) -> Result<usize, TransferError> {
        let max_segment = self.max_segment();
        let taken = self.connection_mut(conn)?.write_stream(data, max_segment).ok_or(TransferError::WrongState)?;
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
        if !self.connection_mut(conn)?.finish() {
            return Err(TransferError::WrongState);
        }
        self.dirty = true;
        Ok(())
    }

    /// The receiver's verdict on a finished stream (while handling
    /// `Finished`): `status` goes back to the sender in the FIN-ACK.
    /// Before that, it ends the connection with a RESET carrying `status`.
    pub fn close(&mut self, conn: ConnId, status: u16) -> Result<(), TransferError> {
        self.connection_mut(conn)?.close(status);
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
        let now = station.now();
        match self.conns.iter_mut().find(|c| c.matches(header.src_addr, repr.conn_id, repr.from_initiator)) {
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

    fn on_node_event<D: LinkDevice, E>(
        &mut self,
        station: &mut Station<'_, D>,
        event: &Event<'_, E>,
    ) -> Result<(), D::Error> {
        let now = station.now();
        match event {
            Event::Resolved { name, hardware_addr, .. } => {
                for conn in self.conns.iter_mut().filter(|c| c.resolving(name)) {
                    conn.resolved(*hardware_addr, now);
                }
                self.dirty = true;
            }
            Event::ResolutionFailed { name, .. } => {
                for conn in self.conns.iter_mut().filter(|c| c.resolving(name)) {
                    conn.unresolved(now, &self.config);
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
            if conn.is_resolving() {
                match station.resolve(conn.peer()) {
                    Ok(Some(mac)) => conn.resolved(mac, now),
                    // The node reports the answer as an event.
                    Ok(None) => continue,
                    // Every slot is busy with other names: this one waits
                    // for the next to end (an event, within the node's
                    // bounded retries).
                    Err(ResolveError::TooManyResolutions) => continue,
                    Err(ResolveError::Device(err)) => return Err(err),
                    Err(_) => {
                        conn.unresolved(now, &self.config);
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
        self.conns.iter().any(Connection::has_event)
    }

    fn next_event<'s>(&mut self, scratch: &'s mut [u8]) -> Option<TransferEvent<'s>> {
        let index = (0..CONNS).map(|i| (self.cursor + i) % CONNS).find(|&i| self.conns[i].has_event())?;
        // The next event comes from the next connection: they take turns.
        self.cursor = (index + 1) % CONNS;
        self.conns[index].next_event(scratch)
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
    use crate::time::Duration;
    use crate::wire::EthernetAddress;

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
