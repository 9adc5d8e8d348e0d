//! `whohas interfaces`: the interfaces of this machine (of this network
//! namespace), with the one carrying the default route marked.

use super::output::print_line;
use super::report::Report;
use super::{Failure, Global};
use crate::linux::interface;

/// Prints the table (or JSON lines).
pub fn run(global: &Global) -> Result<(), Failure> {
    let default = interface::default_route()?.map(|route| route.interface);
    if !global.json {
        print_line(format_args!("{:<16} {:<17} {:>5}  {:<10} IPv4", "INTERFACE", "MAC", "MTU", "STATE"))?;
    }
    for i in interface::list()? {
        let state = match (i.up, i.running) {
            (false, _) => "down",
            (true, true) => "up",
            (true, false) => "no-carrier",
        };
        let ipv4: Vec<String> = i.ipv4.iter().map(ToString::to_string).collect();
        Report::Interface {
            interface: i.name.clone(),
            mac: i.mac.to_string(),
            mtu: i.mtu,
            state,
            ethernet: i.is_ethernet(),
            ipv4,
            default_route: default.as_deref() == Some(&i.name),
        }
        .print(global.json)?;
    }
    Ok(())
}
