//! Data frames (ethertype 0xFFFD): the Ethernet payload is the message.
//!
//! The C original has no length field, so a frame that Ethernet padded to
//! its 60-byte minimum ends in zeros that cannot be told from the message.
//! whohas reads the trailing zero bytes of a frame of 60 bytes or fewer as
//! padding (a capture or a veth link may hand over a short frame that a
//! NIC would have padded); longer frames are taken whole. A message that
//! must end in zero bytes should be at least 47 bytes long (see
//! `docs/PROTOCOL.md`). Padding that a NIC filled with non-zero bytes
//! cannot be told from the message either: nothing in the format marks it.

use super::ethernet::MIN_FRAME_LEN;

/// The message carried by a data frame of `frame_len` bytes whose Ethernet
/// payload is `payload`, without Ethernet padding.
pub fn message(frame_len: usize, payload: &[u8]) -> &[u8] {
    if frame_len > MIN_FRAME_LEN {
        return payload;
    }
    let end = payload.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
    &payload[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_padding_only_from_frames_at_or_under_the_minimum() {
        let mut padded = [0u8; 46];
        padded[..3].copy_from_slice(b"hi\n");
        assert_eq!(message(60, &padded), b"hi\n");
        assert_eq!(message(59, &padded[..45]), b"hi\n");
        assert_eq!(message(20, &[b'h', b'i', 0, 0, 0, 0]), b"hi");
        assert_eq!(message(61, &[b'x', 0, 0]), &[b'x', 0, 0]);
        assert_eq!(message(60, &[0; 46]), b"");
    }
}
