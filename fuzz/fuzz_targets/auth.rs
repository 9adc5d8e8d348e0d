#![no_main]
//! Keyed mode's receive path: any sequence of frames into an `AuthDevice`
//! never panics, and nothing the fuzzer builds without the key gets
//! through (it cannot compute a tag). Frames the device itself signed do
//! get through, once. Input: frames separated by their 2-byte lengths.

use std::collections::VecDeque;

use libfuzzer_sys::fuzz_target;
use whohas_core::auth::{AuthDevice, Key};
use whohas_core::device::{Capabilities, LinkDevice};
use whohas_core::nb;
use whohas_core::wire::EthernetAddress;

struct Queue(VecDeque<Vec<u8>>, Vec<Vec<u8>>);

impl LinkDevice for Queue {
    type Error = ();
    fn mac_address(&self) -> EthernetAddress {
        EthernetAddress([2, 0, 0, 0, 0, 2])
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, ()> {
        let frame = self.0.pop_front().ok_or(nb::Error::WouldBlock)?;
        let n = frame.len().min(buffer.len());
        buffer[..n].copy_from_slice(&frame[..n]);
        Ok(frame.len())
    }
    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), ()> {
        self.1.push(frame.to_vec());
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut frames = VecDeque::new();
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        frames.push_back(rest[2..2 + len].to_vec());
        rest = &rest[2 + len..];
    }
    let key = Key([0x42; 32]);
    let mut sender: AuthDevice<Queue, 4> = AuthDevice::new(Queue(VecDeque::new(), Vec::new()), &key, 1);
    let mut receiver: AuthDevice<Queue, 4> = AuthDevice::new(Queue(frames.clone(), Vec::new()), &key, 2);
    let mut buffer = [0u8; 1514];
    let mut passed = 0;
    loop {
        match receiver.receive(&mut buffer) {
            Ok(_) => passed += 1,
            Err(nb::Error::WouldBlock) if receiver.inner().0.is_empty() => break,
            Err(_) => {}
        }
    }
    // Only frames of other ethertypes (or too short to have one) pass.
    assert_eq!(receiver.stats().rx_verified, 0, "a frame without the key's tag got through");
    assert!(passed <= frames.len());
    // The same bytes signed by a keyed sender get through once at most
    // (name-ARP replies answer no request of the receiver: stale); every
    // second copy is refused.
    for frame in frames.iter().filter(|f| f.len() >= 14 && f.len() <= 1482) {
        let _ = sender.transmit(frame);
    }
    let signed = std::mem::take(&mut sender.inner_mut().1);
    let protected = sender.stats().tx_signed;
    let before = *receiver.stats();
    receiver.inner_mut().0.extend(signed.iter().cloned().chain(signed.iter().cloned()));
    while !receiver.inner().0.is_empty() {
        let _ = receiver.receive(&mut buffer);
    }
    let after = *receiver.stats();
    assert!(after.rx_verified <= protected);
    assert!((after.rx_replays + after.rx_stale_replies) - (before.rx_replays + before.rx_stale_replies) >= protected);
});
