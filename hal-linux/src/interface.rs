//! Network interfaces as a user of a VM needs them: name, MAC, MTU, state,
//! IPv4 and IPv6 addresses, and which one carries the default route.

use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr};

use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;
use whohas_link::EthernetAddress;

use crate::Error;

/// Linux `ARPHRD_ETHER`: Ethernet, veth, bridges, most virtual NICs.
pub const HARDWARE_TYPE_ETHERNET: u16 = 1;

/// An IPv4 address with its prefix length, as configured on an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Network {
    /// The interface's address.
    pub address: Ipv4Addr,
    /// Prefix length, 0..=32.
    pub prefix_len: u8,
}

impl Ipv4Network {
    /// The network address (host bits cleared).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & self.mask())
    }

    /// The netmask as a `u32`.
    pub fn mask(&self) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(self.prefix_len)).unwrap_or(0)
    }
}

impl std::fmt::Display for Ipv4Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Its name, such as `eth0`.
    pub name: String,
    /// Its kernel index.
    pub index: u32,
    /// Its MAC address (zero for interfaces without one).
    pub mac: EthernetAddress,
    /// Its ARPHRD_* hardware type ([`HARDWARE_TYPE_ETHERNET`] for Ethernet).
    pub hardware_type: u16,
    /// Its MTU in bytes.
    pub mtu: usize,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Has a carrier (`IFF_RUNNING`).
    pub running: bool,
    /// Its IPv4 addresses.
    pub ipv4: Vec<Ipv4Network>,
    /// Its IPv6 addresses (link-local and global).
    pub ipv6: Vec<Ipv6Addr>,
}

impl Interface {
    /// Whether whohas can speak Ethernet on it.
    pub fn is_ethernet(&self) -> bool {
        self.hardware_type == HARDWARE_TYPE_ETHERNET
    }
}

/// Every interface of the system (of the current network namespace).
pub fn list() -> Result<Vec<Interface>, Error> {
    let mut interfaces: Vec<Interface> = Vec::new();
    for entry in getifaddrs().map_err(|errno| Error::io("listing interfaces (getifaddrs)", errno))? {
        let position = match interfaces.iter().position(|i| i.name == entry.interface_name) {
            Some(position) => position,
            None => {
                interfaces.push(Interface {
                    name: entry.interface_name.clone(),
                    index: 0,
                    mac: EthernetAddress::UNSPECIFIED,
                    hardware_type: 0,
                    mtu: read_mtu(&entry.interface_name).unwrap_or(0),
                    up: entry.flags.contains(InterfaceFlags::IFF_UP),
                    running: entry.flags.contains(InterfaceFlags::IFF_RUNNING),
                    ipv4: Vec::new(),
                    ipv6: Vec::new(),
                });
                interfaces.len() - 1
            }
        };
        let interface = &mut interfaces[position];
        let Some(address) = entry.address else { continue };
        if let Some(link) = address.as_link_addr() {
            interface.index = u32::try_from(link.ifindex()).unwrap_or(0);
            interface.hardware_type = link.hatype();
            interface.mac = link.addr().map(EthernetAddress).unwrap_or_default();
        } else if let Some(inet) = address.as_sockaddr_in() {
            let prefix_len = entry
                .netmask
                .and_then(|mask| mask.as_sockaddr_in().map(|m| u32::from(m.ip()).leading_ones() as u8))
                .unwrap_or(32);
            interface.ipv4.push(Ipv4Network { address: inet.ip(), prefix_len });
        } else if let Some(inet6) = address.as_sockaddr_in6() {
            interface.ipv6.push(inet6.ip());
        }
    }
    interfaces.retain(|interface| interface.index != 0);
    interfaces.sort_by_key(|interface| interface.index);
    Ok(interfaces)
}

/// The interface called `name`, or an error listing the ones that exist.
pub fn by_name(name: &str) -> Result<Interface, Error> {
    let interfaces = list()?;
    match interfaces.iter().find(|interface| interface.name == name) {
        Some(interface) => Ok(interface.clone()),
        None => Err(Error::NoSuchInterface {
            name: name.to_owned(),
            available: interfaces.into_iter().map(|interface| interface.name).collect(),
        }),
    }
}

