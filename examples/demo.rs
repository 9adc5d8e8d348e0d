//! The seed conversation between VM1 and VM2, on an in-memory segment.
//!
//! VM1 resolves VM2 by name, sends it a greeting, VM2 prints it and answers
//! "Nice to meet you!", then VM1 sends a second message using the cached MAC
//! address: no second name-ARP request crosses the wire. A monitor port on
//! the segment prints every frame as it goes by.
//!
//! Run: `cargo run --example demo`, or `cargo run --example demo -- --pcap
//! demo.pcap` to also record the conversation (VM1's side: everything it
//! sends and receives) for tcpdump, tshark or Wireshark.

use std::path::PathBuf;

use clap::Parser;
use whohas::device::{LinkDevice, Segment, SegmentPort};
use whohas::host::Clock;
use whohas::node::{Event, Node};
use whohas::pcap::{PcapFileWriter, PcapTee};
use whohas::wire::{EtherType, EthernetFrame, PrettyFrame};
use whohas::{Config, EthernetAddress, Name};

const FIRST: &[u8] = b"Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!";
const SECOND: &[u8] = b"I'm Glad to meet you again.";
const ANSWER: &[u8] = b"Nice to meet you!\n";

type Port<'a> = SegmentPort<'a, 3, 16>;

/// The seed conversation between VM1 and VM2 on an in-memory segment.
#[derive(Parser)]
struct Args {
    /// Also write VM1's side of the conversation to this capture file.
    #[arg(long)]
    pcap: Option<PathBuf>,
}

/// VM1 on any device (its segment port, or the port recorded to a file).
struct Demo<'a, D: LinkDevice> {
    vm1: Node<D>,
    vm2: Node<Port<'a>>,
    monitor: Port<'a>,
    clock: Clock,
    frames: usize,
    requests: usize,
}

impl<D: LinkDevice<Error: std::error::Error + 'static>> Demo<'_, D> {
    /// Polls both stations until the segment is quiet, printing frames and events.
    fn settle(&mut self) -> Result<(), Box<dyn std::error::Error>> {
        loop {
            self.show_wire();
            let now = self.clock.now();
            let mut answer_to = None;
            let mut events = 0;
            self.vm2.poll(now, |event| {
                events += 1;
                match event {
                    Event::Data { from, payload, .. } => {
                        print!("[VM2] received from {from}: {}", String::from_utf8_lossy(payload));
                        if !payload.ends_with(b"\n") {
                            println!();
                        }
                        answer_to = Some(from);
                    }
                    Event::Answered { requester } => println!("[VM2] that's me: answering {requester}"),
                    other => println!("[VM2] {other:?}"),
                }
            })?;
            if let Some(to) = answer_to {
                println!("[VM2] -> {to}: {}", String::from_utf8_lossy(ANSWER).trim_end());
                nb::block!(self.vm2.send_to_address(to, ANSWER))?;
            }
            self.show_wire();
            self.vm1.poll(now, |event| {
                events += 1;
                match event {
                    Event::Resolved { name, hardware_addr } => println!("[VM1] {name} is at {hardware_addr} (cached)"),
                    Event::Data { from_name, payload, .. } => {
                        let from = from_name.map_or_else(|| "?".to_string(), |name| name.to_string());
                        println!("[VM1] received from {from}: {}", String::from_utf8_lossy(payload).trim_end());
                    }
                    other => println!("[VM1] {other:?}"),
                }
            })?;
            if events == 0 && self.monitor.pending() == 0 {
                return Ok(());
            }
        }
    }

    fn show_wire(&mut self) {
        let mut buffer = [0u8; 1514];
        while let Ok(len) = self.monitor.receive(&mut buffer) {
            let frame = &buffer[..len];
            self.frames += 1;
            if EthernetFrame::new_checked(frame).map(|f| f.ethertype()) == Ok(EtherType::NAME_ARP)
                && frame[..6] == [0xff; 6]
            {
                self.requests += 1;
            }
            println!("      wire #{}: {} ({len} bytes)", self.frames, PrettyFrame(frame));
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let segment: Segment<3, 16> = Segment::new();
    let vm1_mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
    let vm1_port = segment.attach(vm1_mac)?;
    match &args.pcap {
        None => drop(run(&segment, vm1_port)?),
        Some(path) => {
            let vm1 = run(&segment, PcapTee::new(vm1_port, PcapFileWriter::create(path)?))?;
            let (_, writer) = vm1.into_device().into_parts()?;
            println!("{} frames written to {}", writer.frames(), path.display());
        }
    }
    Ok(())
}

/// Plays the conversation with VM1 on `vm1_port`; gives VM1 back.
fn run<D: LinkDevice<Error: std::error::Error + 'static>>(
    segment: &Segment<3, 16>,
    vm1_port: D,
) -> Result<Node<D>, Box<dyn std::error::Error>> {
    let vm1_mac = vm1_port.mac_address();
    let vm2_mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
    let vm2_name = Name::try_from("VM2")?;
    let mut demo = Demo {
        vm1: Node::new(vm1_port, Name::try_from("VM1")?, Config::default()),
        vm2: Node::new(segment.attach(vm2_mac)?, vm2_name.clone(), Config::default()),
        monitor: segment.attach(EthernetAddress([0x02, 0, 0, 0, 0, 0xee]))?,
        clock: Clock::new(),
        frames: 0,
        requests: 0,
    };
    println!("VM1 is {vm1_mac}, VM2 is {vm2_mac}, one Ethernet segment between them.\n");

    println!("[VM1] who has VM2?");
    println!("[VM1] -> VM2: {}", String::from_utf8_lossy(FIRST));
    demo.vm1.send(demo.clock.now(), &vm2_name, FIRST)?;
    demo.settle()?;

    let cached = demo.vm1.lookup(vm2_name.as_bytes(), demo.clock.now()).ok_or("VM2 is not cached")?;
    println!("\n[VM1] VM2 is cached at {cached}: no request this time");
    println!("[VM1] -> VM2: {}", String::from_utf8_lossy(SECOND));
    demo.vm1.send(demo.clock.now(), &vm2_name, SECOND)?;
    demo.settle()?;

    println!("\n{} frames crossed the segment, {} of them a name-ARP request.", demo.frames, demo.requests);
    Ok(demo.vm1)
}
