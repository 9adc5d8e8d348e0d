#![no_main]
//! The capture decoder (tshark-style summaries and the detailed view) on
//! arbitrary frames never panics. Input: `[len: u8][frame]...`.

use libfuzzer_sys::fuzz_target;
use whohas::decode::{Decoder, detail};
use whohas_hal_pcap::Frame;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new();
    let mut rest = data;
    let mut time = 0;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (bytes, tail) = tail.split_at(len);
        rest = tail;
        time += 1;
        let frame = Frame { timestamp: std::time::Duration::from_micros(time), data: bytes, original_len: bytes.len() };
        let summary = decoder.summarize(&frame);
        let _ = summary.to_string();
        let _ = detail(&frame, &summary);
    }
});
