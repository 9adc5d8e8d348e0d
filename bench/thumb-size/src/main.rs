//! A node answering name-ARP for "mcu", receiving data, and greeting "VM1",
//! over a stand-in device: `black_box` keeps the optimiser from assuming
//! anything about the frames, as a real Ethernet MAC driver would.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use panic_halt as _;
use whohas_core::device::{Capabilities, LinkDevice};
use whohas_core::nb;
use whohas_core::node::Node;
use whohas_core::runtime::from_fn;
use whohas_core::station::{Config, Event, Resources};
use whohas_core::time::Instant;
use whohas_core::wire::{EthernetAddress, Name};

struct Mac {
    frame: [u8; 64],
}

impl LinkDevice for Mac {
    type Error = ();

    fn mac_address(&self) -> EthernetAddress {
        EthernetAddress([2, 0, 0, 0, 0, 0x42])
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, ()> {
        let len = black_box(self.frame.len()).min(buffer.len());
        buffer[..len].copy_from_slice(black_box(&self.frame[..len]));
        if black_box(len) == 0 { Err(nb::Error::WouldBlock) } else { Ok(len) }
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), ()> {
        black_box(frame);
        Ok(())
    }
}

#[entry]
fn main() -> ! {
    let mac = Mac { frame: black_box([0; 64]) };
    let name = Name::new(b"mcu").unwrap_or_else(|_| loop {});
    let peer = Name::new(b"VM1").unwrap_or_else(|_| loop {});
    let mut resources = Resources::<8>::new();
    let mut node: Node<Mac> = Node::new(mac, name, Config::default(), &mut resources);
    let mut ticks = 0u64;
    loop {
        ticks = ticks.wrapping_add(1);
        let now = Instant::from_millis(black_box(ticks));
        let _ = node.poll(
            now,
            &mut from_fn(|_, event| {
                if let Event::Data { payload, .. } = event {
                    black_box(payload);
                }
            }),
        );
        let _ = node.at(now).send(&peer, b"hello from the MCU");
    }
}
