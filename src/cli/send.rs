//! `whohas send`: a message to a station by name, in one data frame of the
//! original protocol, optionally waiting for its answer.

use super::device::{self, Device, Open, Via};
use super::output::{Who, describe, print_json, print_line, text};
use super::{Failure, Global, Station, signals};
use crate::host::SystemClock;
use crate::node::{Context, Event, Node};
use crate::runtime::{Handler, Wait};
use crate::{Duration, EthernetAddress, Instant, LinkDevice, Name};

/// `whohas send` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Who this station is.
    #[command(flatten)]
    pub station: Station,
    /// The peer's name.
    pub peer: Name,
    /// The message, sent as given.
    pub message: String,
    /// Wait up to this many seconds for an answer and print it.
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<u64>,
    /// How frames reach the interface.
    #[arg(long, value_enum, default_value_t)]
    pub via: Via,
}

/// What happened during an [`exchange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// The peer's name resolved to this MAC address.
    Resolved(EthernetAddress),
    /// The message left for this MAC address.
    Sent(EthernetAddress),
    /// The peer answered.
    Answer(&'a [u8]),
    /// A second station answered for the peer's name.
    Conflict(EthernetAddress),
}

/// Sends `message` to `peer` and waits: for the message to leave, then,
/// with `answer_within`, for a data frame back from the peer. Each step goes
/// to `report`.
struct Exchange<'a, R> {
    peer: &'a Name,
    interface: &'a str,
    config: crate::Config,
    answer_within: Option<Duration>,
    report: R,
    peer_mac: Option<EthernetAddress>,
    answer_by: Option<Instant>,
    outcome: Option<Result<(), Failure>>,
}

