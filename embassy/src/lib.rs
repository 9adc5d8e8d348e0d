//! # whohas-embassy
//!
//! whohas and embassy-net on each other's drivers, both ways, with no
//! allocation and no `unsafe`:
//!
//! - [`EmbassyDevice`]: any [`embassy_net_driver::Driver`] (the stm32,
//!   nrf and rp Ethernet drivers, w5500, enc28j60, cyw43, Linux's
//!   `embassy-net-tuntap`) as a whohas [`LinkDevice`], so a whohas node
//!   runs on it. The device passes the waker of the task that polls the
//!   node to the driver, so the task sleeps until the driver wakes it
//!   (`examples/tuntap_station.rs` runs a node that way on embassy's
//!   executor).
//! - [`LinkDriver`]: any whohas [`LinkDevice`] (the LAN9118, AF_PACKET,
//!   libpcap, a wrapper such as `AuthDevice`) as an embassy-net driver;
//!   a [`Readiness`] tells embassy when the device may have a frame
//!   (an interrupt's waker on a microcontroller, the socket's readiness on
//!   a host: `examples/net_over_link.rs`).
//!
//! Both copy each frame once, between the driver's buffer and the
//! other side's: the two traits lend buffers in opposite directions.
#![no_std]
#![deny(unsafe_code)]

mod device;
mod driver;

pub use device::{EmbassyDevice, NotEthernet};
pub use driver::{DriverStats, LinkDriver, Readiness};
pub use whohas_link::LinkDevice;
