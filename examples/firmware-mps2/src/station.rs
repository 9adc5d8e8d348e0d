//! The `station` image: a microcontroller in the chat room. It claims its
//! name ("mcu" unless `WHOHAS_STATION_NAME` says otherwise at build time)
//! by presence, receives chat messages over the reliable transfer and
//! answers each, logging every event. The message "bye" makes it say
//! goodbye to the room and stop QEMU (status 0), as a board would before
//! it powers down. With the `ip` feature it also runs IPv4 (smoltcp) on
//! the same NIC, as a third service of the node.

use core::convert::Infallible;

use whohas_core::node::Node;
use whohas_core::presence::{Presence, PresenceConfig, PresenceEvent};
use whohas_core::runtime::{Context, Handler};
use whohas_core::service::Either;
use whohas_core::station::{Config, Event, Resources};
use whohas_core::time::Instant;
use whohas_core::transfer::{Transfer, TransferConfig, TransferEvent, status};

use crate::{Nic, TickClock, board, name, report};

/// The presence table: the eight stations heard most recently.
type StationPresence = Presence<8>;
/// Two connections at once (a message connection each way with one
/// peer, or one with each of two), four segments in flight each.
type StationTransfer = Transfer<2, 4>;

#[cfg(feature = "ip")]
type Ip<'a> = crate::ip::IpStack<'a>;
/// No IP stack: a service that takes no frame.
#[cfg(not(feature = "ip"))]
type Ip<'a> = ();

/// What the node hosts: presence, the transfer and (with `ip`) IPv4.
type Services<'a> = (&'a mut StationPresence, (&'a mut StationTransfer, Ip<'a>));

const NAME: &str = match option_env!("WHOHAS_STATION_NAME") {
    Some(name) => name,
    None => "mcu",
};
/// The answer to every message.
const REPLY: &[u8] = b"hello from the microcontroller";

/// The message that makes the station leave.
const BYE: &[u8] = b"bye";

struct Chat {
    /// Asked to leave: stop once the goodbye is out.
    leaving: bool,
}