impl<R: FnMut(Step<'_>) -> Result<(), Failure>> Exchange<'_, R> {
    /// The message left for `mac` at `now`.
    fn sent(&mut self, now: Instant, mac: EthernetAddress) -> Result<(), Failure> {
        (self.report)(Step::Sent(mac))?;
        match self.answer_within {
            Some(within) => self.answer_by = Some(now + within),
            None => self.outcome = Some(Ok(())),
        }
        Ok(())
    }

    fn handle(&mut self, now: Instant, event: Event<'_>) -> Result<(), Failure> {
        match event {
            Event::Resolved { name, hardware_addr, .. } if name == *self.peer => {
                self.peer_mac = Some(hardware_addr);
                (self.report)(Step::Resolved(hardware_addr))?;
                // The queued message leaves in this poll.
                self.sent(now, hardware_addr)
            }
            Event::NameConflict { name, other, .. } if name == *self.peer => (self.report)(Step::Conflict(other)),
            Event::ResolutionFailed { name, .. } if name == *self.peer => {
                self.outcome = Some(Err(Failure::not_found(format!(
                    "no answer from {name} on {} after {} requests {} ms apart: is it running on the same \
                     Ethernet segment?",
                    self.interface,
                    self.config.max_attempts,
                    self.config.retry_interval.total_millis()
                ))));
                Ok(())
            }
            Event::Data { from, payload, .. } if Some(from) == self.peer_mac && self.answer_by.is_some() => {
                (self.report)(Step::Answer(payload))?;
                self.outcome = Some(Ok(()));
                Ok(())
            }
            other => {
                log::debug!("{}", describe(&other));
                Ok(())
            }
        }
    }
}

impl<D, S, R, const C: usize, const P: usize, const Q: usize> Handler<D, S, C, P, Q> for Exchange<'_, R>
where
    D: LinkDevice,
    R: FnMut(Step<'_>) -> Result<(), Failure>,
{
    fn on_event(&mut self, ctx: &mut Context<'_, D, S, C, P, Q>, event: Event<'_>) {
        if let Err(failure) = self.handle(ctx.now(), event) {
            self.outcome = Some(Err(failure));
        }
        if self.outcome.is_some() {
            ctx.stop();
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, D, S, C, P, Q>) -> Option<Instant> {
        if signals::received() {
            self.outcome.get_or_insert(Err(Failure::interrupted("interrupted")));
        } else if let (Some(by), Some(within)) = (self.answer_by, self.answer_within)
            && ctx.now() >= by
        {
            let message = format!("{} did not answer within {} s", self.peer, within.total_millis() / 1000);
            self.outcome.get_or_insert(Err(Failure::not_found(message)));
        }
        if self.outcome.is_some() {
            ctx.stop();
        }
        self.answer_by
    }
}

/// Sends `message` to `peer` through `node`, resolving the name if it is
/// not cached, and waits up to `answer_within` for an answer; reports each
/// step to `report`. Fails with status 1 if the peer does not answer.
pub fn exchange<D>(
    node: &mut Node<D>,
    clock: &mut SystemClock,
    interface: &str,
    peer: &Name,
    message: &[u8],
    answer_within: Option<Duration>,
    report: impl FnMut(Step<'_>) -> Result<(), Failure>,
) -> Result<(), Failure>
where
    D: Wait<Error: std::error::Error + 'static>,
{
    let config = *node.config();
    let mut exchange = Exchange {
        peer,
        interface,
        config,
        answer_within,
        report,
        peer_mac: node.lookup(peer, clock.read()),
        answer_by: None,
        outcome: None,
    };
    let now = clock.read();
    node.send(now, peer, message)?;
    // A cached peer's message is on its way (at once, or when the device
    // has room); otherwise it leaves when the name resolves.
    if let Some(mac) = exchange.peer_mac {
        exchange.sent(now, mac)?;
    }
    if exchange.outcome.is_none() {
        node.run(clock, &mut exchange)?;
    }
    exchange.outcome.unwrap_or(Ok(()))
}

/// Runs `whohas send`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let interface = device::interface(global)?;
    let open = Open { min_mtu: args.message.len(), ..Open::default() };
    let device = device::open(&interface, args.via, &open)?;
    let mut node: Node<Device> = Node::new(device, args.station.name.clone(), args.station.config());
    let message = args.message.as_bytes();
    let json = global.json;
    let report = |step: Step<'_>| match step {
        Step::Resolved(_) => Ok(()),
        Step::Sent(mac) if json => print_json(&serde_json::json!({
            "event": "sent", "to": args.peer.to_string(), "mac": mac.to_string(), "bytes": message.len(),
        })),
        Step::Sent(mac) => print_line(format_args!("sent {} bytes to {}", message.len(), Who(Some(&args.peer), mac))),
        Step::Answer(answer) if json => print_json(&serde_json::json!({
            "event": "answer", "from": args.peer.to_string(), "payload": super::output::json_bytes(answer),
        })),
        Step::Answer(answer) => print_line(format_args!("answer from {}: {}", args.peer, text(answer))),
        Step::Conflict(other) => {
            log::warn!("a second station, {other}, answers for {} (DUP)", args.peer);
            Ok(())
        }
    };
    let within = args.wait.map(Duration::from_secs);
    exchange(&mut node, &mut SystemClock::default(), &interface.name, &args.peer, message, within, report)
}

/// Resolves `peer` through `node`, running it until the answer; fails with
/// status 1 (adding `hint`) if nobody answers.
pub fn resolve_or_fail<D>(
    node: &mut Node<D>,
    clock: &mut SystemClock,
    peer: &Name,
    hint: &str,
) -> Result<EthernetAddress, Failure>
where
    D: Wait<Error: std::error::Error + 'static>,
{
    if let Some(mac) = node.resolve(clock.read(), peer)? {
        return Ok(mac);
    }
    let mut found: Option<Result<EthernetAddress, Failure>> = None;
    node.run(
        clock,
        &mut crate::runtime::from_fn(|ctx, event| {
            match event {
                Event::Resolved { name, hardware_addr, .. } if name == *peer => found = Some(Ok(hardware_addr)),
                Event::ResolutionFailed { name, .. } if name == *peer => {
                    found = Some(Err(Failure::not_found(format!("no answer from {name}; {hint}"))))
                }
                _ => return,
            }
            ctx.stop();
        }),
    )?;
    found.unwrap_or_else(|| Err(Failure::interrupted("interrupted before an answer")))
}
