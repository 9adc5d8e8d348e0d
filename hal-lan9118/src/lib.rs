//! # whohas-hal-lan9118
//!
//! A [`LinkDevice`] for the SMSC LAN9118 Ethernet controller, memory-mapped
//! and polled: the NIC of Arm's MPS2 boards (and QEMU's `mps2-an385`,
//! `mps2-an386` and `mps2-an500` machines). `no_std`, no allocation, no
//! interrupts needed.
//!
//! ```no_run
//! use whohas_hal_lan9118::{Lan9118, Mmio};
//! // SAFETY: the MPS2 boards map the LAN9118 at 0x4020_0000 and nothing
//! // else in this program touches it.
//! let registers = unsafe { Mmio::new(0x4020_0000) };
//! let nic = Lan9118::new(registers, None)?;
//! # Ok::<(), whohas_hal_lan9118::Error>(())
//! ```
//!
//! - Every wait on the chip is bounded ([`SPIN_LIMIT`] reads): a missing
//!   or wedged chip gives [`Error::Timeout`], never a hang.
//! - Received frames with the error bit, runts, and frames longer than the
//!   caller's buffer are counted in [`Stats`]; bad frames are read out of
//!   the FIFO and dropped, never returned, never a panic.
//! - At most [`MAX_IN_FLIGHT`] frames wait in the transmit FIFO, so it can
//!   never overflow (whatever size its free-space field reports): a busy
//!   transmitter says `WouldBlock` and the node retries.
//! - Polled; optionally the chip raises its interrupt pin when a frame
//!   arrives ([`Lan9118::enable_rx_interrupt`]), so firmware can sleep
//!   until then instead of waking on a timer.
//! - Register access goes through the [`Registers`] trait: [`Mmio`] on the
//!   chip (the crate's only `unsafe` code, in `mmio.rs`), a model of the
//!   chip in the host tests.

#![no_std]

mod mmio;
pub mod regs;

use core::fmt;

use whohas_link::{Capabilities, EthernetAddress, LinkDevice, MAX_FRAME_LEN};

pub use mmio::Mmio;
use regs::*;
pub use regs::{Reg, Registers};

/// Reads of a register before a wait gives up.
pub const SPIN_LIMIT: u32 = 100_000;
/// Frames the driver lets wait in the transmit FIFO (it holds 4.5 KiB, at
/// least two full frames with their command words).
pub const MAX_IN_FLIGHT: u32 = 2;
/// Frames a `receive` reads out and drops at most before it returns, so a
/// flood of bad frames cannot hold the caller.
pub const MAX_DROPPED_PER_CALL: u32 = 16;
/// The frame check sequence the chip leaves at the end of every frame.
const FCS_LEN: usize = 4;
/// The shortest frame worth reading: an Ethernet header and its FCS.
const MIN_RX_LEN: usize = 14 + FCS_LEN;

/// What the driver waited for when it gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Step {
    /// The soft reset to finish.
    Reset,
    /// The device to become ready after the reset.
    Ready,
    /// A MAC register access to finish.
    MacAccess,
}

/// A fault of the chip or of its use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// No LAN9118 answers at this address: its byte-order test register read
    /// this instead of 0x87654321.
    NotFound {
        /// What the register read.
        byte_test: u32,
    },
    /// The chip did not finish a step within [`SPIN_LIMIT`] reads.
    Timeout(Step),
    /// The chip has no usable station address (none in its EEPROM, none
    /// given): pass one to [`Lan9118::new`].
    NoAddress,
    /// A frame longer than an Ethernet frame was given to send.
    FrameTooLong {
        /// Its length.
        len: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound { byte_test } => {
                write!(f, "no LAN9118 at this address (BYTE_TEST reads {byte_test:#010x}, not 0x87654321)")
            }
            Error::Timeout(step) => write!(f, "the LAN9118 did not finish {step:?} in {SPIN_LIMIT} reads"),
            Error::NoAddress => f.write_str("the LAN9118 has no station address; give one"),
            Error::FrameTooLong { len } => write!(f, "a {len}-byte frame is longer than Ethernet carries"),
        }
    }
}

impl core::error::Error for Error {}

