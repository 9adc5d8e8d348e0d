//! The runtime: handlers act on each event, one responder serves many
//! clients at once, and the run loop sleeps on its clock, also while the
//! device is full.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::*;
use whohas_core::device::{LinkDevice, Segment, SegmentPort};
use whohas_core::node::Node;
use whohas_core::runtime::{Clock, DelayClock, Flow, Handler, from_fn};
use whohas_core::runtime::{Context, NodeEvent};
use whohas_core::service::Service;
use whohas_core::station::{Config, Event};
use whohas_core::time::{Duration, Instant};
use whohas_core::wire::{EthernetAddress, Name};

const ANSWER: &[u8] = b"Nice to meet you!\n";

/// VM2's behaviour: answer every message with "Nice to meet you!".
struct Responder {
    answered: usize,
}

impl<D: LinkDevice, S: Service> Handler<D, S> for Responder {
    fn on_event(&mut self, ctx: &mut Context<'_, D, S>, event: NodeEvent<'_, S>) {
        if let Event::Data { from, .. } = event {
            ctx.send_to_address(from, ANSWER).unwrap();
            self.answered += 1;
        }
    }
}

#[test]
fn one_responder_answers_fifty_clients_greeting_it_at_once_for_twenty_rounds() {
    const CLIENTS: usize = 50;
    const ROUNDS: usize = 20;
    let hub = Hub::new();
    let mut vm2: Node<HubPort> = Node::new(hub.attach(VM2), name("VM2"), Config::default(), common::resources());
    let mut clients: Vec<Node<HubPort>> = (1..=CLIENTS)
        .map(|i| {
            let mac = EthernetAddress([2, 0, 0, 1, 0, i as u8]);
            Node::new(
                hub.attach(mac),
                Name::try_from(format!("c{i}").as_str()).unwrap(),
                Config::default(),
                common::resources(),
            )
        })
        .collect();
    let mut responder = Responder { answered: 0 };
    let mut answers = 0;
    let mut now = Instant::from_secs(1);
    for round in 0..ROUNDS {
        for client in &mut clients {
            client.at(now).send(&name("VM2"), format!("hello from round {round}").as_bytes()).unwrap();
        }
        let mut got = [false; CLIENTS];
        // Everything settles within a few polls; 2 s of simulated time is the limit.
        for _ in 0..200 {
            vm2.poll(now, &mut responder).unwrap();
            for (i, client) in clients.iter_mut().enumerate() {
                client
                    .poll(
                        now,
                        &mut from_fn(|_, event| {
                            if let Event::Data { payload, from_name, .. } = event {
                                assert_eq!((payload, from_name), (ANSWER, Some(name("VM2"))));
                                got[i] = true;
                            }
                        }),
                    )
                    .unwrap();
            }
            if got.iter().all(|&g| g) && hub.in_flight() == 0 {
                break;
            }
            now += Duration::from_millis(10);
        }
        answers += got.iter().filter(|&&g| g).count();
    }
    assert_eq!(answers, CLIENTS * ROUNDS, "every greeting of every round answered");
    assert_eq!(responder.answered, CLIENTS * ROUNDS);
}

/// A simulated clock: it never sleeps, it jumps to the deadline, and it
/// records how it was asked to wait.
struct Jumping {
    now: Instant,
    end: Instant,
    waits: usize,
    writable_waits: usize,
}

impl<D: LinkDevice> Clock<D> for Jumping {
    fn now(&mut self, _: &D) -> Instant {
        self.now
    }

    fn wait(&mut self, _: &mut D, deadline: Option<Instant>, writable: bool) -> Result<Flow, D::Error> {
        self.waits += 1;
        self.writable_waits += usize::from(writable);
        match deadline {
            Some(deadline) if deadline < self.end => {
                self.now = self.now.max(deadline);
                Ok(Flow::Continue)
            }
            _ => Ok(Flow::End),
        }
    }
}

