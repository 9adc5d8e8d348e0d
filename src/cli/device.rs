//! Opening the interface a subcommand works on, through AF_PACKET or
//! libpcap, as one [`Device`], with errors that say what to do.

use std::fmt;

use clap::ValueEnum;

use crate::auth::{AuthDevice, AuthStats};
use crate::linux::{AfPacketDevice, Interface, Options, interface};
use crate::pcap::{LiveDevice, LiveOptions};
use crate::runtime::Wait;
use crate::wire::EtherType;
use std::time::Duration;

use crate::{Capabilities, EthernetAddress, LinkDevice};

use super::keys::KeyFile;
use super::{Failure, Global, signals};

/// How frames reach the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Via {
    /// An AF_PACKET raw socket (BPF filter, batched sends).
    #[default]
    Packet,
    /// An AF_PACKET raw socket receiving, AF_XDP sending (copy mode): less
    /// CPU a frame, but past the qdisc and unseen by captures on this host.
    Xdp,
    /// libpcap (pcap_inject, a compiled capture filter).
    Pcap,
}

/// What to open an interface for.
#[derive(Debug, Clone)]
pub struct Open {
    /// Ethertypes let through (`None`: every frame; empty: none).
    pub ethertypes: Option<Vec<EtherType>>,
    /// Refuse an interface whose MTU is below this.
    pub min_mtu: usize,
    /// Send past the kernel's queue discipline (AF_PACKET only).
    pub bypass_qdisc: bool,
    /// Keyed mode with this key file.
    pub key: Option<KeyFile>,
    /// Print a key reload as JSON.
    pub json: bool,
}

impl Default for Open {
    fn default() -> Self {
        Open { ethertypes: Some(EtherType::WHOHAS.to_vec()), min_mtu: 0, bypass_qdisc: false, key: None, json: false }
    }
}

/// The interface `-i` names, or the default-route one.
pub fn interface(global: &Global) -> Result<Interface, Failure> {
    Ok(match &global.interface {
        Some(name) => interface::by_name(name)?,
        None => interface::default_interface()?,
    })
}

/// An open interface, through either backend, in keyed mode or not.
pub enum Device {
    /// An AF_PACKET socket.
    Packet(AfPacketDevice),
    /// A libpcap handle.
    Pcap(LiveDevice),
    /// Keyed mode over one of the others.
    Keyed(Box<KeyedDevice>),
}

/// Keyed mode over a device, with the key file it reads again at SIGHUP.
pub struct KeyedDevice {
    auth: AuthDevice<Device>,
    path: std::path::PathBuf,
    json: bool,
}

impl KeyedDevice {
    /// Reads the key file again if SIGHUP arrived: its keys replace the
    /// ones in use, or, if it cannot be read, those are kept and the reason
    /// is logged.
    fn reload_if_asked(&mut self) {
        if !signals::take_reload() {
            return;
        }
        match KeyFile::read(&self.path) {
            Ok(file) => {
                self.auth.set_keys(file.ring());
                if let Err(failure) = file.report("reloaded").print(self.json) {
                    log::error!("{}", failure.message);
                }
            }
            Err(failure) => log::error!("{}; keeping the keys in use", failure.message),
        }
    }
}

