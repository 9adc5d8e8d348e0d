//! The seed conversation between VM1 and VM2, on an in-memory segment.
//!
//! VM1 resolves VM2 by name and sends it a greeting; VM2's handler prints it
//! and answers "Nice to meet you!" right away, through the context it is
//! handed with the event; then VM1 sends a second message using the cached
//! MAC address: no second name-ARP request crosses the wire. A monitor port
//! on the segment prints every frame as it goes by.
//!
//! Run: `cargo run --example demo`, or `cargo run --example demo -- --pcap
//! demo.pcap` to also record VM1's side of the conversation for tcpdump,
//! tshark or Wireshark.

use std::path::PathBuf;

use clap::Parser;
use whohas::cli::output::{Failure, Who, text};
use whohas::device::{LinkDevice, Segment, SegmentPort};
use whohas::host::SystemClock;
use whohas::node::Node;
use whohas::pcap::{PcapFileWriter, PcapTee};
use whohas::runtime::from_fn;
use whohas::station::Event;
use whohas::wire::{EtherType, EthernetFrame, PrettyFrame};
use whohas::{Config, EthernetAddress, Name, Resources};

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

/// The two stations (VM1 on any device: its port, or the port recorded to
/// a file) and a monitor port that sees every frame.
struct Demo<'a, D: LinkDevice> {
    vm1: Node<'a, D>,
    vm2: Node<'a, Port<'a>>,
    monitor: Port<'a>,
    clock: SystemClock,
    frames: usize,
    requests: usize,
}

impl<D: LinkDevice<Error: std::error::Error + 'static>> Demo<'_, D> {
    /// Polls both stations until the segment is quiet, printing frames and events.
    fn settle(&mut self) -> Result<(), Failure> {
        loop {
            self.show_wire();
            let now = self.clock.read();
            let mut events = 0;
            self.vm2.poll(
                now,
                &mut from_fn(|ctx, event| {
                    events += 1;
                    match event {
                        Event::Data { from, payload, .. } => {
                            println!("[VM2] received from {from}: {}", text(payload));
                            println!("[VM2] -> {from}: {}", text(ANSWER));
                            // Answered from inside the handler, through its context.
                            if let Err(err) = ctx.send_to_address(from, ANSWER) {
                                eprintln!("[VM2] cannot answer: {err}");
                            }
                        }
                        Event::Answered { requester } => println!("[VM2] that's me: answering {requester}"),
                        other => println!("[VM2] {other:?}"),
                    }
                }),
            )?;
            self.show_wire();
            self.vm1.poll(
                now,
                &mut from_fn(|_, event| {
                    events += 1;
                    match event {
                        Event::Resolved { name, hardware_addr, .. } => {
                            println!("[VM1] {name} is at {hardware_addr} (cached)")
                        }
                        Event::Data { from, from_name, payload } => {
                            println!("[VM1] received from {}: {}", Who(from_name.as_ref(), from), text(payload))
                        }
                        other => println!("[VM1] {other:?}"),
                    }
                }),
            )?;
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

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let outcome = (|| {
        let segment: Segment<3, 16> = Segment::new();
        let vm1_port = segment.attach(EthernetAddress([0x02, 0, 0, 0, 0, 0x01]))?;
        match &args.pcap {
            None => {
                run(&segment, vm1_port)?;
            }
            Some(path) => {
                let vm1 = run(&segment, PcapTee::new(vm1_port, PcapFileWriter::create(path)?))?;
                let (_, writer) = vm1.into_parts()?;
                println!("{} frames written to {}", writer.frames(), path.display());
            }
        }
        Ok(())
    })();
    outcome.map_or_else(|failure: Failure| failure.report("demo"), |()| std::process::ExitCode::SUCCESS)
}

/// Plays the conversation with VM1 on `vm1_port`; gives VM1's device back.
fn run<D: LinkDevice<Error: std::error::Error + 'static>>(segment: &Segment<3, 16>, vm1_port: D) -> Result<D, Failure> {
    let vm1_mac = vm1_port.mac_address();
    let vm2_mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
    let vm2_name = Name::try_from("VM2")?;
    // Each node's storage, sized here: the defaults.
    let (mut vm1_storage, mut vm2_storage) = (Resources::<8>::new(), Resources::<8>::new());
    let mut demo = Demo {
        vm1: Node::new(vm1_port, Name::try_from("VM1")?, Config::default(), &mut vm1_storage),
        vm2: Node::new(segment.attach(vm2_mac)?, vm2_name.clone(), Config::default(), &mut vm2_storage),
        monitor: segment.attach(EthernetAddress([0x02, 0, 0, 0, 0, 0xee]))?,
        clock: SystemClock::default(),
        frames: 0,
        requests: 0,
    };
    println!("VM1 is {vm1_mac}, VM2 is {vm2_mac}, one Ethernet segment between them.\n");

    println!("[VM1] who has VM2?");
    println!("[VM1] -> VM2: {}", text(FIRST));
    demo.vm1.at(demo.clock.read()).send(&vm2_name, FIRST)?;
    demo.settle()?;

    let cached = demo.vm1.at(demo.clock.read()).lookup(&vm2_name).ok_or_else(|| Failure::error("VM2 is not cached"))?;
    println!("\n[VM1] VM2 is cached at {cached}: no request this time");
    println!("[VM1] -> VM2: {}", text(SECOND));
    demo.vm1.at(demo.clock.read()).send(&vm2_name, SECOND)?;
    demo.settle()?;

    println!("\n{} frames crossed the segment, {} of them a name-ARP request.", demo.frames, demo.requests);
    Ok(demo.vm1.into_device())
}
