//! Data frames (ethertype 0xFFFD): the Ethernet payload is the message.
//!
//! The C original has no length field, so a frame that Ethernet padded to
//! its 60-byte minimum ends in zeros that cannot be told from the message.
//! whohas reads a minimum-size frame's trailing zero bytes as padding; longer
//! frames are taken whole. A message that must end in zero bytes should be
//! at least 47 bytes long (see `docs/PROTOCOL.md`).

use super::ethernet::MIN_FRAME_LEN;

/// The message carried by a data frame of `frame_len` bytes whose Ethernet
/// payload is `payload`, without Ethernet padding.
pub fn message(frame_len: usize, payload: &[u8]) -> &[u8] {
    if frame_len != MIN_FRAME_LEN {
        return payload;
    }
    let end = payload.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
    &payload[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_padding_only_from_minimum_frames() {
        let mut padded = [0u8; 46];
        padded[..3].copy_from_slice(b"hi\n");
        assert_eq!(message(60, &padded), b"hi\n");
        assert_eq!(message(61, &[b'x', 0, 0]), &[b'x', 0, 0]);
        assert_eq!(message(60, &[0; 46]), b"");
    }
}
