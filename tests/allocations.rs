//! Proof that the frame paths allocate nothing: a counting global allocator
//! watches the node handle every kind of frame, and a replay run over a
//! capture, after warm-up.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::Ipv4Addr;

use whohas::device::{LinkDevice, Segment};
use whohas::node::Node;
use whohas::pcap::PcapFileWriter;
use whohas::replay::{CaptureClock, ReplayDevice};
use whohas::runtime::{Clock, from_fn};
use whohas::station::{Config, Resources};
use whohas::wire::{ArpOperation, ArpPacket, ArpRepr, NameArpPacket, NameArpRepr};
use whohas::{EthernetAddress, Instant, Name};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// wrapper only counts, in thread-local cells that need no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|count| count.set(count.get() + 1));
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|count| count.set(count.get() + 1));
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by `work` on this thread.
fn allocations(work: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|count| count.set(0));
    COUNTING.with(|on| on.set(true));
    work();
    COUNTING.with(|on| on.set(false));
    ALLOCATIONS.with(Cell::get)
}

const VM1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const VM2: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

fn frames() -> Vec<Vec<u8>> {
    let header = |dst: EthernetAddress, ethertype: u16| {
        let mut frame = dst.0.to_vec();
        frame.extend_from_slice(&VM1.0);
        frame.extend_from_slice(&ethertype.to_be_bytes());
        frame
    };
    let name_arp = |repr: NameArpRepr, dst| {
        let mut frame = header(dst, 0xfffe);
        let start = frame.len();
        frame.resize(start + repr.buffer_len(), 0);
        repr.emit(&mut NameArpPacket::new_unchecked(&mut frame[start..]));
        frame
    };
    let arp = {
        let mut frame = header(EthernetAddress::BROADCAST, 0x0806);
        frame.resize(14 + 28, 0);
        ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: VM1,
            source_protocol_addr: Ipv4Addr::new(198, 18, 0, 1),
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: Ipv4Addr::new(198, 18, 0, 2),
        }
        .emit(&mut ArpPacket::new_unchecked(&mut frame[14..]));
        frame
    };
    let mut data = header(VM2, 0xfffd);
    data.extend_from_slice(b"Hi Hello AnnyeongHaSeYo");
    vec![
        name_arp(NameArpRepr::Request { name: Name::try_from("VM2").unwrap() }, EthernetAddress::BROADCAST),
        name_arp(NameArpRepr::Request { name: Name::try_from("VM7").unwrap() }, EthernetAddress::BROADCAST),
        name_arp(NameArpRepr::Reply { name: Name::try_from("VM1").unwrap(), hardware_addr: VM1 }, VM2),
        data,
        arp,
        header(VM2, 0x0800),
        vec![0xff; 20],
    ]
}

#[test]
fn the_node_allocates_nothing_per_frame() {
    let segment: Segment<2, 16> = Segment::new();
    let mut resources = Resources::<8>::new();
    let mut vm2: Node<_> =
        Node::new(segment.attach(VM2).unwrap(), Name::try_from("VM2").unwrap(), Config::default(), &mut resources);
    vm2.add_ipv4_address(Ipv4Addr::new(198, 18, 0, 2)).unwrap();
    let mut peer = segment.attach(VM1).unwrap();
    let frames = frames();
    let mut buffer = [0u8; 1514];
    let count = allocations(|| {
        for round in 0..2_000u64 {
            for frame in &frames {
                peer.transmit(frame).unwrap();
            }
            let now = Instant::from_millis(round);
            vm2.poll(now, &mut from_fn(|_, _| {})).unwrap();
            vm2.at(now).send(&Name::try_from("VM1").unwrap(), b"Nice to meet you!\n").unwrap();
            let _ = vm2.at(now).resolve_ipv4(Ipv4Addr::new(198, 18, 0, 9));
            while peer.receive(&mut buffer).is_ok() {}
        }
    });
    assert_eq!(count, 0, "allocations in 14 000 frames through the node");
    assert!(vm2.stats().name_arp.replies_sent >= 2_000 && vm2.stats().arp.replies_sent >= 2_000);
}

#[test]
fn replay_allocates_nothing_per_frame() {
    let dir = std::env::temp_dir().join(format!("whohas-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("in.pcap"), dir.join("out.pcap"));
    let mut writer = PcapFileWriter::create(&input).unwrap();
    let frames = frames();
    for i in 0..5_000u64 {
        writer.write(
            std::time::Duration::from_secs(1_700_000_000) + std::time::Duration::from_millis(i),
            &frames[i as usize % frames.len()],
        );
    }
    writer.flush().unwrap();
    drop(writer);

    let mut resources = Resources::<8>::new();
    let mut node: Node<_> = Node::new(
        ReplayDevice::open(&input, &output, VM2).unwrap(),
        Name::try_from("VM2").unwrap(),
        Config::default(),
        &mut resources,
    );
    // The responder's handler: VM2 answers every message from inside it.
    let mut responder = from_fn(|ctx, event| {
        if let whohas::Event::Data { from, .. } = event {
            ctx.send_to_address(from, b"Nice to meet you!\n").unwrap();
        }
    });
    let mut clock = CaptureClock::default();
    // Warm-up: the first frames size the read buffer and libpcap's own.
    for _ in 0..50 {
        let now = clock.now(node.device());
        let next = node.poll(now, &mut responder).unwrap();
        clock.wait(node.device_mut(), next, false).unwrap();
    }
    let count = allocations(|| node.run(&mut clock, &mut responder).unwrap());
    let summary = node.into_device().finish().unwrap();
    assert_eq!(count, 0, "allocations while replaying {} frames", summary.frames_in);
    assert_eq!(summary.frames_in, 5_000);
    assert!(summary.frames_out >= 714, "answers were written: {summary:?}");
    let _ = std::fs::remove_dir_all(dir);
}
