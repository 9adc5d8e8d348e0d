//! Frames waiting to be sent, packed into one fixed byte buffer.
//!
//! A data frame for a peer whose MAC is not known yet waits here while the
//! name is resolved (and, rarely, while the device is busy). Records are
//! packed back to back so a few small messages do not reserve a full MTU
//! each:
//!
//! ```text
//! [name_len: u8][name][payload_len: u16 LE][payload]
//! ```
//!
//! Removal compacts the buffer in place; it is linear in the bytes queued,
//! which is bounded by `BYTES` and only happens when a peer resolves or fails.

use crate::wire::Name;

const NAME_LEN_SIZE: usize = 1;
const PAYLOAD_LEN_SIZE: usize = 2;

/// A FIFO of `(destination name, payload)` records within `BYTES` bytes.
#[derive(Debug, Clone)]
pub struct FrameQueue<const BYTES: usize> {
    bytes: heapless::Vec<u8, BYTES>,
}

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
    name: core::ops::Range<usize>,
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
        FrameQueue { bytes: heapless::Vec::new() }
    }

    /// Bytes a record for `name` and `payload_len` bytes occupies.
    pub const fn record_len(name_len: usize, payload_len: usize) -> usize {
        NAME_LEN_SIZE + name_len + PAYLOAD_LEN_SIZE + payload_len
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
    pub fn push(&mut self, name: &Name, payload: &[u8]) -> Result<(), QueueFull> {
        let payload_len = u16::try_from(payload.len()).map_err(|_| QueueFull)?;
        if self.bytes.len() + Self::record_len(name.len(), payload.len()) > BYTES {
            return Err(QueueFull);
        }
        // Names are at most NAME_MAX (64) bytes, so the length fits a u8.
        let pieces: [&[u8]; 4] = [&[name.len() as u8], name.as_bytes(), &payload_len.to_le_bytes(), payload];
        for piece in pieces {
            self.bytes.extend_from_slice(piece).map_err(|_| QueueFull)?;
        }
        Ok(())
    }

    fn record_at(&self, start: usize) -> Record {
        let name = start + NAME_LEN_SIZE..start + NAME_LEN_SIZE + self.bytes[start] as usize;
        let len = u16::from_le_bytes([self.bytes[name.end], self.bytes[name.end + 1]]) as usize;
        let payload_start = name.end + PAYLOAD_LEN_SIZE;
        Record { name, payload: payload_start..payload_start + len }
    }

    /// The records, oldest first, as `(name, payload)`.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let mut start = 0;
        core::iter::from_fn(move || {
            if start >= self.bytes.len() {
                return None;
            }
            let record = self.record_at(start);
            start = record.end();
            Some((&self.bytes[record.name], &self.bytes[record.payload]))
        })
    }

    /// Whether any record is addressed to `name`.
    pub fn contains(&self, name: &[u8]) -> bool {
        self.iter().any(|(queued, _)| queued == name)
    }

    /// Visits records oldest first and removes those for which `visit`
    /// returns [`Keep::No`], preserving the order of the rest.
    pub fn retain(&mut self, mut visit: impl FnMut(&[u8], &[u8]) -> Keep) {
        let (mut read, mut write) = (0, 0);
        while read < self.bytes.len() {
            let record = self.record_at(read);
            let end = record.end();
            if visit(&self.bytes[record.name], &self.bytes[record.payload]) == Keep::Yes {
                self.bytes.copy_within(read..end, write);
                write += end - read;
            }
            read = end;
        }
        self.bytes.truncate(write);
    }

    /// Removes every record for `name`; returns how many there were.
    pub fn remove_all(&mut self, name: &[u8]) -> usize {
        let mut removed = 0;
        self.retain(|queued, _| {
            if queued == name {
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

    fn name(text: &str) -> Name {
        Name::try_from(text).unwrap()
    }

    #[test]
    fn keeps_fifo_order_across_removals() {
        let mut queue: FrameQueue<64> = FrameQueue::new();
        queue.push(&name("a"), b"1").unwrap();
        queue.push(&name("bb"), b"22").unwrap();
        queue.push(&name("a"), b"333").unwrap();
        assert!(queue.contains(b"bb"));
        assert_eq!(queue.remove_all(b"bb"), 1);
        let left: heapless::Vec<(&[u8], &[u8]), 4> = queue.iter().collect();
        assert_eq!(left.as_slice(), &[(&b"a"[..], &b"1"[..]), (&b"a"[..], &b"333"[..])]);
        assert_eq!(queue.bytes_used(), FrameQueue::<64>::record_len(1, 1) + FrameQueue::<64>::record_len(1, 3));
    }

    #[test]
    fn refuses_what_does_not_fit_without_partial_writes() {
        let mut queue: FrameQueue<16> = FrameQueue::new();
        queue.push(&name("a"), &[0; 12]).unwrap();
        assert_eq!(queue.push(&name("a"), &[0; 1]), Err(QueueFull));
        assert_eq!(queue.bytes_used(), 16);
        queue.retain(|_, _| Keep::No);
        assert!(queue.is_empty());
    }
}
