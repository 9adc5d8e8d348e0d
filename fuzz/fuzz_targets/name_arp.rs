#![no_main]
//! name-ARP: parsing never panics, and whatever parses emits back to bytes
//! that parse to the same thing.

use libfuzzer_sys::fuzz_target;
use whohas_core::wire::{NameArpPacket, NameArpRepr};

fuzz_target!(|data: &[u8]| {
    let Ok(repr) = NameArpRepr::parse(&NameArpPacket::new_unchecked(data)) else { return };
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut NameArpPacket::new_unchecked(&mut out[..]));
    assert_eq!(NameArpRepr::parse(&NameArpPacket::new_unchecked(&out[..])), Ok(repr));
});
