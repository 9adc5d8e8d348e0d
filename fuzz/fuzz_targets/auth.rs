#![no_main]
//! Keyed mode's receive path: any sequence of frames into an `AuthDevice`
//! never panics, and nothing the fuzzer builds without the key gets
//! through (it cannot compute a tag) or admits anyone. Frames the device
//! itself signed get through once at most, whatever source addresses they
//! claim (an unadmitted one is refused, never trusted), and a second copy
//! of any of them never does. Input: frames separated by their 2-byte
//! lengths.

use std::collections::VecDeque;

use libfuzzer_sys::fuzz_target;
use whohas_core::auth::{AuthDevice, Key};
use whohas_core::device::{Capabilities, LinkDevice};
use whohas_core::nb;
use whohas_core::wire::EthernetAddress;

struct Queue {
    mac: EthernetAddress,
    incoming: VecDeque<Vec<u8>>,
    sent: Vec<Vec<u8>>,
}

impl LinkDevice for Queue {
    type Error = ();
    fn mac_address(&self) -> EthernetAddress {
        self.mac
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, ()> {
        let frame = self.incoming.pop_front().ok_or(nb::Error::WouldBlock)?;
        let n = frame.len().min(buffer.len());
        buffer[..n].copy_from_slice(&frame[..n]);
        Ok(frame.len())
    }
    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), ()> {
        self.sent.push(frame.to_vec());
        Ok(())
    }
}

const SENDER: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const RECEIVER: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

/// Carries every frame `from` sent to `to`.
fn carry(from: &mut AuthDevice<Queue, 4>, to: &mut AuthDevice<Queue, 4>) {
    let sent = std::mem::take(&mut from.inner_mut().sent);
    to.inner_mut().incoming.extend(sent);
}

fn drain(device: &mut AuthDevice<Queue, 4>) -> u64 {
    let mut buffer = [0u8; 1514];
    let mut passed = 0;
    while !device.inner().incoming.is_empty() {
        if device.receive(&mut buffer).is_ok() {
            passed += 1;
        }
    }
    passed
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
    let queue = |mac| Queue { mac, incoming: VecDeque::new(), sent: Vec::new() };
    let mut sender: AuthDevice<Queue, 4> = AuthDevice::new(queue(SENDER), &key, 1);
    let mut receiver: AuthDevice<Queue, 4> = AuthDevice::new(queue(RECEIVER), &key, 2);
    receiver.inner_mut().incoming.extend(frames.iter().cloned());
    let passed = drain(&mut receiver);
    // Only frames of other ethertypes (or too short to have one) pass.
    assert_eq!(receiver.stats().rx_verified, 0, "a frame without the key's tag got through");
    assert_eq!(receiver.stats().admissions, 0, "a frame without the key's tag admitted a sender");
    assert!(passed <= frames.len() as u64);

    // The sender is admitted by a handshake: its first frame is refused
    // and challenged, and it answers.
    let mut probe = [0u8; 60];
    probe[..6].copy_from_slice(&RECEIVER.0);
    probe[6..12].copy_from_slice(&SENDER.0);
    probe[12..14].copy_from_slice(&[0xff, 0xfd]);
    sender.transmit(&probe).unwrap();
    carry(&mut sender, &mut receiver);
    drain(&mut receiver);
    carry(&mut receiver, &mut sender);
    drain(&mut sender);
    carry(&mut sender, &mut receiver);
    drain(&mut receiver);
    assert_eq!(receiver.stats().admissions, 1);
    receiver.inner_mut().sent.clear();

    // The same bytes signed by the sender, twice over: the first copies get
    // through once at most, the second copies never.
    for frame in frames.iter().filter(|f| f.len() >= 14 && f.len() <= 1482) {
        let _ = sender.transmit(frame);
    }
    let signed = std::mem::take(&mut sender.inner_mut().sent);
    let protected = sender.stats().tx_signed - 2;
    let before = receiver.stats().rx_verified;
    receiver.inner_mut().incoming.extend(signed.iter().cloned());
    drain(&mut receiver);
    let once = receiver.stats().rx_verified;
    assert!(once - before <= protected);
    receiver.inner_mut().incoming.extend(signed.iter().cloned());
    drain(&mut receiver);
    assert_eq!(receiver.stats().rx_verified, once, "a second copy got through");
});
