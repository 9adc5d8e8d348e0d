#![no_main]
//! RFC 826 ARP: parsing never panics, and what parses round-trips.

use libfuzzer_sys::fuzz_target;
use whohas_core::wire::{ArpPacket, ArpRepr};

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = ArpPacket::new_checked(data) else { return };
    let Ok(repr) = ArpRepr::parse(&packet) else { return };
    let mut out = [0u8; 28];
    repr.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
    assert_eq!(&out[..], &data[..28]);
});
