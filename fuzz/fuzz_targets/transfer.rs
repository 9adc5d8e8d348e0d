#![no_main]
//! The reliable transfer's codec: parsing never panics, and a frame that
//! parses (checksum included) is emitted back with the same meaning: byte
//! for byte but for reserved flag bits (ignored when parsed, sent as zero)
//! and the checksum over them, and parsing to the same repr.
//! Input: `[dst: 6][src: 6][transfer body]`.

use libfuzzer_sys::fuzz_target;
use whohas_core::wire::EthernetAddress;
use whohas_core::wire::transfer::{CHECKSUM_LEN, Kind, SynPayload, TransferRepr};

/// The flags byte and its defined bits (from the initiator, messages).
const FLAGS: usize = 2;
const KNOWN_FLAGS: u8 = 0x03;

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let dst = EthernetAddress::from_bytes(&data[..6]).unwrap();
    let src = EthernetAddress::from_bytes(&data[6..12]).unwrap();
    let body = &data[12..];
    let Ok(repr) = TransferRepr::parse(dst, src, body) else { return };
    let len = repr.buffer_len();
    let mut out = vec![0u8; len];
    repr.emit(dst, src, &mut out);
    assert_eq!(TransferRepr::parse(dst, src, &out[..len]), Ok(repr.clone()));
    let mut expected = body[..len - CHECKSUM_LEN].to_vec();
    expected[FLAGS] &= KNOWN_FLAGS;
    assert_eq!(&out[..len - CHECKSUM_LEN], &expected[..]);
    if repr.kind == Kind::Syn {
        if let Ok(syn) = SynPayload::parse(repr.payload) {
            let mut payload = vec![0u8; syn.buffer_len()];
            syn.emit(&mut payload);
            assert_eq!(payload, repr.payload);
        }
    }
});
