//! Blocking helpers for firmware without an executor or a clock: they run
//! the node on a [`DelayClock`] until the answer is in.

use embedded_hal::delay::DelayNs;

use crate::device::LinkDevice;
use crate::node::Node;
use crate::runtime::{Context, DelayClock, Handler, NodeEvent};
use crate::service::Service;
use crate::station::{Event, ResolveError};
use crate::time::Instant;
use crate::wire::{EthernetAddress, Name};

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

/// Resolves `name`, running `node` on `clock` until the answer or the last
/// retry is in, and returns its MAC address. Other events go to `handler`
/// (a data frame may arrive meanwhile); `clock.now()` tells when it ended.
pub fn resolve<D, S, T, H>(
    node: &mut Node<'_, D, S>,
    name: &Name,
    clock: &mut DelayClock<T>,
    handler: &mut H,
) -> Result<EthernetAddress, BlockingError<D::Error>>
where
    D: LinkDevice,
    S: Service,
    T: DelayNs,
    H: Handler<D, S>,
{
    if let Some(mac) = node.at(clock.now()).resolve(name).map_err(BlockingError::Resolve)? {
        return Ok(mac);
    }
    let mut until = UntilResolved { name, outcome: None, inner: handler };
    node.run(clock, &mut until).map_err(BlockingError::Device)?;
    until.outcome.unwrap_or(Err(BlockingError::NoAnswer))
}

/// Stops the loop when `name` resolves or fails; passes everything else on.
struct UntilResolved<'a, H, E> {
    name: &'a Name,
    outcome: Option<Result<EthernetAddress, BlockingError<E>>>,
    inner: &'a mut H,
}

impl<D, S, H> Handler<D, S> for UntilResolved<'_, H, D::Error>
where
    D: LinkDevice,
    S: Service,
    H: Handler<D, S>,
{
    fn on_event(&mut self, ctx: &mut Context<'_, D, S>, event: NodeEvent<'_, S>) {
        match event {
            Event::Resolved { name, hardware_addr, .. } if name == *self.name => {
                self.outcome = Some(Ok(hardware_addr));
                ctx.stop();
            }
            Event::ResolutionFailed { name, .. } if name == *self.name => {
                self.outcome = Some(Err(BlockingError::NoAnswer));
                ctx.stop();
            }
            other => self.inner.on_event(ctx, other),
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, D, S>) -> Option<Instant> {
        self.inner.on_poll(ctx)
    }
}
