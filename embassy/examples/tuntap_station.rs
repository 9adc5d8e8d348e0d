//! A whohas station on an embassy-net driver, run by an embassy task:
//! `embassy-net-tuntap`'s tap driver under [`EmbassyDevice`], and a node
//! with presence and the reliable transfer that claims NAME, shows each
//! message it receives and answers it. Between polls the task sleeps until
//! the driver wakes it (a frame came) or the node's next deadline, never
//! polling in a loop.
//!
//! ```text
//! tuntap_station TAP NAME
//! ```

use std::future::poll_fn;
use std::task::Poll;

use embassy_futures::select::select;
use embassy_futures::yield_now;
use embassy_net_tuntap::TunTapDevice;
use embassy_time::Timer;
use whohas_core::presence::{Presence, PresenceConfig, PresenceEvent};
use whohas_core::runtime::{Context, Handler};
use whohas_core::service::Either;
use whohas_core::time::{Duration, Instant};
use whohas_core::transfer::{Transfer, TransferConfig, TransferEvent};
use whohas_core::wire::escape::Escaped;
use whohas_core::{Config, Event, Name, Node, Resources};
use whohas_embassy::EmbassyDevice;

const REPLY: &[u8] = b"hello from embassy";

type Device = EmbassyDevice<TunTapDevice>;
type Hosted<'a> = (&'a mut Presence<64>, &'a mut Transfer<4, 16>);

fn fail(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("tuntap_station: {what}: {err}");
    std::process::exit(2)
}

#[embassy_executor::main]
async fn main(_spawner: embassy_executor::Spawner) {
    env_logger::init();
    let args: Vec<String> = std::env::args().collect();
    let [_, tap, name] = &args[..] else { fail("usage", "tuntap_station TAP NAME") };
    let name = Name::try_from(name.as_str()).unwrap_or_else(|err| fail("the name", err));
    let driver = TunTapDevice::new(tap).unwrap_or_else(|err| fail(&format!("cannot open the tap {tap}"), err));
    let device = EmbassyDevice::new(driver).unwrap_or_else(|err| fail(tap, err));
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).unwrap_or_else(|err| fail("no random seed", err));
    let seed = u64::from_ne_bytes(seed);
    // Short timers, as the tests' chats use: gone 3 s after the last word.
    let config = PresenceConfig {
        keepalive: Duration::from_secs(1),
        expiry: Duration::from_secs(3),
        ..PresenceConfig::default()
    };
    let mut presence = Presence::<64>::new(config, seed);
    presence.start();
    let mut transfer = Transfer::<4, 16>::new(TransferConfig::default(), seed.rotate_left(32));
    let mut resources = Resources::<64>::new();
    let mut node = Node::with_services(device, name, Config::default(), &mut resources, (&mut presence, &mut transfer));
    println!("{} on {tap} ({}) over embassy-net-tuntap", node.name(), node.mac_address());

    let mut handler = Station;
    let start = embassy_time::Instant::now();
    loop {
        // The driver registers this task's waker when it has no frame.
        let waker = poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
        node.device_mut().set_waker(&waker);
        let now = Instant::from_micros(start.elapsed().as_micros());
        let Ok(next) = node.poll(now, &mut handler);
        match next {
            Some(due) if due <= now => yield_now().await,
            Some(due) => {
                select(Timer::at(start + embassy_time::Duration::from_micros(due.total_micros())), woken()).await;
            }
            None => woken().await,
        }
    }
}

/// Shows what happens and answers every message.
struct Station;

impl<'a> Handler<Device, Hosted<'a>> for Station {
    fn on_event(
        &mut self,
        ctx: &mut Context<'_, Device, Hosted<'a>>,
        event: Event<'_, Either<PresenceEvent, TransferEvent<'_>>>,
    ) {
        match event {
            Event::Service(Either::Left(event)) => println!("{event:?}"),
            Event::Service(Either::Right(TransferEvent::Message { from, data, .. })) => {
                println!("message from {from}: {}", Escaped::new(data));
                let now = ctx.now();
                if let Err(err) = ctx.services().1.send_message(&from, REPLY, now) {
                    println!("no answer to {from}: {err}");
                }
            }
            Event::Service(Either::Right(TransferEvent::Delivered { id })) => println!("delivered {id:?}"),
            _ => {}
        }
    }
}

/// Resolves when the task is polled again: the driver woke it.
async fn woken() {
    let mut parked = false;
    poll_fn(|_| if std::mem::replace(&mut parked, true) { Poll::Ready(()) } else { Poll::Pending }).await
}
