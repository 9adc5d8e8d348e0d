#![no_main]
//! The reliable transfer's codec: parsing never panics, and a frame that
//! parses (checksum included) is emitted back byte for byte.
//! Input: `[dst: 6][src: 6][transfer body]`.

use libfuzzer_sys::fuzz_target;
use whohas_core::wire::EthernetAddress;
use whohas_core::wire::transfer::{Kind, SynPayload, TransferRepr};

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let dst = EthernetAddress::from_bytes(&data[..6]).unwrap();
    let src = EthernetAddress::from_bytes(&data[6..12]).unwrap();
    let body = &data[12..];
    let Ok(repr) = TransferRepr::parse(dst, src, body) else { return };
    let mut out = [0u8; 2048];
    let len = repr.buffer_len();
    repr.emit(dst, src, &mut out[..len]);
    assert_eq!(&out[..len], &body[..len]);
    if repr.kind == Kind::Syn {
        if let Ok(syn) = SynPayload::parse(repr.payload) {
            let mut payload = [0u8; 2048];
            syn.emit(&mut payload[..syn.buffer_len()]);
            assert_eq!(&payload[..syn.buffer_len()], repr.payload);
        }
    }
});
