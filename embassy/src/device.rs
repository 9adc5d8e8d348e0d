//! An embassy-net driver as a whohas link device.

use core::convert::Infallible;
use core::fmt;
use core::task::{Context, Waker};

use embassy_net_driver::{Driver, HardwareAddress, RxToken, TxToken};
use whohas_link::{Capabilities, EthernetAddress, HEADER_LEN, LinkDevice, nb};

/// Any [`Driver`] of an Ethernet medium as a whohas [`LinkDevice`].
///
/// `receive` and `transmit` pass the driver the waker last given to
/// [`set_waker`](Self::set_waker) (none: a waker that does nothing, for a
/// node polled in a loop): a driver with nothing to give registers it and
/// wakes it when a frame arrives or room frees up.
pub struct EmbassyDevice<D> {
    driver: D,
    waker: Waker,
    mac: EthernetAddress,
}

/// The driver is not Ethernet (an IP-only `tun`, 802.15.4): name-ARP needs
/// Ethernet frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotEthernet;

impl fmt::Display for NotEthernet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the driver does not carry Ethernet frames (use a tap, not a tun)")
    }
}

impl core::error::Error for NotEthernet {}

impl<D: Driver> EmbassyDevice<D> {
    /// The device over `driver`; `Err` unless it carries Ethernet frames.
    pub fn new(driver: D) -> Result<Self, NotEthernet> {
        match driver.hardware_address() {
            HardwareAddress::Ethernet(mac) => {
                Ok(EmbassyDevice { driver, waker: Waker::noop().clone(), mac: EthernetAddress(mac) })
            }
            _ => Err(NotEthernet),
        }
    }

    /// The waker the driver wakes when it has a frame or room again: the
    /// waker of the task that polls the node.
    pub fn set_waker(&mut self, waker: &Waker) {
        self.waker.clone_from(waker);
    }

    /// The driver.
    pub fn driver_mut(&mut self) -> &mut D {
        &mut self.driver
    }

    /// Gives the driver back.
    pub fn into_inner(self) -> D {
        self.driver
    }
}

impl<D: Driver> LinkDevice for EmbassyDevice<D> {
    /// The driver trait has no faults: a driver that cannot move a frame
    /// has none to give, or no room.
    type Error = Infallible;

    fn mac_address(&self) -> EthernetAddress {
        self.mac
    }

    fn capabilities(&self) -> Capabilities {
        // embassy's MTU counts the Ethernet header, whohas' does not.
        Capabilities { mtu: self.driver.capabilities().max_transmission_unit.saturating_sub(HEADER_LEN) }
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, Infallible> {
        let mut cx = Context::from_waker(&self.waker);
        let (rx, _) = self.driver.receive(&mut cx).ok_or(nb::Error::WouldBlock)?;
        Ok(rx.consume(|frame| {
            let kept = frame.len().min(buffer.len());
            buffer[..kept].copy_from_slice(&frame[..kept]);
            frame.len()
        }))
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), Infallible> {
        let mut cx = Context::from_waker(&self.waker);
        let tx = self.driver.transmit(&mut cx).ok_or(nb::Error::WouldBlock)?;
        tx.consume(frame.len(), |buffer| buffer.copy_from_slice(frame));
        Ok(())
    }
}
