#![no_main]
//! Ethernet framing and the one-line summary never panic.

use libfuzzer_sys::fuzz_target;
use whohas_core::wire::{EthernetFrame, EthernetRepr, PrettyFrame};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = EthernetFrame::new_checked(data) {
        if let Ok(repr) = EthernetRepr::parse(&frame) {
            let mut out = [0u8; 14];
            repr.emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
            assert_eq!(&out[..], &data[..14]);
        }
    }
    let _ = core::fmt::write(&mut Sink, format_args!("{}", PrettyFrame(data)));
});

struct Sink;

impl core::fmt::Write for Sink {
    fn write_str(&mut self, _: &str) -> core::fmt::Result {
        Ok(())
    }
}
