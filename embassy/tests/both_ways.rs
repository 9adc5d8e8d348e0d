//! The two adapters composed on an in-memory segment: a whohas node on
//! `EmbassyDevice<LinkDriver<port>>` (a whohas device made an embassy
//! driver, made a whohas device again) has the seed conversation with a
//! node on a plain port, every frame crossing both adapters; and what the
//! driver cannot carry (too long for its buffer, refused by a full device)
//! is counted, not lost silently.

use std::cell::Cell;
use std::task::{Context, Waker};

use embassy_net_driver::{Driver, RxToken, TxToken};
use whohas_core::device::Segment;
use whohas_core::runtime::from_fn;
use whohas_core::time::Instant;
use whohas_core::wire::{EthernetAddress, Name};
use whohas_core::{Config, Event, LinkDevice, Node, Resources};
use whohas_embassy::{EmbassyDevice, LinkDriver};

const VM1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const VM2: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

fn name(text: &str) -> Name {
    Name::try_from(text).unwrap()
}

#[test]
fn a_node_over_both_adapters_has_the_seed_conversation() {
    let segment: Segment<2, 8> = Segment::new();
    let woken = Cell::new(0);
    let readiness = |_: &mut Context<'_>| woken.set(woken.get() + 1);
    let wrapped = EmbassyDevice::new(LinkDriver::<_, _>::new(segment.attach(VM1).unwrap(), readiness)).unwrap();
    assert_eq!(wrapped.mac_address(), VM1);
    assert_eq!(wrapped.capabilities().mtu, 1500);
    let (mut vm1_storage, mut vm2_storage) = (Resources::<8>::new(), Resources::<8>::new());
    let mut vm1: Node<_> = Node::new(wrapped, name("VM1"), Config::default(), &mut vm1_storage);
    let mut vm2: Node<_> = Node::new(segment.attach(VM2).unwrap(), name("VM2"), Config::default(), &mut vm2_storage);

    let now = Instant::ZERO;
    vm1.at(now).send(&name("VM2"), b"Hi Hello").unwrap();
    let mut vm2_heard = Vec::new();
    let mut vm1_heard = Vec::new();
    for _ in 0..4 {
        vm2.poll(
            now,
            &mut from_fn(|ctx, event| {
                if let Event::Data { from, payload, .. } = event {
                    vm2_heard.push((from, payload.to_vec()));
                    ctx.send_to_address(from, b"Nice to meet you!\n").unwrap();
                }
            }),
        )
        .unwrap();
        vm1.poll(
            now,
            &mut from_fn(|_, event| {
                if let Event::Data { payload, .. } = event {
                    vm1_heard.push(payload.to_vec());
                }
            }),
        )
        .unwrap();
    }
    assert_eq!(vm2_heard, vec![(VM1, b"Hi Hello".to_vec())]);
    assert_eq!(vm1_heard, vec![b"Nice to meet you!\n".to_vec()]);
    assert_eq!(vm1.at(now).lookup(&name("VM2")), Some(VM2));
    // Each time the driver had nothing, it asked to be woken.
    assert!(woken.get() >= 4, "{}", woken.get());
}

#[test]
fn the_driver_counts_frames_too_long_for_it_and_frames_the_device_refuses() {
    let segment: Segment<2, 4> = Segment::new();
    let mut sender = segment.attach(VM2).unwrap();
    // A driver whose buffers take 100-byte frames.
    let mut driver = LinkDriver::<_, _, 100>::new(segment.attach(VM1).unwrap(), |_: &mut Context<'_>| {});
    assert_eq!(driver.capabilities().max_transmission_unit, 100);
    let mut frame = [0u8; 200];
    frame[..6].copy_from_slice(&VM1.0);
    frame[6..12].copy_from_slice(&VM2.0);
    sender.transmit(&frame).unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(driver.receive(&mut cx).is_none(), "a 200-byte frame does not fit a 100-byte buffer");
    assert_eq!(driver.stats().rx_oversize, 1);
    sender.transmit(&frame[..80]).unwrap();
    let (rx, _) = driver.receive(&mut cx).expect("an 80-byte frame fits");
    assert_eq!(rx.consume(|got| got.len()), 80);

    let tx = driver.transmit(&mut cx).unwrap();
    tx.consume(60, |out| out.fill(0xff));
    assert_eq!(driver.stats().tx_frames, 1);

    // A device with no room: what embassy sends is counted as dropped.
    let mut full = LinkDriver::<_, _>::new(Full, |_: &mut Context<'_>| {});
    full.transmit(&mut cx).unwrap().consume(60, |out| out.fill(0xff));
    assert_eq!((full.stats().tx_frames, full.stats().tx_dropped), (0, 1), "{:?}", full.stats());
}

/// A device whose transmit queue is always full, with nothing to receive.
struct Full;

impl LinkDevice for Full {
    type Error = ();

    fn mac_address(&self) -> EthernetAddress {
        VM1
    }

    fn capabilities(&self) -> whohas_core::Capabilities {
        whohas_core::Capabilities::default()
    }

    fn receive(&mut self, _: &mut [u8]) -> whohas_core::nb::Result<usize, ()> {
        Err(whohas_core::nb::Error::WouldBlock)
    }

    fn transmit(&mut self, _: &[u8]) -> whohas_core::nb::Result<(), ()> {
        Err(whohas_core::nb::Error::WouldBlock)
    }
}
