#![no_main]
//! The presence codec: parsing never panics; a payload that parses is
//! emitted back byte for byte up to the end of the name, but for reserved
//! flag bits (ignored when parsed, sent as zero), and what is emitted
//! parses to the same repr. Input: a presence payload.

use libfuzzer_sys::fuzz_target;
use whohas_core::wire::presence::PresenceRepr;

/// The flags byte and its one defined bit (ANSWER).
const FLAGS: usize = 2;
const KNOWN_FLAGS: u8 = 0x01;

fuzz_target!(|data: &[u8]| {
    let Ok(repr) = PresenceRepr::parse(data) else { return };
    let mut out = [0u8; 128];
    let len = repr.buffer_len();
    repr.emit(&mut out[..len]);
    assert_eq!(PresenceRepr::parse(&out[..len]), Ok(repr.clone()));
    let mut expected = data[..len].to_vec();
    expected[FLAGS] &= KNOWN_FLAGS;
    assert_eq!(&out[..len], &expected[..]);
});
