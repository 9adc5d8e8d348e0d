//! The driver against a model of the LAN9118's registers (the behaviour
//! QEMU's `hw/net/lan9118.c` and the datasheet describe): reset and
//! address, frames in and out word by word, bad frames dropped and
//! counted, bounded waits; and two nodes talking through two modelled
//! chips wired together.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use whohas_core::device::LinkDevice;
use whohas_core::node::Node;
use whohas_core::runtime::from_fn;
use whohas_core::station::{Config, Event, Resources};
use whohas_core::time::Instant;
use whohas_core::wire::{EthernetAddress, Name};
use whohas_hal_lan9118::regs::{Reg, Registers};
use whohas_hal_lan9118::{Error, Lan9118, MAX_DROPPED_PER_CALL, SPIN_LIMIT, Step};

/// A LAN9118 as its registers show it.
struct Model {
    byte_test: u32,
    /// Reads of HW_CFG before a soft reset finishes (`None`: never).
    reset_reads: Option<u32>,
    resetting: Option<u32>,
    /// Whether MAC register accesses ever finish.
    mac_answers: bool,
    mac_regs: [u32; 8],
    mac_cmd: u32,
    mac_data: u32,
    tx_cfg: u32,
    irq_cfg: u32,
    int_en: u32,
    int_sts: u32,
    rx_status: VecDeque<u32>,
    rx_data: VecDeque<u32>,
    tx_words: Vec<u32>,
    sent: Vec<Vec<u8>>,
    tx_status: VecDeque<u32>,
    /// Statuses of sent frames not yet visible (a slow wire).
    hold_tx_status: bool,
    held: VecDeque<u32>,
    reads: u32,
}

impl Model {
    fn new(mac: [u8; 6]) -> Model {
        let mut mac_regs = [0; 8];
        mac_regs[3] = u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]);
        mac_regs[2] = u32::from_le_bytes([mac[4], mac[5], 0, 0]);
        mac_regs[1] = 1 << 18; // promiscuous at reset, as QEMU sets it
        Model {
            byte_test: 0x8765_4321,
            reset_reads: Some(3),
            resetting: None,
            mac_answers: true,
            mac_regs,
            mac_cmd: 0,
            mac_data: 0,
            tx_cfg: 0,
            irq_cfg: 0,
            int_en: 0,
            int_sts: 0,
            rx_status: VecDeque::new(),
            rx_data: VecDeque::new(),
            tx_words: Vec::new(),
            sent: Vec::new(),
            tx_status: VecDeque::new(),
            hold_tx_status: false,
            held: VecDeque::new(),
            reads: 0,
        }
    }

    /// A frame arrives from the wire (its FCS is appended, as the chip
    /// does); `error` sets the error-summary bit.
    fn arrive(&mut self, frame: &[u8], error: bool) {
        let len = frame.len() + 4;
        self.int_sts |= 1 << 3;
        self.rx_status.push_back(((len as u32) << 16) | if error { 1 << 15 } else { 0 });
        let mut bytes = frame.to_vec();
        bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        for chunk in bytes.chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.rx_data.push_back(u32::from_le_bytes(word));
        }
    }

    /// The interrupt pin, as QEMU drives it: active high when configured
    /// push-pull and active high, else active low.
    fn pin(&self) -> bool {
        let asserted = self.irq_cfg & (1 << 8) != 0 && self.int_sts & self.int_en != 0;
        if self.irq_cfg & 0x11 == 0x11 { asserted } else { !asserted }
    }

    fn release_tx_status(&mut self) {
        self.tx_status.extend(self.held.drain(..));
    }

    /// TX data words: command A, command B, then the frame.
    fn tx_word(&mut self, word: u32) {
        self.tx_words.push(word);
        let [a, b, ..] = self.tx_words[..] else { return };
        assert_eq!(a & 0x3000, 0x3000, "one segment per frame: FIRST and LAST");
        let len = (a & 0x7FF) as usize;
        assert_eq!(b & 0x7FF, a & 0x7FF, "command B repeats the length");
        if self.tx_words.len() - 2 < len.div_ceil(4) {
            return;
        }
        let bytes: Vec<u8> = self.tx_words[2..].iter().flat_map(|w| w.to_le_bytes()).take(len).collect();
        self.sent.push(bytes);
        let status = b & 0xFFFF_0000;
        if self.hold_tx_status {
            self.held.push_back(status)
        } else {
            self.tx_status.push_back(status)
        }
        self.tx_words.clear();
    }
}

