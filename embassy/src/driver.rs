//! A whohas link device as an embassy-net driver.

use core::task::Context;

use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState, RxToken, TxToken};
use whohas_link::{LinkDevice, MAX_FRAME_LEN, nb};

/// How embassy learns that a device which had no frame may have one now.
///
/// A [`LinkDevice`] never blocks and has no waker: when it has nothing,
/// [`LinkDriver`] hands the task's context to its `Readiness`, which must
/// wake the task's waker once a frame may have arrived. On a
/// microcontroller that is the NIC's interrupt (register the waker in an
/// `AtomicWaker` the interrupt handler wakes); on a host, the socket's
/// readiness (async-io's `Async::poll_readable`). Any
/// `FnMut(&mut Context)` is one.
pub trait Readiness {
    /// Arranges for `cx`'s waker to be woken when a frame may be waiting.
    fn register(&mut self, cx: &mut Context<'_>);
}

impl<F: FnMut(&mut Context<'_>)> Readiness for F {
    fn register(&mut self, cx: &mut Context<'_>) {
        self(cx)
    }
}

/// What a [`LinkDriver`] counted: embassy's driver trait has no way to
/// report a fault or a lost frame, so they are counted here.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DriverStats {
    /// Frames handed to embassy.
    pub rx_frames: u64,
    /// Frames dropped: longer than the driver's buffer.
    pub rx_oversize: u64,
    /// Frames embassy sent that the device took.
    pub tx_frames: u64,
    /// Frames embassy sent that the device had no room for.
    pub tx_dropped: u64,
    /// Device faults (receive or transmit).
    pub faults: u64,
}

/// Any whohas [`LinkDevice`] as an embassy-net [`Driver`], with its
/// frame buffers (`FRAME` bytes each way, a 1500-byte MTU's frame by
/// default) inside.
pub struct LinkDriver<D, R, const FRAME: usize = MAX_FRAME_LEN> {
    device: D,
    readiness: R,
    rx: [u8; FRAME],
    tx: [u8; FRAME],
    stats: DriverStats,
}

impl<D: LinkDevice, R: Readiness, const FRAME: usize> LinkDriver<D, R, FRAME> {
    /// The driver over `device`, woken through `readiness`.
    pub fn new(device: D, readiness: R) -> Self {
        LinkDriver { device, readiness, rx: [0; FRAME], tx: [0; FRAME], stats: DriverStats::default() }
    }

    /// The counters.
    pub fn stats(&self) -> &DriverStats {
        &self.stats
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }
}

impl<D: LinkDevice, R: Readiness, const FRAME: usize> Driver for LinkDriver<D, R, FRAME> {
    type RxToken<'a>
        = Received<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = Transmit<'a, D, FRAME>
    where
        Self: 'a;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(Received<'_>, Transmit<'_, D, FRAME>)> {
        if let Err(nb::Error::Other(_)) = self.device.flush() {
            self.stats.faults += 1;
        }
        loop {
            match self.device.receive(&mut self.rx) {
                Ok(len) if len <= FRAME => {
                    self.stats.rx_frames += 1;
                    let tx = Transmit { device: &mut self.device, buffer: &mut self.tx, stats: &mut self.stats };
                    return Some((Received(&mut self.rx[..len]), tx));
                }
                Ok(_) => self.stats.rx_oversize += 1,
                Err(err) => {
                    if let nb::Error::Other(_) = err {
                        self.stats.faults += 1;
                    }
                    self.readiness.register(cx);
                    return None;
                }
            }
        }
    }

    fn transmit(&mut self, _: &mut Context<'_>) -> Option<Transmit<'_, D, FRAME>> {
        // A device tells whether it has room only when given a frame: a
        // frame it refuses is counted as dropped, as a full queue of a
        // real NIC would drop it.
        Some(Transmit { device: &mut self.device, buffer: &mut self.tx, stats: &mut self.stats })
    }

    fn link_state(&mut self, _: &mut Context<'_>) -> LinkState {
        LinkState::Up
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        caps.max_transmission_unit = self.device.capabilities().max_frame_len().min(FRAME);
        caps
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.device.mac_address().0)
    }
}

/// A frame received, lent to embassy.
pub struct Received<'a>(&'a mut [u8]);

impl RxToken for Received<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

/// Room for one frame embassy sends; the device takes it, and sends it at
/// once (its `flush`).
pub struct Transmit<'a, D, const FRAME: usize> {
    device: &'a mut D,
    buffer: &'a mut [u8; FRAME],
    stats: &'a mut DriverStats,
}

impl<D: LinkDevice, const FRAME: usize> TxToken for Transmit<'_, D, FRAME> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let frame = &mut self.buffer[..len.min(FRAME)];
        let result = f(frame);
        match self.device.transmit(frame) {
            Ok(()) => {
                self.stats.tx_frames += 1;
                // A frame the device holds back goes at a later flush:
                // the next send, or the next receive.
                if let Err(nb::Error::Other(_)) = self.device.flush() {
                    self.stats.faults += 1;
                }
            }
            Err(nb::Error::WouldBlock) => self.stats.tx_dropped += 1,
            Err(nb::Error::Other(_)) => self.stats.faults += 1,
        }
        result
    }
}
