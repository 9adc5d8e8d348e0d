//! Throughput of the protocol core: frames per second through the node's
//! dispatch for each kind of frame, and the codecs alone.
//!
//! `cargo bench -p whohas-core --bench core`

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use whohas_core::device::{Capabilities, LinkDevice};
use whohas_core::node::Node;
use whohas_core::runtime::from_fn;
use whohas_core::station::{Config, Event, Resources};
use whohas_core::time::Instant;
use whohas_core::wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, Name, NameArpPacket,
    NameArpRepr,
};

const ME: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const PEER: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
/// Frames per `poll` (the node's receive budget).
const BATCH: u64 = 64;

/// A device that receives the same frame forever and discards what is sent.
struct Repeat {
    frame: Vec<u8>,
    sent: u64,
}

impl LinkDevice for Repeat {
    type Error = ();
    fn mac_address(&self) -> EthernetAddress {
        ME
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, ()> {
        buffer[..self.frame.len()].copy_from_slice(&self.frame);
        Ok(self.frame.len())
    }
    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), ()> {
        self.sent += black_box(frame.len() as u64);
        Ok(())
    }
}

fn frame(dst: EthernetAddress, ethertype: EtherType, body: &[u8]) -> Vec<u8> {
    let mut frame = vec![0u8; 14 + body.len()];
    EthernetRepr { src_addr: PEER, dst_addr: dst, ethertype }.emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    frame[14..].copy_from_slice(body);
    frame.resize(frame.len().max(60), 0);
    frame
}

fn name_arp(repr: &NameArpRepr) -> Vec<u8> {
    let mut body = vec![0u8; repr.buffer_len()];
    repr.emit(&mut NameArpPacket::new_unchecked(&mut body[..]));
    body
}

fn node_dispatch(c: &mut Criterion) {
    let vm2 = Name::try_from("VM2").unwrap();
    let cases = [
        (
            "name-ARP request for us (answered)",
            frame(
                EthernetAddress::BROADCAST,
                EtherType::NAME_ARP,
                &name_arp(&NameArpRepr::Request { name: vm2.clone() }),
            ),
        ),
        (
            "name-ARP request for another name",
            frame(
                EthernetAddress::BROADCAST,
                EtherType::NAME_ARP,
                &name_arp(&NameArpRepr::Request { name: Name::try_from("VM9").unwrap() }),
            ),
        ),
        (
            "name-ARP reply (unsolicited)",
            frame(
                ME,
                EtherType::NAME_ARP,
                &name_arp(&NameArpRepr::Reply { name: Name::try_from("VM1").unwrap(), hardware_addr: PEER }),
            ),
        ),
        (
            "data frame (delivered)",
            frame(ME, EtherType::DATA, b"Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!"),
        ),
        ("foreign frame (IPv4)", frame(ME, EtherType::IPV4, &[0x45; 46])),
    ];
    let mut group = c.benchmark_group("node dispatch");
    group.throughput(Throughput::Elements(BATCH));
    for (label, frame) in cases {
        let mut resources = Resources::<8>::new();
        let mut node: Node<Repeat> =
            Node::new(Repeat { frame, sent: 0 }, vm2.clone(), Config::default(), &mut resources);
        node.add_ipv4_address(Ipv4Addr::new(198, 18, 0, 2)).unwrap();
        let mut events = 0u64;
        let mut handler = from_fn(|_, event| {
            if let Event::Data { payload, .. } = event {
                events += black_box(payload.len() as u64);
            }
        });
        group.bench_function(label, |b| b.iter(|| node.poll(Instant::from_secs(1), &mut handler)));
        black_box(events);
    }
    group.finish();
}

fn codecs(c: &mut Criterion) {
    let mut group = c.benchmark_group("codecs");
    group.throughput(Throughput::Elements(1));
    let request = NameArpRepr::Request { name: Name::try_from("VM2").unwrap() };
    let body = name_arp(&request);
    group.bench_function("name-ARP parse", |b| {
        b.iter(|| NameArpRepr::parse(&NameArpPacket::new_unchecked(black_box(&body[..]))))
    });
    let mut out = [0u8; 64];
    group.bench_function("name-ARP emit", |b| {
        b.iter(|| black_box(&request).emit(&mut NameArpPacket::new_unchecked(&mut out[..])))
    });
    let arp = ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: PEER,
        source_protocol_addr: Ipv4Addr::new(198, 18, 0, 1),
        target_hardware_addr: EthernetAddress::UNSPECIFIED,
        target_protocol_addr: Ipv4Addr::new(198, 18, 0, 2),
    };
    let mut arp_bytes = [0u8; 28];
    arp.emit(&mut ArpPacket::new_unchecked(&mut arp_bytes[..]));
    group.bench_function("ARP parse", |b| {
        b.iter(|| ArpRepr::parse(&ArpPacket::new_unchecked(black_box(&arp_bytes[..]))))
    });
    group.bench_function("ARP emit", |b| {
        b.iter(|| black_box(&arp).emit(&mut ArpPacket::new_unchecked(&mut arp_bytes[..])))
    });
    let eth = frame(ME, EtherType::DATA, b"hello");
    group.bench_function("Ethernet parse", |b| {
        b.iter(|| EthernetRepr::parse(&EthernetFrame::new_unchecked(black_box(&eth[..]))))
    });
    group.finish();
}

