#![no_main]
//! The node's frame handler: any sequence of frames, interleaved with the
//! application's sends and resolutions, never panics, and every frame is
//! accounted for in the counters.
//!
//! Input: repeated `[len: u8][frame: len bytes]`; a zero length is a tick
//! of the clock plus a send to "VM1".

use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;
use whohas_core::device::{LinkDevice, Segment};
use whohas_core::node::Node;
use whohas_core::runtime::from_fn;
use whohas_core::station::{Config, Resources};
use whohas_core::time::{Duration, Instant};
use whohas_core::wire::{EthernetAddress, Name};

fuzz_target!(|data: &[u8]| {
    let segment: Segment<2, 4> = Segment::new();
    let me = EthernetAddress([2, 0, 0, 0, 0, 2]);
    let mut resources = Resources::<2, 2, 2, 2, 256>::new();
    let mut node: Node<_> =
        Node::new(segment.attach(me).unwrap(), Name::new(b"VM2").unwrap(), Config::default(), &mut resources);
    node.add_ipv4_address(Ipv4Addr::new(198, 18, 0, 2)).unwrap();
    let mut peer = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 1])).unwrap();
    let mut now = Instant::ZERO;
    let mut sent = 0u64;
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        if len == 0 {
            now += Duration::from_millis(300);
            let _ = node.at(now).send(&Name::new(b"VM1").unwrap(), b"hi");
            let _ = node.at(now).resolve_ipv4(Ipv4Addr::new(198, 18, 0, 1));
        } else if len >= 14 && peer.transmit(frame).is_ok() {
            sent += 1;
        }
        node.poll(now, &mut from_fn(|_, _| {})).unwrap();
        let mut sink = [0u8; 1514];
        while peer.receive(&mut sink).is_ok() {}
    }
    let s = node.stats();
    assert_eq!(s.link.rx_frames, sent);
    // Every frame the node received is counted exactly once by what
    // became of it (no service is hosted here).
    assert_eq!(s.rx_accounted(), s.link.rx_frames);
});