#[derive(Clone)]
struct Chip(Rc<RefCell<Model>>);

impl Chip {
    fn new(mac: [u8; 6]) -> Chip {
        Chip(Rc::new(RefCell::new(Model::new(mac))))
    }
}

impl Registers for Chip {
    fn read(&mut self, reg: Reg) -> u32 {
        let mut m = self.0.borrow_mut();
        m.reads += 1;
        match reg {
            Reg::ByteTest => m.byte_test,
            Reg::IdRev => 0x0118_0001,
            Reg::HwCfg => match m.resetting {
                Some(0) | None => {
                    m.resetting = None;
                    0
                }
                Some(n) => {
                    m.resetting = Some(n - 1);
                    1
                }
            },
            Reg::PmtCtrl => 1,
            Reg::MacCsrCmd => m.mac_cmd,
            Reg::MacCsrData => m.mac_data,
            Reg::TxCfg => m.tx_cfg,
            Reg::RxFifoInf => (m.rx_status.len() as u32) << 16,
            Reg::TxFifoInf => (m.tx_status.len() as u32) << 16,
            Reg::RxStatus => m.rx_status.pop_front().expect("RX status read with none waiting"),
            Reg::RxData => m.rx_data.pop_front().expect("RX data read past the frame"),
            Reg::TxStatus => m.tx_status.pop_front().expect("TX status read with none waiting"),
            Reg::FreeRun => m.reads,
            Reg::IntSts => m.int_sts,
            other => panic!("read of {other:?}"),
        }
    }

    fn write(&mut self, reg: Reg, value: u32) {
        let mut m = self.0.borrow_mut();
        match reg {
            Reg::HwCfg if value & 1 != 0 => m.resetting = Some(m.reset_reads.unwrap_or(u32::MAX)),
            Reg::RxCfg => {}
            Reg::IrqCfg => m.irq_cfg = value,
            Reg::IntEn => m.int_en = value,
            Reg::IntSts => m.int_sts &= !value,
            Reg::TxCfg => m.tx_cfg = value,
            Reg::MacCsrData => m.mac_data = value,
            Reg::MacCsrCmd => {
                let index = (value & 0xF) as usize;
                if value & (1 << 30) != 0 {
                    m.mac_data = m.mac_regs[index];
                } else {
                    m.mac_regs[index] = m.mac_data;
                }
                m.mac_cmd = if m.mac_answers { value & !(1 << 31) } else { value };
            }
            Reg::TxData => m.tx_word(value),
            other => panic!("write of {other:?}"),
        }
    }
}

const MAC: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

