//! # whohas-hal-linux
//!
//! A [`LinkDevice`](whohas_link::LinkDevice) over a Linux AF_PACKET raw
//! socket bound to one interface: what the original C program used.
//!
//! ```no_run
//! use whohas_hal_linux::AfPacketDevice;
//! let device = AfPacketDevice::open("eth0")?;
//! println!("{} is {}", device.interface().name, device.interface().mac);
//! # Ok::<(), whohas_hal_linux::Error>(())
//! ```
//!
//! - [`AfPacketDevice`]: raw socket that `receive` and `transmit` never
//!   block on, optional kernel BPF filter on ethertypes, outgoing copies
//!   ignored, batched reception with `recvmmsg(2)` and transmission with
//!   `sendmmsg(2)`, or, if asked, transmission through an AF_XDP socket
//!   ([`TransmitPath`]); its descriptor can be polled.
//! - [`interface`]: list interfaces with MAC, MTU, state and IPv4 networks;
//!   find the default-route interface.
//! - [`Wait`](whohas_link::Wait) for the device, so a node on it sleeps
//!   between frames in the receive call itself (the frame that wakes it is
//!   read by the same system call), and in `poll(2)` while the kernel has
//!   no room for its frames; [`wait_ready`] for other descriptor-based
//!   backends.
//! - [`Error`]: one-line messages that say what to do.
//!
//! All `unsafe` code is in the private `sys` module.

mod device;
mod error;
mod filter;
pub mod interface;
mod sys;
mod wait;

pub use device::{AfPacketDevice, Options, TransmitPath};
pub use error::Error;
pub use interface::{Interface, Ipv4Network};
pub use wait::{LINK_RECHECK, wait_ready};
