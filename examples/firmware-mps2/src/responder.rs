//! VM2 of the seed: answers name-ARP requests for "VM2" and every data
//! frame with "Nice to meet you!\n", logging each and the counters. With
//! the `echo` feature it is the station "echo" of `whohas pingpong` and
//! sends every data frame back as it came, logging nothing per frame.

use whohas_core::node::Node;
use whohas_core::runtime::{Context, from_fn};
use whohas_core::station::{Config, Event, Resources};

use crate::{Nic, TickClock, board, name, report};

const REPLY: &[u8] = b"Nice to meet you!\n";
const NAME: &str = if cfg!(feature = "echo") { "echo" } else { "VM2" };

/// Serves forever.
pub fn run(nic: Nic, clock: &mut TickClock) -> ! {
    let mut resources = Resources::<8>::new();
    let mut node: Node<Nic> = Node::new(nic, name(NAME.as_bytes()), Config::default(), &mut resources);
    defmt::info!(
        "{=str} listening as {}; the node takes {} bytes and its resources {}",
        NAME,
        node.mac_address(),
        size_of::<Node<Nic>>(),
        size_of::<Resources>()
    );
    let mut handler = from_fn(|ctx: &mut Context<'_, Nic, ()>, event: Event<'_>| match event {
        Event::Answered { requester } => defmt::info!("answered a request for {=str} from {}", NAME, requester),
        Event::Data { from, payload, .. } if cfg!(feature = "echo") => {
            if let Err(err) = ctx.send_to_address(from, payload) {
                defmt::warn!("no echo to {}: {}", from, err);
            }
        }
        Event::Data { from, payload, .. } => {
            // `:a` prints the bytes as an escaped string: never raw.
            defmt::info!("data from {}: {=[u8]:a}", from, payload);
            if let Err(err) = ctx.send_to_address(from, REPLY) {
                defmt::warn!("no answer to {}: {}", from, err);
            }
            report(ctx.stats(), ctx.device().stats());
        }
        _ => {}
    });
    loop {
        if let Err(err) = node.run(clock, &mut handler) {
            defmt::error!("the LAN9118 failed: {}", err);
            board::exit(3);
        }
    }
}