/// A failure of either backend.
#[derive(Debug)]
pub enum DeviceError {
    /// AF_PACKET.
    Packet(crate::linux::Error),
    /// libpcap.
    Pcap(crate::pcap::Error),
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::Packet(err) => fmt::Display::fmt(err, f),
            DeviceError::Pcap(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl std::error::Error for DeviceError {}

impl LinkDevice for Device {
    type Error = DeviceError;

    fn mac_address(&self) -> EthernetAddress {
        match self {
            Device::Packet(device) => device.mac_address(),
            Device::Pcap(device) => device.mac_address(),
            Device::Keyed(device) => device.auth.mac_address(),
        }
    }

    fn capabilities(&self) -> Capabilities {
        match self {
            Device::Packet(device) => device.capabilities(),
            Device::Pcap(device) => device.capabilities(),
            Device::Keyed(device) => device.auth.capabilities(),
        }
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, DeviceError> {
        match self {
            Device::Packet(device) => device.receive(buffer).map_err(|err| err.map(DeviceError::Packet)),
            Device::Pcap(device) => device.receive(buffer).map_err(|err| err.map(DeviceError::Pcap)),
            Device::Keyed(device) => {
                device.reload_if_asked();
                device.auth.receive(buffer)
            }
        }
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), DeviceError> {
        match self {
            Device::Packet(device) => device.transmit(frame).map_err(|err| err.map(DeviceError::Packet)),
            Device::Pcap(device) => device.transmit(frame).map_err(|err| err.map(DeviceError::Pcap)),
            Device::Keyed(device) => device.auth.transmit(frame),
        }
    }

    fn flush(&mut self) -> nb::Result<(), DeviceError> {
        match self {
            Device::Packet(device) => device.flush().map_err(|err| err.map(DeviceError::Packet)),
            Device::Pcap(device) => device.flush().map_err(|err| err.map(DeviceError::Pcap)),
            Device::Keyed(device) => device.auth.flush(),
        }
    }
}

impl Wait for Device {
    fn wait(&mut self, timeout: Option<Duration>, writable: bool) -> Result<(), DeviceError> {
        match self {
            Device::Packet(device) => device.wait(timeout, writable).map_err(DeviceError::Packet),
            Device::Pcap(device) => device.wait(timeout, writable).map_err(DeviceError::Pcap),
            Device::Keyed(device) => device.auth.wait(timeout, writable),
        }
    }
}

/// A device that may be in keyed mode, for printing its counters.
pub trait Keyed {
    /// Keyed mode's counters, when it is on.
    fn auth_stats(&self) -> Option<AuthStats> {
        None
    }
}

impl Keyed for Device {
    fn auth_stats(&self) -> Option<AuthStats> {
        match self {
            Device::Keyed(device) => Some(*device.auth.stats()),
            _ => None,
        }
    }
}

impl Keyed for AfPacketDevice {}

/// Keyed mode's counters as a report.
pub fn keyed(stats: &AuthStats) -> super::report::Report {
    super::report::Report::Keyed {
        tx_signed: stats.tx_signed,
        rx_verified: stats.rx_verified,
        rx_second_key: stats.rx_second_key,
        rx_auth_failures: stats.rx_auth_failures,
        rx_replays: stats.rx_replays,
        rx_stale_replies: stats.rx_stale_replies,
        rx_unadmitted: stats.rx_unadmitted,
        rx_reflected: stats.rx_reflected,
        rx_misdirected: stats.rx_misdirected,
        rx_stale_handshakes: stats.rx_stale_handshakes,
        tx_challenges: stats.tx_challenges,
        tx_answers: stats.tx_answers,
        admissions: stats.admissions,
    }
}

/// Opens `interface` through `via`, in keyed mode if `open` has a key.
pub fn open(interface: &Interface, via: Via, open: &Open) -> Result<Device, Failure> {
    let device = open_plain(interface, via, open)?;
    Ok(match &open.key {
        Some(file) => {
            signals::watch_reload();
            let auth = AuthDevice::new(device, file.ring(), super::random_seed());
            Device::Keyed(Box::new(KeyedDevice { auth, path: file.path.clone(), json: open.json }))
        }
        None => device,
    })
}

fn open_plain(interface: &Interface, via: Via, open: &Open) -> Result<Device, Failure> {
    let ethertypes = open.ethertypes.clone();
    match via {
        Via::Packet | Via::Xdp => {
            let options = Options {
                ethertypes,
                bypass_qdisc: open.bypass_qdisc,
                xdp: via == Via::Xdp,
                min_mtu: open.min_mtu,
                ..Options::default()
            };
            let device = AfPacketDevice::open_with(&interface.name, &options)?;
            // Without AF_XDP, the device said why (a warning).
            log::info!("{}: sending through {}", interface.name, device.transmit_path());
            Ok(Device::Packet(device))
        }
        Via::Pcap => {
            // The checks AF_PACKET makes when it opens, made here for libpcap.
            let name = interface.name.clone();
            if !interface.up {
                return Err(crate::linux::Error::InterfaceDown { name }.into());
            }
            if interface.mtu < open.min_mtu {
                return Err(crate::linux::Error::MtuTooSmall { name, mtu: interface.mtu, needed: open.min_mtu }.into());
            }
            Ok(Device::Pcap(LiveDevice::open(&interface.name, &LiveOptions { ethertypes, ..LiveOptions::default() })?))
        }
    }
}