/// What the driver counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Frames handed to the caller.
    pub rx_frames: u32,
    /// Frames the chip flagged with an error (CRC, length, collision…):
    /// dropped.
    pub rx_errors: u32,
    /// Frames too short to hold an Ethernet header: dropped.
    pub rx_runts: u32,
    /// Frames longer than the caller's buffer: returned with their length,
    /// for the caller to count as truncated.
    pub rx_oversize: u32,
    /// Frames written to the transmit FIFO.
    pub tx_frames: u32,
    /// Sent frames whose status had the error bit.
    pub tx_errors: u32,
    /// Frames refused because [`MAX_IN_FLIGHT`] were waiting.
    pub tx_full: u32,
    /// Frames refused as longer than Ethernet carries.
    pub tx_oversize: u32,
}

/// A LAN9118, reset and running, as a [`LinkDevice`].
pub struct Lan9118<R: Registers> {
    regs: R,
    mac: EthernetAddress,
    in_flight: u32,
    tag: u16,
    stats: Stats,
}

impl<R: Registers> Lan9118<R> {
    /// Resets the chip behind `regs` and turns its receiver and transmitter
    /// on, receiving frames for its address and broadcasts only. The station
    /// address is `mac` if given (written to the chip), else the one the
    /// chip loaded (from its EEPROM; from `-nic …,mac=` in QEMU).
    pub fn new(mut regs: R, mac: Option<EthernetAddress>) -> Result<Self, Error> {
        let byte_test = regs.read(Reg::ByteTest);
        if byte_test != BYTE_TEST_VALUE {
            return Err(Error::NotFound { byte_test });
        }
        regs.write(Reg::HwCfg, HW_CFG_SRST);
        wait_until(&mut regs, Reg::HwCfg, |v| v & HW_CFG_SRST == 0).ok_or(Error::Timeout(Step::Reset))?;
        wait_until(&mut regs, Reg::PmtCtrl, |v| v & PMT_CTRL_READY != 0).ok_or(Error::Timeout(Step::Ready))?;
        let mut nic = Lan9118 { regs, mac: EthernetAddress([0; 6]), in_flight: 0, tag: 0, stats: Stats::default() };
        nic.mac = match mac {
            Some(mac) => {
                let [a, b, c, d, e, f] = mac.0;
                nic.write_mac(MacReg::AddrL, u32::from_le_bytes([a, b, c, d]))?;
                nic.write_mac(MacReg::AddrH, u32::from_le_bytes([e, f, 0, 0]))?;
                mac
            }
            None => {
                let [a, b, c, d] = nic.read_mac(MacReg::AddrL)?.to_le_bytes();
                let [e, f, _, _] = nic.read_mac(MacReg::AddrH)?.to_le_bytes();
                EthernetAddress([a, b, c, d, e, f])
            }
        };
        if !nic.mac.is_unicast() {
            return Err(Error::NoAddress);
        }
        nic.regs.write(Reg::RxCfg, 0);
        nic.regs.write(Reg::TxCfg, TX_CFG_TX_ON);
        // Full duplex, both directions on; promiscuous mode (set by QEMU at
        // reset) off: the chip drops frames for other stations.
        nic.write_mac(MacReg::Cr, MAC_CR_FDPX | MAC_CR_TXEN | MAC_CR_RXEN)?;
        Ok(nic)
    }

    /// What the driver counted.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The chip's id and revision register (0x0118_xxxx).
    pub fn id_rev(&mut self) -> u32 {
        self.regs.read(Reg::IdRev)
    }

    /// Drives the chip's interrupt pin (active high) when a frame arrives,
    /// so firmware can sleep until then (`wfe` with SEVONPEND, or an
    /// interrupt handler). The pin stays up until
    /// [`acknowledge_interrupts`](Self::acknowledge_interrupts).
    pub fn enable_rx_interrupt(&mut self) {
        self.regs.write(Reg::IrqCfg, IRQ_CFG_ENABLED_HIGH);
        self.regs.write(Reg::IntSts, u32::MAX);
        self.regs.write(Reg::IntEn, INT_RSFL);
    }

    /// Clears the interrupt status (and so the pin). Frames already waiting
    /// raise no new interrupt: check [`rx_pending`](Self::rx_pending)
    /// after this, before sleeping.
    pub fn acknowledge_interrupts(&mut self) {
        self.regs.write(Reg::IntSts, u32::MAX);
    }

    /// Whether a received frame waits to be read.
    pub fn rx_pending(&mut self) -> bool {
        status_used(self.regs.read(Reg::RxFifoInf)) != 0
    }

