//! Frames waiting to be sent, packed into one fixed byte buffer.
//!
//! A data frame for a peer whose MAC is not known yet waits here while the
//! name is resolved, and any data frame waits here while the device has no
//! room. Records are packed back to back so a few small messages do not
//! reserve a full MTU each:
//!
//! ```text
//! [key_len: u8][key][payload_len: u16 LE][payload]
//! ```
//!
//! where the key is a name (`key_len` 1 to 64) or, with `key_len` 0, a MAC
//! address (6 bytes).
//!
//! Removal compacts the buffer in place; it is linear in the bytes queued,
//! which is bounded by `BYTES` and only happens when a peer resolves or fails.

use heapless::vec::{OwnedVecStorage, VecInner, VecStorage, ViewVecStorage};

use crate::wire::EthernetAddress;

const KEY_LEN_SIZE: usize = 1;
const PAYLOAD_LEN_SIZE: usize = 2;
/// `key_len` of a record addressed to a MAC address.
const ADDRESS_KEY: u8 = 0;

/// Where a queued frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination<'a> {
    /// The station with this name (1 to 64 bytes), once resolved.
    Name(&'a [u8]),
    /// This MAC address.
    Address(EthernetAddress),
}

impl Destination<'_> {
    fn key(&self) -> &[u8] {
        match self {
            Destination::Name(name) => name,
            Destination::Address(mac) => mac.as_bytes(),
        }
    }

    fn key_len_byte(&self) -> u8 {
        match self {
            // Names are at most NAME_MAX (64) bytes, so the length fits.
            Destination::Name(name) => name.len() as u8,
            Destination::Address(_) => ADDRESS_KEY,
        }
    }
}

/// A FIFO of `(destination, payload)` records in the storage `S`:
/// [`FrameQueue`] owns `BYTES` bytes, a [`FrameQueueView`] is borrowed.
pub struct FrameQueueInner<S: VecStorage<u8> + ?Sized> {
    bytes: VecInner<u8, usize, S>,
}

/// A queue of `BYTES` bytes.
pub type FrameQueue<const BYTES: usize> = FrameQueueInner<OwnedVecStorage<u8, BYTES>>;

/// A queue of any size, borrowed: `&mut FrameQueue<BYTES>` coerces to it.
pub type FrameQueueView = FrameQueueInner<ViewVecStorage<u8>>;

/// The queue has no room for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QueueFull;

/// What [`FrameQueue::retain`] does with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Leave it queued.
    Yes,
    /// Remove it.
    No,
}

struct Record {
    address: bool,
    key: core::ops::Range<usize>,
    payload: core::ops::Range<usize>,
}

impl Record {
    fn end(&self) -> usize {
        self.payload.end
    }
}

impl<const BYTES: usize> Default for FrameQueue<BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const BYTES: usize> FrameQueue<BYTES> {
    /// An empty queue.
    pub const fn new() -> Self {
        FrameQueueInner { bytes: heapless::Vec::new() }
    }
}

impl<S: VecStorage<u8> + ?Sized> FrameQueueInner<S> {
    /// Bytes a record with a `key_len`-byte key (a name's length, or 6 for
    /// an address) and `payload_len` bytes occupies.
    pub const fn record_len(key_len: usize, payload_len: usize) -> usize {
        KEY_LEN_SIZE + key_len + PAYLOAD_LEN_SIZE + payload_len
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes in use.
    pub fn bytes_used(&self) -> usize {
        self.bytes.len()
    }

    /// Appends a record; all or nothing.
    pub fn push(&mut self, destination: Destination<'_>, payload: &[u8]) -> Result<(), QueueFull> {
        let payload_len = u16::try_from(payload.len()).map_err(|_| QueueFull)?;
        let key = destination.key();
        if self.bytes.len() + Self::record_len(key.len(), payload.len()) > self.bytes.capacity() {
            return Err(QueueFull);
        }
        let pieces: [&[u8]; 4] = [&[destination.key_len_byte()], key, &payload_len.to_le_bytes(), payload];
        for piece in pieces {
            self.bytes.extend_from_slice(piece).map_err(|_| QueueFull)?;
        }
        Ok(())
    }

    fn record_at(&self, start: usize) -> Record {
        let address = self.bytes[start] == ADDRESS_KEY;
        let key_len = if address { 6 } else { usize::from(self.bytes[start]) };
        let key = start + KEY_LEN_SIZE..start + KEY_LEN_SIZE + key_len;
        let len = u16::from_le_bytes([self.bytes[key.end], self.bytes[key.end + 1]]) as usize;
        let payload_start = key.end + PAYLOAD_LEN_SIZE;
        Record { address, key, payload: payload_start..payload_start + len }
    }

    fn destination(&self, record: &Record) -> Destination<'_> {
        let key = &self.bytes[record.key.clone()];
        match EthernetAddress::from_bytes(key).filter(|_| record.address) {
            Some(mac) => Destination::Address(mac),
            None => Destination::Name(key),
        }
    }