/// A device that hands out the frames loaded into it, then nothing.
#[cfg(feature = "auth")]
struct Loaded {
    mac: EthernetAddress,
    frames: std::collections::VecDeque<Vec<u8>>,
    /// Keep what is sent (a sender's device, or a handshake), or only count it.
    keep: bool,
    kept: Vec<Vec<u8>>,
    sent: u64,
}

#[cfg(feature = "auth")]
impl Loaded {
    fn new(mac: EthernetAddress, keep: bool) -> Loaded {
        Loaded { mac, frames: Default::default(), keep, kept: Vec::new(), sent: 0 }
    }
}

#[cfg(feature = "auth")]
impl LinkDevice for Loaded {
    type Error = ();
    fn mac_address(&self) -> EthernetAddress {
        self.mac
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, ()> {
        let frame = self.frames.pop_front().ok_or(nb::Error::WouldBlock)?;
        buffer[..frame.len()].copy_from_slice(&frame);
        Ok(frame.len())
    }
    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), ()> {
        if self.keep {
            self.kept.push(frame.to_vec());
        }
        self.sent += black_box(frame.len() as u64);
        Ok(())
    }
}

/// Admits `sender` at `receiver` by the handshake: its first frame is
/// refused and challenged, and it answers.
#[cfg(feature = "auth")]
fn admit(sender: &mut whohas_core::auth::AuthDevice<Loaded, 1>, receiver: &mut whohas_core::auth::AuthDevice<Loaded>) {
    let mut buffer = [0u8; 1514];
    sender.transmit(&frame(ME, EtherType::DATA, b"hello")).unwrap();
    receiver.inner_mut().keep = true;
    receiver.inner_mut().frames.extend(sender.inner_mut().kept.drain(..));
    let _ = receiver.receive(&mut buffer);
    sender.inner_mut().frames.extend(receiver.inner_mut().kept.drain(..));
    let _ = sender.receive(&mut buffer);
    receiver.inner_mut().frames.extend(sender.inner_mut().kept.drain(..));
    let _ = receiver.receive(&mut buffer);
    receiver.inner_mut().keep = false;
    receiver.inner_mut().kept.clear();
    assert_eq!(receiver.stats().admissions, 1);
}

/// The same frames as `node dispatch`, each signed by a keyed sender with
/// a fresh counter (outside the measurement), through a keyed node that
/// admitted the sender: the cost of checking each tag and replay window,
/// and of signing answers.
#[cfg(feature = "auth")]
fn keyed_dispatch(c: &mut Criterion) {
    use criterion::BatchSize;
    use whohas_core::auth::{AuthDevice, Key};
    let key = Key([0x5a; 32]);
    let vm2 = Name::try_from("VM2").unwrap();
    let cases = [
        (
            "keyed name-ARP request for us (answered)",
            frame(
                EthernetAddress::BROADCAST,
                EtherType::NAME_ARP,
                &name_arp(&NameArpRepr::Request { name: vm2.clone() }),
            ),
        ),
        (
            "keyed data frame (delivered)",
            frame(ME, EtherType::DATA, b"Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!"),
        ),
    ];
    let mut group = c.benchmark_group("node dispatch");
    group.throughput(Throughput::Elements(BATCH));
    for (label, frame) in cases {
        let mut sender: AuthDevice<Loaded, 1> = AuthDevice::new(Loaded::new(PEER, true), &key, 1);
        let mut device: AuthDevice<Loaded> = AuthDevice::new(Loaded::new(ME, false), &key, 2);
        admit(&mut sender, &mut device);
        let mut resources = Resources::<8>::new();
        let mut node: Node<AuthDevice<Loaded>> = Node::new(device, vm2.clone(), Config::default(), &mut resources);
        let mut handler = from_fn(|_, event| {
            if let Event::Data { payload, .. } = event {
                black_box(payload.len());
            }
        });
        let collect = |sender: &mut AuthDevice<Loaded, 1>| {
            let mut signed = std::collections::VecDeque::new();
            for _ in 0..BATCH {
                sender.transmit(&frame).unwrap();
                signed.push_back(sender.inner_mut().kept.pop().unwrap_or_default());
            }
            signed
        };
        group.bench_function(label, |b| {
            b.iter_batched(
                || collect(&mut sender),
                |signed| {
                    node.device_mut().inner_mut().frames = signed;
                    node.poll(Instant::from_secs(1), &mut handler)
                },
                BatchSize::SmallInput,
            )
        });
        let stats = node.device().stats();
        // The one frame refused is admit()'s first, which the handshake answers.
        assert_eq!((stats.rx_replays, stats.rx_auth_failures, stats.rx_unadmitted), (0, 0, 1), "{stats:?}");
    }
    group.finish();
}

#[cfg(feature = "auth")]
criterion_group!(benches, node_dispatch, keyed_dispatch, codecs);
#[cfg(not(feature = "auth"))]
criterion_group!(benches, node_dispatch, codecs);
criterion_main!(benches);
