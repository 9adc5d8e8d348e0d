//! The node on an unreliable link: seeded fault injection on the in-memory
//! segment. Run with `--nocapture` to see the measured figures.

mod common;

use whohas_core::device::{FaultConfig, FaultInjector, Segment, SegmentPort};
use whohas_core::node::Node;
use whohas_core::runtime::from_fn;
use whohas_core::station::{Config, Event, Resources};
use whohas_core::time::{Duration, Instant};
use whohas_core::wire::{EthernetAddress, Name};

fn name(text: &str) -> Name {
    Name::try_from(text).unwrap()
}

type Faulty<'a> = FaultInjector<SegmentPort<'a, 8, 16>>;

/// Polls every node in 10 ms steps until `done` or `limit`; returns the
/// time it took.
fn run_until<const N: usize>(
    nodes: &mut [Node<'_, Faulty<'_>>; N],
    limit: Duration,
    mut done: impl FnMut(usize, &Event<'_>) -> bool,
) -> Option<Duration> {
    let mut now = Instant::ZERO;
    while now < Instant::ZERO + limit {
        for (i, node) in nodes.iter_mut().enumerate() {
            let mut finished = false;
            node.poll(now, &mut from_fn(|_, event| finished |= done(i, &event))).unwrap();
            if finished {
                return Some(now - Instant::ZERO);
            }
        }
        now += Duration::from_millis(10);
    }
    None
}

#[test]
fn resolution_survives_30_percent_loss_in_at_least_999_of_1000_trials() {
    const TRIALS: u64 = 10_000;
    let config = Config { retry_interval: Duration::from_millis(100), max_attempts: 12, ..Config::default() };
    let loss = FaultConfig { drop_percent: 30, ..FaultConfig::default() };
    let mut successes = 0;
    let mut attempts_used = [0u32; 13];
    for seed in 1..=TRIALS {
        let segment: Segment<8, 16> = Segment::new();
        let vm1_port =
            FaultInjector::new(segment.attach(EthernetAddress([2, 0, 0, 0, 0, 1])).unwrap(), loss, loss, seed);
        let vm2_port = FaultInjector::new(
            segment.attach(EthernetAddress([2, 0, 0, 0, 0, 2])).unwrap(),
            FaultConfig::default(),
            FaultConfig::default(),
            seed,
        );
        let mut nodes: [Node<Faulty<'_>>; 2] = [
            Node::new(vm1_port, name("VM1"), config, common::resources()),
            Node::new(vm2_port, name("VM2"), config, common::resources()),
        ];
        nodes[0].at(Instant::ZERO).resolve(&name("VM2")).unwrap();
        let resolved = run_until(&mut nodes, Duration::from_secs(2), |i, event| {
            i == 0 && matches!(event, Event::Resolved { .. } | Event::ResolutionFailed { .. })
        });
        if resolved.is_some() && nodes[0].at(Instant::ZERO).lookup(&name("VM2")).is_some() {
            successes += 1;
            attempts_used[nodes[0].stats().name_arp.requests_sent as usize] += 1;
        }
    }
    let rate = successes as f64 / TRIALS as f64;
    println!("30 % loss each way on VM1's link, 12 attempts: {successes}/{TRIALS} resolved ({:.2} %)", rate * 100.0);
    println!("requests needed: {:?}", &attempts_used[1..]);
    assert!(rate >= 0.999, "{successes}/{TRIALS}");
}

#[test]
fn six_nodes_resolve_each_other_through_every_fault_at_once() {
    let faults = FaultConfig { drop_percent: 20, duplicate_percent: 10, corrupt_percent: 10, reorder_percent: 10 };
    // A request and its reply both survive about a quarter of the time here,
    // so resolutions get a generous budget: 40 attempts fail with p = 2e-5.
    let config = Config { retry_interval: Duration::from_millis(50), max_attempts: 40, ..Config::default() };
    let mut total_arrived = 0;
    for seed in 1..=50u64 {
        let segment: Segment<8, 16> = Segment::new();
        // Five peers each: room for five resolutions at once.
        let mut nodes: [Node<Faulty<'_>>; 6] = core::array::from_fn(|i| {
            let port = segment.attach(EthernetAddress([2, 0, 0, 0, 0, i as u8 + 1])).unwrap();
            let device = FaultInjector::new(port, faults, faults, seed * 10 + i as u64);
            Node::new(device, name(&format!("node{i}")), config, Box::leak(Box::new(Resources::<8, 8>::new())))
        });
        for (i, node) in nodes.iter_mut().enumerate() {
            for j in (0..6).filter(|&j| j != i) {
                node.at(Instant::ZERO).send(&name(&format!("node{j}")), format!("{i} to {j}").as_bytes()).unwrap();
            }
        }
        let mut delivered = [[false; 6]; 6];
        run_until(&mut nodes, Duration::from_secs(5), |j, event| {
            if let Event::Data { payload, .. } = event {
                // Corruption can mangle a message; count only intact ones.
                if let Some((i, to)) = std::str::from_utf8(payload).ok().and_then(|text| {
                    let (i, to) = text.split_once(" to ")?;
                    Some((i.parse::<usize>().ok()?, to.parse::<usize>().ok()?))
                }) {
                    if to == j && i < 6 {
                        delivered[i][j] = true;
                    }
                }
            }
            false
        });
        for (i, node) in nodes.iter().enumerate() {
            let cached = (0..6)
                .filter(|&j| j != i && node.cache().lookup(&name(&format!("node{j}")), Instant::ZERO).is_some())
                .count();
            assert_eq!(cached, 5, "seed {seed}: node{i} resolved {cached} of 5 peers");
        }
        let arrived = delivered.iter().flatten().filter(|&&ok| ok).count();
        // Data frames have no retransmission: each survives the sender's and
        // the receiver's faults (drop 20 %, corrupt 10 % each) about half
        // the time, so ~15 of 30 arrive; 6 is three standard deviations off.
        assert!(arrived >= 6, "seed {seed}: only {arrived} of 30 messages arrived intact");
        total_arrived += arrived;
    }
    println!("6 nodes, every fault at once, 50 seeds: all 30 resolutions each; {total_arrived}/1500 messages intact");
}
