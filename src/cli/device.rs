//! Opening the interface a subcommand works on, through AF_PACKET or
//! libpcap, with errors that say what to do.

use clap::ValueEnum;

use crate::linux::{AfPacketDevice, Interface, Options, interface};
use crate::pcap::{LiveDevice, LiveOptions};
use crate::runtime::Wait;
use crate::wire::EtherType;

use super::{Failure, Global};

/// How frames reach the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Via {
    /// An AF_PACKET raw socket (BPF filter, batched sends).
    #[default]
    Packet,
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
}

impl Default for Open {
    fn default() -> Self {
        Open { ethertypes: Some(EtherType::WHOHAS.to_vec()), min_mtu: 0, bypass_qdisc: false }
    }
}

/// The interface `-i` names, or the default-route one.
pub fn interface(global: &Global) -> Result<Interface, Failure> {
    Ok(match &global.interface {
        Some(name) => interface::by_name(name)?,
        None => interface::default_interface()?,
    })
}

/// Something done with an open device, whatever its backend.
pub trait WithDevice {
    /// What it gives back.
    type Output;
    /// Does it with `device`, open on `interface`.
    fn with<D>(self, device: D, interface: &Interface) -> Result<Self::Output, Failure>
    where
        D: Wait<Error: std::error::Error + 'static>;
}

/// Opens `interface` through `via` and hands the device to `user`.
pub fn open<U: WithDevice>(interface: &Interface, via: Via, open: &Open, user: U) -> Result<U::Output, Failure> {
    match via {
        Via::Packet => {
            let options =
                Options { ethertypes: open.ethertypes.clone(), bypass_qdisc: open.bypass_qdisc, min_mtu: open.min_mtu };
            user.with(AfPacketDevice::open_with(&interface.name, &options)?, interface)
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
            let options = LiveOptions { ethertypes: open.ethertypes.clone(), ..LiveOptions::default() };
            user.with(LiveDevice::open(&interface.name, &options)?, interface)
        }
    }
}