fn read_mtu(name: &str) -> Option<usize> {
    fs::read_to_string(format!("/sys/class/net/{name}/mtu")).ok()?.trim().parse().ok()
}

/// The IPv4 default route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRoute {
    /// The interface it leaves through.
    pub interface: String,
    /// The gateway, if the route has one.
    pub gateway: Option<Ipv4Addr>,
}

/// The IPv4 default route with the lowest metric, from `/proc/net/route`.
pub fn default_route() -> Result<Option<DefaultRoute>, Error> {
    let table = fs::read_to_string("/proc/net/route")
        .map_err(|source| Error::Io { context: "reading /proc/net/route", source })?;
    Ok(parse_default_route(&table))
}

/// Parses the kernel's route table text: whitespace-separated columns
/// `Iface Destination Gateway Flags RefCnt Use Metric Mask ...`; addresses
/// are the in-memory (network order) bytes printed as a native integer.
fn parse_default_route(table: &str) -> Option<DefaultRoute> {
    const RTF_UP: u32 = 0x1;
    const RTF_GATEWAY: u32 = 0x2;
    let hex = |field: &str| u32::from_str_radix(field, 16).ok();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (destination, gateway, flags) = (hex(fields.get(1)?)?, hex(fields.get(2)?)?, hex(fields.get(3)?)?);
            let (metric, mask) = (fields.get(6)?.parse::<u32>().ok()?, hex(fields.get(7)?)?);
            (destination == 0 && mask == 0 && flags & RTF_UP != 0).then(|| {
                let gateway = (flags & RTF_GATEWAY != 0).then(|| Ipv4Addr::from(gateway.to_ne_bytes()));
                (metric, DefaultRoute { interface: fields[0].to_owned(), gateway })
            })
        })
        .min_by_key(|(metric, _)| *metric)
        .map(|(_, route)| route)
}

/// The interface a user most likely means when they give none: the one
/// carrying the default route, else the first Ethernet interface that is up.
pub fn default_interface() -> Result<Interface, Error> {
    let interfaces = list()?;
    let by_route = default_route()?.and_then(|route| interfaces.iter().find(|i| i.name == route.interface).cloned());
    by_route.or_else(|| interfaces.iter().find(|i| i.is_ethernet() && i.up).cloned()).ok_or_else(|| {
        Error::NoSuchInterface {
            name: "(default)".to_owned(),
            available: interfaces.into_iter().map(|interface| interface.name).collect(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTE: &str = "\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t00000000\t0223A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0
eth0\t00000000\t0112A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t0012A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
";

    #[test]
    fn picks_the_default_route_with_the_lowest_metric() {
        let route = parse_default_route(ROUTE).unwrap();
        assert_eq!(route.interface, "eth0");
        assert_eq!(route.gateway, Some(Ipv4Addr::new(192, 168, 18, 1)));
        assert_eq!(parse_default_route("Iface\tDestination\n"), None);
    }

    #[test]
    fn network_masks_host_bits() {
        let net = Ipv4Network { address: Ipv4Addr::new(198, 18, 0, 77), prefix_len: 24 };
        assert_eq!(net.network(), Ipv4Addr::new(198, 18, 0, 0));
        assert_eq!(Ipv4Network { address: net.address, prefix_len: 0 }.mask(), 0);
        assert_eq!(Ipv4Network { address: net.address, prefix_len: 32 }.mask(), u32::MAX);
    }

    #[test]
    fn lists_loopback() {
        let interfaces = list().unwrap();
        let lo = interfaces.iter().find(|i| i.name == "lo").expect("every namespace has lo");
        assert!(!lo.is_ethernet());
        assert!(
            matches!(by_name("no-such-if0"), Err(Error::NoSuchInterface { available, .. }) if available.contains(&"lo".to_owned()))
        );
    }
}
