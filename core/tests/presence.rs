//! Presence on an in-memory hub: probing, announcing, answers to newcomers,
//! goodbyes, expiry, conflicts and name defence, stations running the
//! original protocol, and 500 stations converging under loss.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{Hub, HubPort, name};
use whohas_core::device::{FaultConfig, FaultInjector};
use whohas_core::node::Node;
use whohas_core::presence::{Presence, PresenceConfig, PresenceEvent, PresenceState, Source};
use whohas_core::runtime::from_fn;
use whohas_core::station::{Config, Event};
use whohas_core::time::{Duration, Instant};
use whohas_core::wire::presence::{PresenceKind, PresenceRepr};
use whohas_core::wire::{EtherType, EthernetAddress, Name};

const FAULTLESS: FaultConfig =
    FaultConfig { drop_percent: 0, duplicate_percent: 0, corrupt_percent: 0, reorder_percent: 0 };

type Station<const N: usize> = Node<'static, FaultInjector<HubPort>, Presence<N>>;

fn mac(i: u16) -> EthernetAddress {
    EthernetAddress([2, 0, 0, 0, (i >> 8) as u8, i as u8])
}

fn station<const N: usize>(hub: &Rc<Hub>, i: u16, station_name: &str, loss: u8) -> Box<Station<N>> {
    let faults = FaultConfig { drop_percent: loss, ..FAULTLESS };
    let port = FaultInjector::new(hub.attach(mac(i)), faults, FAULTLESS, u64::from(i) + 1);
    Box::new(Node::with_services(
        port,
        name(station_name),
        Config::default(),
        common::resources(),
        Presence::new(PresenceConfig::default(), u64::from(i) * 7919 + 3),
    ))
}

/// Stations on one hub in simulated time: frames cross in 1 ms, idle
/// stretches jump to the next deadline. Each station's events are recorded.
struct Sim<const N: usize> {
    hub: Rc<Hub>,
    now: Instant,
    stations: Vec<Box<Station<N>>>,
    events: Vec<Vec<(Instant, PresenceEvent)>>,
    /// Stations that stopped (crashed): never polled again.
    dead: Vec<bool>,
    /// When each station next needs a poll without a frame arriving.
    next: Vec<Option<Instant>>,
}

const HOP: Duration = Duration::from_millis(1);

impl<const N: usize> Sim<N> {
    fn new(hub: Rc<Hub>, stations: Vec<Box<Station<N>>>) -> Self {
        let count = stations.len();
        Sim {
            hub,
            now: Instant::ZERO,
            stations,
            events: vec![Vec::new(); count],
            dead: vec![false; count],
            next: vec![Some(Instant::ZERO); count],
        }
    }

    fn start(&mut self, i: usize) {
        self.stations[i].services_mut().start();
        self.next[i] = Some(self.now);
    }

    fn leave(&mut self, i: usize) {
        self.stations[i].services_mut().leave();
        self.next[i] = Some(self.now);
    }

    /// Polls every station with a frame waiting or a deadline due; returns
    /// the earliest deadline.
    fn poll(&mut self) -> Option<Instant> {
        let now = self.now;
        for (i, node) in self.stations.iter_mut().enumerate() {
            let waiting = node.device().inner().pending() > 0;
            if self.dead[i] {
                // A crashed station's port still fills; empty it.
                while whohas_core::LinkDevice::receive(node.device_mut(), &mut [0u8; 1514]).is_ok() {}
                continue;
            }
            if !waiting && self.next[i].is_none_or(|at| at > now) {
                continue;
            }
            let events = RefCell::new(&mut self.events[i]);
            self.next[i] = node
                .poll(
                    now,
                    &mut from_fn(|_, event| {
                        if let Event::Service(event) = event {
                            events.borrow_mut().push((now, event));
                        }
                    }),
                )
                .unwrap();
        }
        self.next.iter().zip(&self.dead).filter(|(_, dead)| !**dead).filter_map(|(at, _)| *at).min()
    }

    /// Runs for `span` of simulated time.
    fn run(&mut self, span: Duration) {
        let end = self.now + span;
        while self.now < end {
            let next = self.poll();
            self.now = match next {
                _ if self.hub.in_flight() > 0 => self.now + HOP,
                Some(at) if at > self.now => at.min(end),
                _ => self.now + HOP,
            };
        }
    }

    fn presence(&self, i: usize) -> &Presence<N> {
        self.stations[i].services()
    }

    fn names_known_by(&self, i: usize) -> Vec<String> {
        let mut names: Vec<String> = self.presence(i).table().iter().map(|p| p.name.to_string()).collect();
        names.sort();
        names
    }

