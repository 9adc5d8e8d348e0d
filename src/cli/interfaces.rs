//! `whohas interfaces`: the interfaces of this machine (of this network
//! namespace), with the one carrying the default route marked.

use serde_json::json;

use super::output::{print_json, print_line};
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
        let is_default = default.as_deref() == Some(&i.name);
        if global.json {
            print_json(&json!({
                "interface": i.name, "mac": i.mac.to_string(), "mtu": i.mtu, "state": state,
                "ethernet": i.is_ethernet(), "ipv4": ipv4, "default_route": is_default,
            }))?;
        } else {
            let marker = if is_default { " (default route)" } else { "" };
            print_line(format_args!(
                "{:<16} {:<17} {:>5}  {:<10} {}{marker}",
                i.name,
                i.mac,
                i.mtu,
                state,
                ipv4.join(" ")
            ))?;
        }
    }
    Ok(())
}
