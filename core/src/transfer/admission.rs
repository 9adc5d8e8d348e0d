//! Who gets a connection slot: slots and their handles, the connections
//! this node opens, SYNs from others (admitted while a slot is free,
//! refused BUSY otherwise), and the receive budget shared out among the
//! connections receiving at once.

use super::connection::{Connection, HEADER_MAX, PeerLink};
use super::{ConnId, Transfer, TransferError, TransferStats, status};
use crate::device::LinkDevice;
use crate::station::Station;
use crate::time::Instant;
use crate::wire::transfer::{Kind, SynPayload, TransferRepr};
use crate::wire::{EthernetAddress, Name};

impl<const CONNS: usize, const WINDOW: usize> Transfer<CONNS, WINDOW> {
    /// A free slot and the handle of the connection it will hold.
    fn free_slot(&mut self) -> Result<(usize, ConnId), TransferError> {
        let index = self.conns.iter().position(Connection::is_free).ok_or(TransferError::NoFreeConnection)?;
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

    /// Opens a connection to `peer`: streams, or messages.
    pub(super) fn start(
        &mut self,
        peer: &Name,
        messages: bool,
        header: &[u8],
        now: Instant,
    ) -> Result<ConnId, TransferError> {
        let isn = self.rng.next_u32();
        self.start_at(peer, messages, header, now, isn)
    }

    /// [`start`](Self::start) with a given first sequence number.
    pub(super) fn start_at(
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
        conn.open(messages, handle, conn_id, isn, peer.clone(), now);
        conn.set_header(header);
        self.stats.opened += 1;
        self.dirty = true;
        Ok(handle)
    }

    /// A SYN for no known connection: a new one, if there is room.
    pub(super) fn offer<D: LinkDevice>(
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
        let now = station.now();
        let conn = &mut self.conns[index];
        conn.accept(repr.messages, handle, repr.conn_id, repr.seq, name, src, now);
        conn.set_header(syn.header);
        conn.receive(repr, now, &self.config, &mut self.stats);
        self.stats.accepted += 1;
        // The newcomer takes its share from the start.
        self.share_receive_budget();
        Ok(())
    }

    /// Shares [`receive_budget`](super::TransferConfig::receive_budget) out
    /// equally among the connections receiving now (at least four segments
    /// each).
    pub(super) fn share_receive_budget(&mut self) {
        let receiving = self.conns.iter().filter(|c| c.is_receiving()).count().max(1);
        let share = (self.config.receive_budget / receiving as u32).max(4);
        for conn in &mut self.conns {
            conn.set_window_cap(share);
        }
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
    PeerLink::new(station, to, stats).transmit(&repr).map(drop)
}
