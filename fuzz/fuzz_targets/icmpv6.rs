#![no_main]
//! IPv6 and ICMPv6 (echo, neighbour solicitation and advertisement):
//! parsing never panics, and what parses is emitted back to the same
//! packet (up to reserved bits, unknown options and padding, which are
//! ignored), which parses to the same meaning.

use libfuzzer_sys::fuzz_target;
use whohas_core::wire::Icmpv6Packet;

fuzz_target!(|data: &[u8]| {
    let Ok((_, packet)) = Icmpv6Packet::parse(data) else { return };
    let mut out = vec![0u8; packet.buffer_len()];
    packet.emit(&mut out);
    assert_eq!(Icmpv6Packet::parse(&out).map(|(_, again)| again), Ok(packet));
});