#[test]
fn a_full_device_makes_the_loop_wait_for_room_not_spin() {
    let segment: Segment<2, 16> = Segment::new();
    let (gate, busy) = Gate::new(segment.attach(VM2).unwrap());
    let mut vm2: Node<_> = Node::new(gate, name("VM2"), Config::default(), common::resources());
    busy.set(true);
    vm2.at(Instant::ZERO).send_to_address(VM1, b"waiting for room").unwrap();
    let mut clock = Jumping { now: Instant::ZERO, end: Instant::from_secs(1), waits: 0, writable_waits: 0 };
    vm2.run(&mut clock, &mut from_fn(|_, _| {})).unwrap();
    // One second of a full device: a wait for room at most every 10 ms.
    assert!(clock.waits <= 101, "{} waits in one second", clock.waits);
    assert_eq!(clock.writable_waits, clock.waits, "every wait asks for room");
    busy.set(false);
    let mut vm1 = segment.attach(VM1).unwrap();
    vm2.poll(clock.now, &mut from_fn(|_, _| {})).unwrap();
    assert_eq!(drain(&mut vm1).len(), 1, "sent once the device had room");
}

#[test]
fn run_returns_when_the_handler_stops_it() {
    let segment: Segment<2, 16> = Segment::new();
    let mut vm2: Node<SegmentPort<'_, 2, 16>> =
        Node::new(segment.attach(VM2).unwrap(), name("VM2"), Config::default(), common::resources());
    let mut vm1 = segment.attach(VM1).unwrap();
    vm1.transmit(&frame(VM1, VM2, 0xfffd, b"stop now")).unwrap();
    let mut clock = DelayClock::new(NoDelay::default(), Instant::ZERO);
    vm2.run(
        &mut clock,
        &mut from_fn(|ctx, event| {
            if let Event::Data { payload: b"stop now", .. } = event {
                ctx.stop();
            }
        }),
    )
    .unwrap();
    assert_eq!(vm2.stats().data.rx, 1);
}

/// A delay that returns at once, counting the time asked for.
#[derive(Default)]
struct NoDelay {
    slept: Rc<Cell<u64>>,
}

impl embedded_hal::delay::DelayNs for NoDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.slept.set(self.slept.get() + u64::from(ns));
    }
}

/// A delay that, while "sleeping", lets VM2 run: two stations on one
/// segment without threads or a clock, as on a pair of microcontrollers.
struct PeerRunsDuringDelay<'a, 'b> {
    peer: &'b mut Node<'a, SegmentPort<'a, 4, 32>>,
    slept: Duration,
}

impl embedded_hal::delay::DelayNs for PeerRunsDuringDelay<'_, '_> {
    fn delay_ns(&mut self, ns: u32) {
        self.slept = self.slept + Duration::from_micros(u64::from(ns / 1_000));
        self.peer.poll(Instant::ZERO + self.slept, &mut from_fn(|_, _| {})).unwrap();
    }
}

#[test]
fn blocking_resolve_with_an_embedded_hal_delay() {
    use whohas_core::blocking::{self, BlockingError};
    let segment: Segment<4, 32> = Segment::new();
    let mut vm1: Node<SegmentPort<'_, 4, 32>> =
        Node::new(segment.attach(VM1).unwrap(), name("VM1"), Config::default(), common::resources());
    let mut vm2 = Node::new(segment.attach(VM2).unwrap(), name("VM2"), Config::default(), common::resources());
    let mut clock = DelayClock::new(PeerRunsDuringDelay { peer: &mut vm2, slept: Duration::ZERO }, Instant::ZERO);
    let mac = blocking::resolve(&mut vm1, &name("VM2"), &mut clock, &mut from_fn(|_, _| {})).unwrap();
    assert_eq!(mac, VM2);
    let answered_at = clock.now();
    assert!(answered_at <= Instant::from_millis(2), "answered within a step or two: {answered_at}");
    let nobody = blocking::resolve(&mut vm1, &name("VM9"), &mut clock, &mut from_fn(|_, _| {}));
    assert_eq!(nobody, Err(BlockingError::NoAnswer));
    assert!(clock.now() - answered_at >= Duration::from_secs(3), "three attempts a second apart: {}", clock.now());
}