    fn saw(&self, i: usize, wanted: &PresenceEvent) -> Option<Instant> {
        self.events[i].iter().find(|(_, event)| event == wanted).map(|(at, _)| *at)
    }
}

fn start_all<const N: usize>(sim: &mut Sim<N>) {
    for i in 0..sim.stations.len() {
        sim.start(i);
    }
}

#[test]
fn a_newcomer_learns_the_segment_within_a_second_and_everyone_learns_it() {
    let hub = Hub::new();
    let stations = (1..=11).map(|i| station::<16>(&hub, i, &format!("s{i}"), 0)).collect();
    let mut sim = Sim::new(hub, stations);
    for i in 0..10 {
        sim.start(i);
    }
    sim.run(Duration::from_secs(5));
    assert!((0..10).all(|i| sim.presence(i).state() == PresenceState::Present));
    assert!((0..10).all(|i| sim.presence(i).table().len() == 9), "the first ten know each other");

    let joined_at = sim.now;
    sim.start(10);
    sim.run(Duration::from_secs(2));
    assert_eq!(sim.presence(10).table().len(), 10, "the newcomer knows everyone: {:?}", sim.names_known_by(10));
    let learned = sim.events[10].iter().filter(|(_, e)| matches!(e, PresenceEvent::Joined { .. })).map(|(at, _)| *at);
    let last = learned.max().unwrap();
    // 3 probes 250 ms apart, then answers within 500 ms of the announcement.
    assert!(last - joined_at <= Duration::from_millis(1300), "learned the segment in {}", last - joined_at);
    let newcomer = PresenceEvent::Joined { name: name("s11"), mac: mac(11) };
    assert!((0..10).all(|i| sim.saw(i, &newcomer).is_some()), "everyone saw s11 join");
    // Answers were coalesced: each old station answered the newcomer once.
    let sent: Vec<u64> = (0..10).map(|i| sim.presence(i).stats().frames_sent).collect();
    assert!(sent.iter().all(|&n| n <= 3 + 2 + 10), "{sent:?}");
}

#[test]
fn goodbye_means_left_and_silence_means_disappeared() {
    let hub = Hub::new();
    let stations = (1..=3).map(|i| station::<8>(&hub, i, &format!("s{i}"), 0)).collect();
    let mut sim = Sim::new(hub, stations);
    start_all(&mut sim);
    sim.run(Duration::from_secs(3));
    sim.leave(1);
    sim.run(Duration::from_millis(10));
    assert!(sim.saw(0, &PresenceEvent::Left { name: name("s2"), mac: mac(2) }).is_some());
    assert_eq!(sim.names_known_by(0), ["s3"]);

    let crashed_at = sim.now;
    sim.dead[2] = true;
    let expiry = PresenceConfig::default().expiry;
    sim.run(expiry + Duration::from_secs(10));
    let gone = sim.saw(0, &PresenceEvent::Disappeared { name: name("s3"), mac: mac(3) });
    let gone = gone.unwrap_or_else(|| {
        panic!(
            "s3 disappeared: {:?} {:?} {:?} {:?}",
            sim.events[0],
            sim.now,
            sim.next,
            sim.presence(0).table().iter().collect::<Vec<_>>()
        )
    });
    let silence = gone - crashed_at;
    // Last heard up to one keep-alive (11 s) before the crash.
    assert!(
        silence >= expiry - Duration::from_secs(11) && silence <= expiry + Duration::from_secs(1),
        "after {silence}"
    );
    assert!(sim.presence(0).table().is_empty());
    // A station that left is not reported as disappearing later.
    assert!(sim.saw(0, &PresenceEvent::Disappeared { name: name("s2"), mac: mac(2) }).is_none());
}

#[test]
fn a_taken_name_is_never_announced() {
    let hub = Hub::new();
    let stations =
        vec![station::<8>(&hub, 1, "alice", 0), station::<8>(&hub, 2, "bob", 0), station::<8>(&hub, 3, "alice", 0)];
    let mut sim = Sim::new(hub, stations);
    // The second alice is switched on later (a node answers for its name
    // from the start, presence or not).
    sim.dead[2] = true;
    sim.start(0);
    sim.start(1);
    sim.run(Duration::from_secs(3));
    sim.dead[2] = false;
    sim.start(2);
    sim.run(Duration::from_secs(3));
    assert_eq!(
        sim.presence(2).state(),
        PresenceState::NameTaken,
        "{:?} {:?} {:?}",
        sim.events,
        sim.presence(0).stats(),
        sim.presence(2).stats()
    );
    assert!(sim.saw(2, &PresenceEvent::NameTaken { name: name("alice"), by: mac(1) }).is_some());
    assert_eq!(sim.names_known_by(1), ["alice"], "bob never saw the second alice");
    assert_eq!(sim.presence(0).state(), PresenceState::Present);
    // The impostor does not answer name-ARP for the name either.
    assert!(sim.stations[2].stats().name_arp.replies_sent == 0);
}

