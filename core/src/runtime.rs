//! The one loop every whohas program runs: [`Node::run`](crate::Node::run)
//! polls the node, hands each event to a [`Handler`] that can act on the
//! node at once, and sleeps on a [`Clock`] until the next frame or deadline.
//!
//! Time comes in three kinds, each a `Clock`:
//!
//! - a host's monotonic clock (the `whohas` crate's `SystemClock`), which
//!   sleeps in the kernel through the device's [`Wait`]: until a frame may
//!   be read or, when the device refused a frame, until it has room;
//! - the timestamps of a capture being replayed (`whohas-hal-pcap`'s
//!   `CaptureClock`), which jumps from frame to frame and ends with the file;
//! - an `embedded-hal` delay on firmware without a clock ([`DelayClock`]),
//!   which counts the time it sleeps.
//!
//! [`Wait`] is implemented beside each backend (AF_PACKET, libpcap) and by
//! the wrapper devices, so a third-party device only implements `Wait` to
//! run on a host clock.

use core::ops::{Deref, DerefMut};

use embedded_hal::delay::DelayNs;

use crate::device::LinkDevice;
/// The host-sleep trait of `whohas-link`, beside the clocks that use it.
pub use crate::device::Wait;
use crate::service::Service;
use crate::station::{Event, Station};
use crate::time::{Duration, Instant};

/// What a node hosting the services `S` reports: its own events, and its
/// services' in [`Event::Service`].
pub type NodeEvent<'a, S> = Event<'a, <S as Service>::Event<'a>>;

/// An application on a node: it hears each event with a [`Context`] through
/// which it can answer, send, resolve, use the services, or stop the loop.
///
/// Its only parameters are the device and the services; the node's
/// capacities live in its [`Resources`](crate::Resources) and appear
/// nowhere here. Closures become handlers through [`from_fn`].
pub trait Handler<D: LinkDevice, S: Service = ()> {
    /// One event, while nothing of the node is borrowed but the event's
    /// payload.
    fn on_event(&mut self, ctx: &mut Context<'_, D, S>, event: NodeEvent<'_, S>);

    /// Once per poll, after the events: periodic work (feeding a transfer,
    /// checking a flag set by a signal). Returns when the handler wants the
    /// next poll at the latest.
    fn on_poll(&mut self, ctx: &mut Context<'_, D, S>) -> Option<Instant> {
        let _ = ctx;
        None
    }
}

/// A closure as a [`Handler`] (its `on_poll` does nothing).
pub struct FromFn<F>(F);

/// Makes a [`Handler`] of `f`, whose argument types are inferred:
/// `node.poll(now, &mut from_fn(|ctx, event| ...))`.
///
/// The closure hears the node's events and those of its services when the
/// services' events borrow nothing (none, presence, a scan): `E` is
/// `Infallible` for a node without services. A node hosting the transfer,
/// whose events borrow the node's buffer, takes a handler type instead.
pub fn from_fn<D, S, E, F>(f: F) -> FromFn<F>
where
    D: LinkDevice,
    S: for<'e> Service<Event<'e> = E>,
    F: FnMut(&mut Context<'_, D, S>, Event<'_, E>),
{
    FromFn(f)
}

impl<D, S, E, F> Handler<D, S> for FromFn<F>
where
    D: LinkDevice,
    S: for<'e> Service<Event<'e> = E>,
    F: FnMut(&mut Context<'_, D, S>, Event<'_, E>),
{
    fn on_event(&mut self, ctx: &mut Context<'_, D, S>, event: NodeEvent<'_, S>) {
        (self.0)(ctx, event)
    }
}

/// What a [`Handler`] acts through while it handles an event: the node at
/// this instant, a [`Station`] (to send, answer, resolve; the context
/// dereferences to it), and the services the node hosts.
pub struct Context<'a, D: LinkDevice, S> {
    station: Station<'a, D>,
    services: &'a mut S,
}

impl<'a, D: LinkDevice, S> Context<'a, D, S> {
    pub(crate) fn new(station: Station<'a, D>, services: &'a mut S) -> Self {
        Context { station, services }
    }

    /// The services the node hosts (to send a reliable message, say: it
    /// goes out in this poll).
    pub fn services(&mut self) -> &mut S {
        self.services
    }

    /// The station and the services at once.
    pub fn split(&mut self) -> (&mut Station<'a, D>, &mut S) {
        (&mut self.station, self.services)
    }
}

impl<'a, D: LinkDevice, S> Deref for Context<'a, D, S> {
    type Target = Station<'a, D>;

    fn deref(&self) -> &Station<'a, D> {
        &self.station
    }
}

impl<'a, D: LinkDevice, S> DerefMut for Context<'a, D, S> {
    fn deref_mut(&mut self) -> &mut Station<'a, D> {
        &mut self.station
    }
}

/// Whether time goes on after a [`Clock::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Flow {
    /// Poll again.
    Continue,
    /// Nothing will ever arrive and no deadline was given: the end of a
    /// replayed capture.
    End,
}

/// Where the loop's time comes from, and how it passes.
pub trait Clock<D: LinkDevice> {
    /// The current time.
    fn now(&mut self, device: &D) -> Instant;

    /// Lets time pass until a frame may have arrived at `device`, `deadline`
    /// passes, or, with `writable`, the device may have room for a frame.
    /// Waking early is allowed.
    fn wait(&mut self, device: &mut D, deadline: Option<Instant>, writable: bool) -> Result<Flow, D::Error>;
}

/// The longest sleep of a [`DelayClock`]: frames are handled within this.
const DELAY_STEP: Duration = Duration::from_millis(1);
/// The sleep of a [`DelayClock`] when a deadline is due already, so the
/// loop cannot spin without time passing.
const DELAY_MIN: Duration = Duration::from_micros(10);

/// Time for firmware without a clock: it sleeps with an `embedded-hal`
/// delay, at most a millisecond at a time so frames are polled for, and
/// counts what it slept. Exact when polling is quick next to the delays (it
/// is: microseconds against a millisecond).
pub struct DelayClock<T> {
    delay: T,
    now: Instant,
}

impl<T: DelayNs> DelayClock<T> {
    /// A clock that reads `start` now and advances by the delays it sleeps.
    pub fn new(delay: T, start: Instant) -> Self {
        DelayClock { delay, now: start }
    }

    /// The time it has counted to.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Gives the delay back.
    pub fn into_inner(self) -> T {
        self.delay
    }
}

impl<D: LinkDevice, T: DelayNs> Clock<D> for DelayClock<T> {
    fn now(&mut self, _: &D) -> Instant {
        self.now
    }

    fn wait(&mut self, _: &mut D, deadline: Option<Instant>, _: bool) -> Result<Flow, D::Error> {
        let step = deadline.map_or(DELAY_STEP, |deadline| (deadline - self.now).min(DELAY_STEP)).max(DELAY_MIN);
        // The step is at most a millisecond: it fits a u32 of microseconds.
        self.delay.delay_us(step.total_micros() as u32);
        self.now += step;
        Ok(Flow::Continue)
    }
}