    /// The chip's free-running 25 MHz counter (wraps every 171.8 s).
    pub fn free_run(&mut self) -> u32 {
        self.regs.read(Reg::FreeRun)
    }

    /// Gives the registers back.
    pub fn release(self) -> R {
        self.regs
    }

    fn mac_access(&mut self, command: u32) -> Result<(), Error> {
        self.regs.write(Reg::MacCsrCmd, MAC_CSR_BUSY | command);
        wait_until(&mut self.regs, Reg::MacCsrCmd, |v| v & MAC_CSR_BUSY == 0).ok_or(Error::Timeout(Step::MacAccess))
    }

    fn read_mac(&mut self, reg: MacReg) -> Result<u32, Error> {
        self.mac_access(MAC_CSR_READ | reg as u32)?;
        Ok(self.regs.read(Reg::MacCsrData))
    }

    fn write_mac(&mut self, reg: MacReg, value: u32) -> Result<(), Error> {
        self.regs.write(Reg::MacCsrData, value);
        self.mac_access(reg as u32)
    }

    /// Reads the status of every frame the chip has sent.
    fn collect_sent(&mut self) {
        for _ in 0..status_used(self.regs.read(Reg::TxFifoInf)) {
            if self.regs.read(Reg::TxStatus) & STATUS_ERROR != 0 {
                self.stats.tx_errors += 1;
            }
            self.in_flight = self.in_flight.saturating_sub(1);
        }
    }

    /// Reads `words` words of a frame out of the FIFO, keeping the first
    /// `keep` bytes in `buffer`.
    fn read_frame(&mut self, words: usize, buffer: &mut [u8], keep: usize) {
        for i in 0..words {
            let bytes = self.regs.read(Reg::RxData).to_le_bytes();
            let at = i * 4;
            // `keep` is at most `buffer.len()`: past it, words are only read.
            let n = keep.saturating_sub(at).min(4);
            if n > 0 {
                buffer[at..at + n].copy_from_slice(&bytes[..n]);
            }
        }
    }
}

/// Reads `reg` until `done` holds, at most [`SPIN_LIMIT`] times.
fn wait_until<R: Registers>(regs: &mut R, reg: Reg, done: impl Fn(u32) -> bool) -> Option<()> {
    (0..SPIN_LIMIT).any(|_| done(regs.read(reg))).then_some(())
}

impl<R: Registers> LinkDevice for Lan9118<R> {
    type Error = Error;

    fn mac_address(&self) -> EthernetAddress {
        self.mac
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, Error> {
        for _ in 0..MAX_DROPPED_PER_CALL {
            if !self.rx_pending() {
                return Err(nb::Error::WouldBlock);
            }
            let status = self.regs.read(Reg::RxStatus);
            let len = ((status >> RX_STATUS_LEN_SHIFT) & RX_STATUS_LEN_MASK) as usize;
            let words = len.div_ceil(4);
            if status & STATUS_ERROR != 0 || len < MIN_RX_LEN {
                // Read out, so the FIFO moves on to the next frame.
                self.read_frame(words, buffer, 0);
                if status & STATUS_ERROR != 0 {
                    self.stats.rx_errors += 1;
                } else {
                    self.stats.rx_runts += 1;
                }
                continue;
            }
            let frame_len = len - FCS_LEN;
            if frame_len > buffer.len() {
                self.stats.rx_oversize += 1;
            }
            self.read_frame(words, buffer, frame_len.min(buffer.len()));
            self.stats.rx_frames += 1;
            return Ok(frame_len);
        }
        Err(nb::Error::WouldBlock)
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), Error> {
        if frame.len() > MAX_FRAME_LEN {
            self.stats.tx_oversize += 1;
            return Err(nb::Error::Other(Error::FrameTooLong { len: frame.len() }));
        }
        self.collect_sent();
        if self.in_flight >= MAX_IN_FLIGHT {
            self.stats.tx_full += 1;
            return Err(nb::Error::WouldBlock);
        }
        let len = frame.len() as u32;
        self.tag = self.tag.wrapping_add(1);
        self.regs.write(Reg::TxData, TX_CMD_A_FIRST | TX_CMD_A_LAST | len);
        self.regs.write(Reg::TxData, (u32::from(self.tag) << 16) | len);
        for chunk in frame.chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.regs.write(Reg::TxData, u32::from_le_bytes(word));
        }
        self.in_flight += 1;
        self.stats.tx_frames += 1;
        self.collect_sent();
        Ok(())
    }
}