#[test]
fn two_stations_probing_one_name_at_once_leave_it_to_the_lower_mac() {
    let hub = Hub::new();
    let stations = vec![station::<8>(&hub, 7, "same", 0), station::<8>(&hub, 4, "same", 0)];
    let mut sim = Sim::new(hub, stations);
    start_all(&mut sim);
    sim.run(Duration::from_secs(3));
    assert_eq!(sim.presence(1).state(), PresenceState::Present, "02:00:00:00:00:04 keeps it");
    assert_eq!(sim.presence(0).state(), PresenceState::NameTaken);
}

#[test]
fn a_station_of_the_original_protocol_defends_its_name_and_is_listed_once_resolved() {
    let hub = Hub::new();
    // A plain node: name-ARP only, no presence (like the original C program).
    let mut original: Node<HubPort> =
        Node::new(hub.attach(mac(9)), name("legacy"), Config::default(), common::resources());
    let stations = vec![station::<8>(&hub, 1, "legacy", 0), station::<8>(&hub, 2, "watcher", 0)];
    let mut sim = Sim::new(hub, stations);
    start_all(&mut sim);
    for _ in 0..3000 {
        sim.poll();
        original.poll(sim.now, &mut from_fn(|_, _| {})).unwrap();
        sim.now += HOP;
    }
    assert_eq!(sim.presence(0).state(), PresenceState::NameTaken);
    assert!(sim.saw(0, &PresenceEvent::NameTaken { name: name("legacy"), by: mac(9) }).is_some());
    // The watcher lists it once it has resolved it, marked as such.
    assert_eq!(sim.presence(1).table().len(), 0);
    sim.stations[1].at(sim.now).send(&name("legacy"), b"hi").unwrap();
    sim.next[1] = Some(sim.now);
    for _ in 0..100 {
        sim.poll();
        original.poll(sim.now, &mut from_fn(|_, _| {})).unwrap();
        sim.now += HOP;
    }
    let peer = sim.presence(1).table().get(&name("legacy")).expect("listed once resolved");
    assert_eq!((peer.mac, peer.source), (mac(9), Source::Resolved));
}

/// An announcement of `claimed` from `from`, forged onto the hub.
fn forged_announce(hub: &Rc<Hub>, from: EthernetAddress, claimed: &str) {
    let repr = PresenceRepr {
        kind: PresenceKind::Announce,
        answer: false,
        epoch: 1,
        expiry_secs: 30,
        name: Name::try_from(claimed).unwrap(),
    };
    let mut frame = vec![0xff; 6];
    frame.extend_from_slice(&from.0);
    frame.extend_from_slice(&EtherType::PRESENCE.0.to_be_bytes());
    let start = frame.len();
    frame.resize(start + repr.buffer_len(), 0);
    repr.emit(&mut frame[start..]);
    let mut attacker = hub.attach(from);
    whohas_core::LinkDevice::transmit(&mut attacker, &frame).unwrap();
}

#[test]
fn a_second_station_claiming_a_name_is_flagged_and_the_owner_defends_it() {
    let hub = Hub::new();
    let stations = (1..=3).map(|i| station::<8>(&hub, i, &format!("s{i}"), 0)).collect();
    let mut sim = Sim::new(hub.clone(), stations);
    start_all(&mut sim);
    sim.run(Duration::from_secs(3));
    let defences_before = sim.presence(0).stats().defences;
    forged_announce(&hub, mac(66), "s1");
    sim.run(Duration::from_millis(10));
    let conflict = PresenceEvent::Conflict { name: name("s1"), known: mac(1), other: mac(66) };
    assert!(sim.saw(0, &conflict).is_some(), "the owner reports it: {:?}", sim.events[0]);
    assert!(sim.saw(1, &conflict).is_some(), "the others flag it: {:?}", sim.events[1]);
    assert_eq!(sim.presence(0).stats().defences, defences_before + 1, "the owner announced at once");
    // Never merged: both claims are in the table, both contested.
    let table = sim.presence(1).table();
    let claims: Vec<_> = table.iter().filter(|p| p.name == name("s1")).collect();
    assert_eq!(claims.len(), 2);
    assert!(claims.iter().all(|p| table.is_contested(p)));
    assert_eq!(table.get(&name("s1")).unwrap().mac, mac(1), "the first one seen stays the one named");
    // Presence never fills the resolution cache.
    assert_eq!(sim.stations[1].at(sim.now).lookup(&name("s1")), None);
    assert_eq!(sim.stations[1].at(sim.now).lookup(&name("s3")), None);
}