    /// The records, oldest first, as `(destination, payload)`.
    pub fn iter(&self) -> impl Iterator<Item = (Destination<'_>, &[u8])> {
        let mut start = 0;
        core::iter::from_fn(move || {
            if start >= self.bytes.len() {
                return None;
            }
            let record = self.record_at(start);
            start = record.end();
            Some((self.destination(&record), &self.bytes[record.payload]))
        })
    }

    /// Whether any record is addressed to `destination`.
    pub fn contains(&self, destination: Destination<'_>) -> bool {
        self.iter().any(|(queued, _)| queued == destination)
    }

    /// Visits records oldest first and removes those for which `visit`
    /// returns [`Keep::No`], preserving the order of the rest.
    pub fn retain(&mut self, mut visit: impl FnMut(Destination<'_>, &[u8]) -> Keep) {
        let (mut read, mut write) = (0, 0);
        while read < self.bytes.len() {
            let record = self.record_at(read);
            let end = record.end();
            if visit(self.destination(&record), &self.bytes[record.payload.clone()]) == Keep::Yes {
                self.bytes.copy_within(read..end, write);
                write += end - read;
            }
            read = end;
        }
        self.bytes.truncate(write);
    }

    /// Removes every record for `destination`; returns how many there were.
    pub fn remove_all(&mut self, destination: Destination<'_>) -> usize {
        let mut removed = 0;
        self.retain(|queued, _| {
            if queued == destination {
                removed += 1;
                Keep::No
            } else {
                Keep::Yes
            }
        });
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Destination<'static> = Destination::Name(b"a");
    const BB: Destination<'static> = Destination::Name(b"bb");
    const MAC: Destination<'static> = Destination::Address(EthernetAddress([2, 0, 0, 0, 0, 1]));

    #[test]
    fn keeps_fifo_order_across_removals() {
        let mut queue: FrameQueue<64> = FrameQueue::new();
        queue.push(A, b"1").unwrap();
        queue.push(BB, b"22").unwrap();
        queue.push(MAC, b"4").unwrap();
        queue.push(A, b"333").unwrap();
        assert!(queue.contains(BB) && queue.contains(MAC));
        assert!(!queue.contains(Destination::Name(b"b")));
        assert_eq!(queue.remove_all(BB), 1);
        let left: heapless::Vec<(Destination<'_>, &[u8]), 4> = queue.iter().collect();
        assert_eq!(left.as_slice(), &[(A, &b"1"[..]), (MAC, &b"4"[..]), (A, &b"333"[..])]);
        let record_len = FrameQueue::<64>::record_len;
        assert_eq!(queue.bytes_used(), record_len(1, 1) + record_len(6, 1) + record_len(1, 3));
    }

    #[test]
    fn refuses_what_does_not_fit_without_partial_writes() {
        let mut queue: FrameQueue<16> = FrameQueue::new();
        queue.push(A, &[0; 12]).unwrap();
        assert_eq!(queue.push(A, &[0; 1]), Err(QueueFull));
        assert_eq!(queue.bytes_used(), 16);
        queue.retain(|_, _| Keep::No);
        assert!(queue.is_empty());
    }
}