impl<'a> Handler<Nic, Services<'a>> for Chat {
    fn on_event(
        &mut self,
        ctx: &mut Context<'_, Nic, Services<'a>>,
        event: Event<'_, Either<PresenceEvent, Either<TransferEvent<'_>, Infallible>>>,
    ) {
        match event {
            Event::Service(Either::Left(event)) => presence_event(event),
            Event::Service(Either::Right(Either::Left(TransferEvent::Message { from, data, .. }))) if data == BYE => {
                defmt::info!("{} said bye: saying goodbye", from);
                ctx.services().0.leave();
                self.leaving = true;
            }
            Event::Service(Either::Right(Either::Left(event))) => transfer_event(ctx, event),
            Event::Service(Either::Right(Either::Right(never))) => match never {},
            Event::Answered { requester } => defmt::info!("answered a request for {=str} from {}", NAME, requester),
            _ => {}
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, Nic, Services<'a>>) -> Option<Instant> {
        if !self.leaving {
            return None;
        }
        if !ctx.services().0.is_leaving() {
            defmt::info!("goodbye sent: stopping");
            board::exit(0)
        }
        // The goodbye goes out at this poll's end: poll again at once.
        Some(ctx.now())
    }
}

fn presence_event(event: PresenceEvent) {
    match event {
        PresenceEvent::Claimed { name } => defmt::info!("{} claimed: listening", name),
        PresenceEvent::NameTaken { name, by } => {
            defmt::error!("the name {} is taken by {}", name, by);
            board::exit(4)
        }
        other => defmt::info!("presence: {}", other),
    }
}

fn transfer_event(ctx: &mut Context<'_, Nic, Services<'_>>, event: TransferEvent<'_>) {
    let now = ctx.now();
    match event {
        TransferEvent::Message { from, data, .. } => {
            // `:a` prints the bytes as an escaped string: never raw.
            defmt::info!("message from {}: {=[u8]:a}", from, data);
            report_all(ctx);
            let transfer = &mut *ctx.services().1.0;
            match transfer.send_message(&from, REPLY, now) {
                Ok(id) => defmt::info!("answering {} ({})", from, id),
                Err(err) => defmt::warn!("no answer to {}: {}", from, err),
            }
        }
        TransferEvent::Incoming { conn, from, messages: false, .. } => {
            defmt::info!("refusing a stream from {}: messages only", from);
            let _ = ctx.services().1.0.reject(conn, status::REFUSED);
        }
        other => defmt::info!("transfer: {}", other),
    }
}

/// Serves forever.
pub fn run(mut nic: Nic, clock: &mut TickClock) -> ! {
    // Entropy: the NIC's 25 MHz free-running counter at boot (QEMU starts
    // it from the host's clock) and the MAC address.
    let mac = whohas_core::device::LinkDevice::mac_address(&nic);
    let seed = u64::from(nic.free_run()) << 32
        ^ u64::from_be_bytes([0, 0, mac.0[0], mac.0[1], mac.0[2], mac.0[3], mac.0[4], mac.0[5]]);
    let mut presence = StationPresence::new(PresenceConfig::default(), seed);
    presence.start();
    let mut transfer = StationTransfer::new(TransferConfig::default(), seed.rotate_left(17));
    let mut resources = Resources::<8>::new();
    #[cfg(feature = "ip")]
    let mut ip_resources = crate::ip::IpResources::new();
    #[cfg(feature = "ip")]
    let ip = {
        let Some(address) = crate::ip::configured_address() else {
            defmt::error!("WHOHAS_STATION_IPV4 is not an IPv4 address with a prefix length, like 198.18.7.2/24");
            board::exit(102)
        };
        defmt::info!(
            "IPv4 {} on {}; the stack takes {} bytes and its resources {}",
            address,
            mac,
            size_of::<Ip>(),
            size_of::<crate::ip::IpResources>()
        );
        crate::ip::IpStack::new(mac, address, seed.rotate_left(41), &mut ip_resources)
    };
    #[cfg(not(feature = "ip"))]
    let ip = ();
    let services: Services<'_> = (&mut presence, (&mut transfer, ip));
    let mut node: Node<Nic, Services<'_>> =
        Node::with_services(nic, name(NAME.as_bytes()), Config::default(), &mut resources, services);
    defmt::info!(
        "{=str} starting as {}; the node takes {} bytes and its resources {}, presence {}, the transfer {}",
        NAME,
        node.mac_address(),
        size_of::<Node<Nic, Services<'_>>>(),
        size_of::<Resources>(),
        size_of::<StationPresence>(),
        size_of::<StationTransfer>()
    );
    loop {
        if let Err(err) = node.run(clock, &mut Chat { leaving: false }) {
            defmt::error!("the LAN9118 failed: {}", err);
            board::exit(3);
        }
    }
}

/// The counters of the node, the NIC and the IP stack.
fn report_all(ctx: &mut Context<'_, Nic, Services<'_>>) {
    report(ctx.stats(), ctx.device().stats());
    let presence = ctx.services().0.stats();
    defmt::info!(
        "presence counters: frames_received={} rx_malformed={} table_full={} events_dropped={}",
        presence.frames_received,
        presence.rx_malformed,
        presence.table_full,
        presence.events_dropped
    );
    #[cfg(feature = "ip")]
    {
        let ip = *ctx.services().1.1.stats();
        defmt::info!(
            "ip counters: rx_arp={} rx_ipv4={} rx_ipv4_malformed={} rx_icmp_bad_checksum={} udp_echoed={} tx_frames={} tx_dropped={}",
            ip.rx_arp,
            ip.rx_ipv4,
            ip.rx_ipv4_malformed,
            ip.rx_icmp_bad_checksum,
            ip.udp_echoed,
            ip.tx_frames,
            ip.tx_dropped
        );
    }
}