fn frame(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[test]
fn reset_takes_the_chip_s_address_and_turns_promiscuous_mode_off() {
    let chip = Chip::new(MAC);
    let nic = Lan9118::new(chip.clone(), None).unwrap();
    assert_eq!(nic.mac_address(), EthernetAddress(MAC));
    let m = chip.0.borrow();
    assert_eq!(m.mac_regs[1], (1 << 20) | (1 << 3) | (1 << 2), "full duplex, TX and RX on, not promiscuous");
    assert_eq!(m.tx_cfg, 1 << 1, "transmitter on");
}

#[test]
fn a_given_address_is_written_in_the_chip_s_byte_order() {
    let chip = Chip::new([0; 6]);
    let mac = EthernetAddress([0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
    let nic = Lan9118::new(chip.clone(), Some(mac)).unwrap();
    assert_eq!(nic.mac_address(), mac);
    let m = chip.0.borrow();
    assert_eq!((m.mac_regs[3], m.mac_regs[2]), (0xccbb_aa02, 0x0000_eedd));
}

#[test]
fn a_missing_chip_a_wedged_reset_or_no_address_is_an_error_not_a_hang() {
    let absent = Chip::new(MAC);
    absent.0.borrow_mut().byte_test = 0xFFFF_FFFF;
    assert_eq!(Lan9118::new(absent, None).err(), Some(Error::NotFound { byte_test: 0xFFFF_FFFF }));

    let wedged = Chip::new(MAC);
    wedged.0.borrow_mut().reset_reads = None;
    assert_eq!(Lan9118::new(wedged.clone(), None).err(), Some(Error::Timeout(Step::Reset)));
    assert!(wedged.0.borrow().reads <= SPIN_LIMIT + 2, "bounded: {} reads", wedged.0.borrow().reads);

    let deaf = Chip::new(MAC);
    deaf.0.borrow_mut().mac_answers = false;
    assert_eq!(Lan9118::new(deaf, None).err(), Some(Error::Timeout(Step::MacAccess)));

    assert_eq!(Lan9118::new(Chip::new([0; 6]), None).err(), Some(Error::NoAddress));
    assert_eq!(Lan9118::new(Chip::new([0xff; 6]), None).err(), Some(Error::NoAddress));
}

#[test]
fn frames_arrive_whole_without_their_fcs_whatever_their_length() {
    let chip = Chip::new(MAC);
    let mut nic = Lan9118::new(chip.clone(), None).unwrap();
    let mut buffer = [0u8; 1514];
    assert_eq!(nic.receive(&mut buffer), Err(nb::Error::WouldBlock));
    for len in [14, 15, 16, 17, 60, 61, 62, 63, 1513, 1514] {
        let sent = frame(len, len as u8);
        chip.0.borrow_mut().arrive(&sent, false);
        assert_eq!(nic.receive(&mut buffer), Ok(len));
        assert_eq!(&buffer[..len], &sent[..], "{len} bytes");
    }
    assert_eq!(nic.stats().rx_frames, 10);
    assert!(chip.0.borrow().rx_data.is_empty(), "every word read");
}

#[test]
fn bad_frames_are_read_out_counted_and_dropped() {
    let chip = Chip::new(MAC);
    let mut nic = Lan9118::new(chip.clone(), None).unwrap();
    let mut buffer = [0u8; 1514];
    {
        let mut m = chip.0.borrow_mut();
        m.arrive(&frame(100, 1), true);
        m.arrive(&frame(5, 2), false);
        m.arrive(&frame(64, 3), false);
    }
    assert_eq!(nic.receive(&mut buffer), Ok(64), "the good frame after two bad ones");
    assert_eq!(&buffer[..64], &frame(64, 3)[..]);
    assert_eq!((nic.stats().rx_errors, nic.stats().rx_runts), (1, 1));

    // Longer than the buffer: its length, its first bytes, and counted.
    chip.0.borrow_mut().arrive(&frame(1514, 4), false);
    let mut small = [0u8; 100];
    assert_eq!(nic.receive(&mut small), Ok(1514));
    assert_eq!(&small[..], &frame(1514, 4)[..100]);
    assert_eq!(nic.stats().rx_oversize, 1);

    // A flood of bad frames holds a receive for a bounded number of them.
    for _ in 0..40 {
        chip.0.borrow_mut().arrive(&frame(80, 5), true);
    }
    chip.0.borrow_mut().arrive(&frame(70, 6), false);
    let mut calls = 0;
    let got = loop {
        calls += 1;
        match nic.receive(&mut buffer) {
            Ok(len) => break len,
            Err(nb::Error::WouldBlock) => assert!(calls < 10),
            Err(err) => panic!("{err:?}"),
        }
    };
    assert_eq!((got, calls), (70, 40 / MAX_DROPPED_PER_CALL as usize + 1));
    assert!(chip.0.borrow().rx_data.is_empty());
}

#[test]
fn frames_leave_word_by_word_and_the_fifo_never_overflows() {
    let chip = Chip::new(MAC);
    let mut nic = Lan9118::new(chip.clone(), None).unwrap();
    for len in [60, 61, 62, 63, 1514] {
        nic.transmit(&frame(len, 9)).unwrap();
        assert_eq!(chip.0.borrow_mut().sent.pop(), Some(frame(len, 9)));
    }
    assert_eq!(nic.transmit(&[0; 1515]), Err(nb::Error::Other(Error::FrameTooLong { len: 1515 })));

    // Statuses that do not come back: two frames wait, the third is
    // refused until the chip reports them sent.
    chip.0.borrow_mut().hold_tx_status = true;
    nic.transmit(&frame(60, 1)).unwrap();
    nic.transmit(&frame(60, 2)).unwrap();
    assert_eq!(nic.transmit(&frame(60, 3)), Err(nb::Error::WouldBlock));
    assert_eq!(nic.stats().tx_full, 1);
    chip.0.borrow_mut().release_tx_status();
    nic.transmit(&frame(60, 3)).unwrap();
    assert_eq!(nic.stats().tx_frames, 8);
    assert_eq!(chip.0.borrow().sent.len(), 3);
}

/// Moves every frame one chip sent onto the other's wire.
fn wire(from: &Chip, to: &Chip) {
    let frames: Vec<Vec<u8>> = from.0.borrow_mut().sent.drain(..).collect();
    for frame in frames {
        to.0.borrow_mut().arrive(&frame, false);
    }
}

#[test]
fn two_nodes_on_two_modelled_chips_find_each_other_and_talk() {
    let (a, b) = (Chip::new([2, 0, 0, 0, 0, 1]), Chip::new([2, 0, 0, 0, 0, 2]));
    let name = |n: &str| Name::try_from(n).unwrap();
    let (mut vm1_storage, mut vm2_storage) = (Resources::<8>::new(), Resources::<8>::new());
    let mut vm1: Node<_> =
        Node::new(Lan9118::new(a.clone(), None).unwrap(), name("VM1"), Config::default(), &mut vm1_storage);
    let mut vm2: Node<_> =
        Node::new(Lan9118::new(b.clone(), None).unwrap(), name("VM2"), Config::default(), &mut vm2_storage);
    vm1.at(Instant::ZERO).send(&name("VM2"), b"Hi VM2").unwrap();
    let (mut heard, mut answer) = (Vec::new(), Vec::new());
    for ms in 0..10 {
        let now = Instant::from_millis(ms);
        vm1.poll(
            now,
            &mut from_fn(|_, event| {
                if let Event::Data { payload, .. } = event {
                    answer = payload.to_vec();
                }
            }),
        )
        .unwrap();
        wire(&a, &b);
        vm2.poll(
            now,
            &mut from_fn(|ctx, event| {
                if let Event::Data { from, payload, .. } = event {
                    heard = payload.to_vec();
                    ctx.send_to_address(from, b"Nice to meet you!\n").unwrap();
                }
            }),
        )
        .unwrap();
        wire(&b, &a);
    }
    assert_eq!(heard, b"Hi VM2");
    assert_eq!(answer, b"Nice to meet you!\n");
    assert_eq!(vm1.at(Instant::from_millis(10)).lookup(&name("VM2")), Some(EthernetAddress([2, 0, 0, 0, 0, 2])));
    assert_eq!(vm2.device().stats().rx_frames, 2, "the request and the message");
}

#[test]
fn an_arriving_frame_raises_the_pin_until_acknowledged() {
    let chip = Chip::new(MAC);
    let mut nic = Lan9118::new(chip.clone(), None).unwrap();
    nic.enable_rx_interrupt();
    assert!(!chip.0.borrow().pin(), "quiet: low (QEMU's reset polarity would hold it high)");
    chip.0.borrow_mut().arrive(&frame(60, 1), false);
    assert!(chip.0.borrow().pin());
    assert!(nic.rx_pending());
    nic.acknowledge_interrupts();
    assert!(!chip.0.borrow().pin());
    assert!(nic.rx_pending(), "the frame still waits: the caller reads it before sleeping");
    let mut buffer = [0u8; 1514];
    assert_eq!(nic.receive(&mut buffer), Ok(60));
    assert!(!nic.rx_pending());
}
