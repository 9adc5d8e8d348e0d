//! VM1 of the seed: finds "VM2" by name, sends it the seed's two messages
//! (the second to the cached address), and waits for each answer. Exit
//! status 0 when both were answered, 1 if VM2 never answered its name, 2
//! if it did not answer a message within 5 s.

use whohas_core::node::Node;
use whohas_core::runtime::Context;
use whohas_core::runtime::Handler;
use whohas_core::station::{Config, Event, Resources};
use whohas_core::time::{Duration, Instant};
use whohas_core::wire::Name;

use crate::{Nic, TickClock, name, report};

const MESSAGES: [&[u8]; 2] =
    [b"Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!", b"I'm Glad to meet you again."];
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

struct Greeter {
    peer: Name,
    /// Messages answered so far.
    answered: usize,
    /// When the message on its way must be answered by.
    deadline: Instant,
    status: Option<u32>,
}

impl Greeter {
    fn send_next(&mut self, ctx: &mut Context<'_, Nic, ()>) {
        let now = ctx.now();
        self.deadline = now + ANSWER_WITHIN;
        if let Err(err) = ctx.send(&self.peer, MESSAGES[self.answered]) {
            defmt::error!("cannot send: {}", err);
            self.status = Some(2);
        }
    }
}

impl Handler<Nic> for Greeter {
    fn on_event(&mut self, ctx: &mut Context<'_, Nic, ()>, event: Event<'_>) {
        match event {
            Event::Resolved { name, hardware_addr, .. } => defmt::info!("{} is at {}", name, hardware_addr),
            Event::ResolutionFailed { name, .. } => {
                defmt::error!("no answer from {}", name);
                self.status = Some(1);
            }
            Event::Data { from, payload, .. } if ctx.lookup(&self.peer) == Some(from) => {
                defmt::info!("received from VM2: {=[u8]:a}", payload);
                self.answered += 1;
                if self.answered == MESSAGES.len() {
                    report(ctx.stats(), ctx.device().stats());
                    self.status = Some(0);
                } else {
                    self.send_next(ctx);
                }
            }
            _ => {}
        }
        if self.status.is_some() {
            ctx.stop();
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, Nic, ()>) -> Option<Instant> {
        if ctx.lookup(&self.peer).is_some() && ctx.now() >= self.deadline {
            defmt::error!("VM2 did not answer message {} within 5 s", self.answered + 1);
            self.status = Some(2);
            ctx.stop();
        }
        Some(self.deadline)
    }
}

/// Greets VM2; the exit status.
pub fn run(nic: Nic, clock: &mut TickClock) -> u32 {
    let config = Config { max_attempts: 3, retry_interval: Duration::from_secs(1), ..Config::default() };
    let mut resources = Resources::<8>::new();
    let mut node: Node<Nic> = Node::new(nic, name(b"VM1"), config, &mut resources);
    let mut greeter = Greeter { peer: name(b"VM2"), answered: 0, deadline: Instant::ZERO, status: None };
    let now = clock.read();
    defmt::info!("VM1 at {}: who has VM2?", node.mac_address());
    greeter.deadline = now + ANSWER_WITHIN;
    if let Err(err) = node.at(now).send(&greeter.peer, MESSAGES[0]) {
        defmt::error!("cannot send: {}", err);
        return 2;
    }
    while greeter.status.is_none() {
        if let Err(err) = node.run(clock, &mut greeter) {
            defmt::error!("the LAN9118 failed: {}", err);
            return 3;
        }
    }
    greeter.status.unwrap_or(3)
}
