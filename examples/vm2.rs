//! VM2 of the seed, with the original's arguments `IFACE MYNAME PEERNAME`:
//! answers name-ARP requests for its name, prints every data frame it
//! receives (escaped, one line each) and answers each with "Nice to meet
//! you!\n", until SIGINT or SIGTERM; then prints its counters and exits 0.
//!
//! It is the library's responder (what `whohas respond` runs) on an
//! AF_PACKET device:
//!
//! `sudo cargo run --example vm2 -- eth0 VM2 VM1`

use std::process::ExitCode;

use clap::Parser;
use whohas::cli::output::{Failure, Sink};
use whohas::cli::respond::{Responder, Show, serve};
use whohas::cli::signals;
use whohas::linux::AfPacketDevice;
use whohas::{Config, Name};

/// Answer for MYNAME on IFACE and greet whoever writes.
#[derive(Parser)]
struct Args {
    /// Ethernet interface to listen on (e.g. eth0).
    iface: String,
    /// This station's name.
    myname: Name,
    /// The peer's name: shown for its messages.
    peername: Option<Name>,
}

fn run(args: Args) -> Result<(), Failure> {
    let device = AfPacketDevice::open(&args.iface)?;
    let responder =
        Responder::new(Some(b"Nice to meet you!\n".to_vec()), Sink::None, Show::Lines).with_peer_label(args.peername);
    serve(device, &args.iface, args.myname, Config::default(), responder)
}

fn main() -> ExitCode {
    env_logger::init();
    signals::install();
    run(Args::parse()).map_or_else(|failure| failure.report("vm2"), |()| ExitCode::SUCCESS)
}