#[test]
fn a_flood_of_forged_stations_fills_the_table_and_nothing_more() {
    let hub = Hub::new();
    let stations = (1..=2).map(|i| station::<8>(&hub, i, &format!("s{i}"), 0)).collect();
    let mut sim = Sim::new(hub.clone(), stations);
    start_all(&mut sim);
    sim.run(Duration::from_secs(3));
    for i in 0..100 {
        forged_announce(&hub, mac(1000 + i), &format!("fake{i}"));
    }
    sim.run(Duration::from_millis(10));
    let table = sim.presence(0).table();
    assert_eq!(table.len(), 8);
    assert!(table.get(&name("s2")).is_some(), "the real station stays");
    assert_eq!(sim.presence(0).stats().table_full, 100 - 7);
}

/// 500 stations joining within two seconds on a segment losing 5 % of the
/// frames at each receiver: every table converges. Prints the frame rates
/// for BENCHMARKS.md (bench/presence.sh).
#[test]
fn five_hundred_stations_converge_under_loss() {
    const COUNT: u16 = 500;
    let hub = Hub::new();
    let stations = (1..=COUNT).map(|i| station::<512>(&hub, i, &format!("station-{i:03}"), 5)).collect();
    let mut sim = Sim::new(hub, stations);
    // Stations start at random moments within the first two seconds.
    let mut rng = whohas_core::rng::Rng::new(2026);
    let mut starts: Vec<(Instant, usize)> =
        (0..usize::from(COUNT)).map(|i| (Instant::from_millis(rng.next_u64() % 2000), i)).collect();
    starts.sort();
    let mut pending = starts.into_iter().peekable();
    let mut converged_at = None;
    let totals = |sim: &Sim<512>| {
        let stats = (0..usize::from(COUNT)).map(|i| *sim.presence(i).stats());
        stats.fold((0, 0), |(sent, received), s| (sent + s.frames_sent, received + s.frames_received))
    };
    let mut at_30s = None;
    // Two minutes: the steady state after the join spans more than two
    // expiries, so every refresh query it causes is counted.
    while sim.now < Instant::from_secs(120) {
        if at_30s.is_none() && sim.now >= Instant::from_secs(30) {
            at_30s = Some(totals(&sim));
        }
        while let Some((_, i)) = pending.next_if(|(at, _)| *at <= sim.now) {
            sim.start(i);
        }
        sim.run(Duration::from_millis(50));
        if converged_at.is_none()
            && (0..usize::from(COUNT)).all(|i| sim.presence(i).table().len() == usize::from(COUNT) - 1)
        {
            converged_at = Some(sim.now);
        }
    }
    let converged_at = converged_at.expect("every table converged within 120 s");
    assert!((0..usize::from(COUNT)).all(|i| sim.presence(i).table().len() == usize::from(COUNT) - 1));
    assert!((0..usize::from(COUNT)).all(|i| sim.presence(i).state() == PresenceState::Present));
    let (sent, received) = totals(&sim);
    let (sent_30, received_30) = at_30s.unwrap();
    // Every station stayed up: any Disappeared is a false expiry.
    let false_expiries =
        sim.events.iter().flatten().filter(|(_, e)| matches!(e, PresenceEvent::Disappeared { .. })).count();
    let queries: u64 = (0..usize::from(COUNT)).map(|i| sim.presence(i).stats().queries_sent).sum();
    let seconds = sim.now.total_millis() as f64 / 1000.0;
    let per_station = |total: u64, seconds: f64| total as f64 / f64::from(COUNT) / seconds;
    let steady = seconds - 30.0;
    println!(
        "presence-sim stations={COUNT} loss=5% converged_s={:.2} simulated_s={seconds:.0} \
         sent_per_station_per_s={:.3} received_per_station_per_s={:.1} \
         steady_sent_per_station_per_s={:.3} steady_received_per_station_per_s={:.1} queries={queries} \
         false_expiries={false_expiries}",
        converged_at.total_millis() as f64 / 1000.0,
        per_station(sent, seconds),
        per_station(received, seconds),
        per_station(sent - sent_30, steady),
        per_station(received - received_30, steady),
    );
    assert!(false_expiries <= 2, "{false_expiries} live stations were taken for gone");
    assert!(converged_at <= Instant::from_secs(25), "converged at {converged_at}");
}
