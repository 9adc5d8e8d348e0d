//! Blocking helpers for firmware without an executor or a clock: they poll
//! the node and sleep with an `embedded-hal` [`DelayNs`] in between.
//!
//! Time is counted from `start` by adding up the delays, which is exact when
//! polling is quick next to the delays (it is: microseconds against a
//! millisecond step). Programs that have a real clock should call
//! [`Node::poll`] themselves.

use embedded_hal::delay::DelayNs;

use crate::device::LinkDevice;
use crate::node::{Event, Node, ResolveError};
use crate::time::{Duration, Instant};
use crate::wire::{EthernetAddress, Name};

/// The longest sleep between two polls: frames are handled within this.
const STEP: Duration = Duration::from_millis(1);

/// Why a blocking resolution ended without an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BlockingError<E> {
    /// Nobody answered within the node's retries.
    NoAnswer,
    /// The resolution could not start.
    Resolve(ResolveError<E>),
    /// The device failed.
    Device(E),
}

/// Resolves `name`, polling `node` every millisecond at most, and returns
/// its MAC address and the time the resolution ended. Other events go to
/// `on_event` (a data frame may arrive meanwhile).
pub fn resolve<D: LinkDevice, const C: usize, const P: usize, const Q: usize>(
    node: &mut Node<D, C, P, Q>,
    name: &Name,
    start: Instant,
    delay: &mut impl DelayNs,
    mut on_event: impl FnMut(Event<'_>),
) -> Result<(EthernetAddress, Instant), BlockingError<D::Error>> {
    let mut now = start;
    if let Some(mac) = node.resolve(now, name).map_err(BlockingError::Resolve)? {
        return Ok((mac, now));
    }
    loop {
        let mut outcome = None;
        let next = node
            .poll(now, |event| match event {
                Event::Resolved { name: resolved, hardware_addr } if resolved == name => {
                    outcome = Some(Ok(hardware_addr))
                }
                Event::ResolutionFailed { name: failed, .. } if failed == name => {
                    outcome = Some(Err(BlockingError::NoAnswer))
                }
                other => on_event(other),
            })
            .map_err(BlockingError::Device)?;
        if let Some(outcome) = outcome {
            return outcome.map(|mac| (mac, now));
        }
        let sleep = next.map_or(STEP, |next| (next - now).min(STEP));
        // A deadline already due still gets a short sleep, so the loop
        // cannot spin without time passing.
        let sleep = if sleep == Duration::ZERO { Duration::from_micros(10) } else { sleep };
        delay.delay_us(u32::try_from(sleep.total_micros()).unwrap_or(u32::MAX));
        now += sleep;
    }
}
