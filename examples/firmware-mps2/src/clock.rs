//! The node's clock: SysTick's milliseconds, extended to 64 bits; between
//! polls the core sleeps in `wfi` until the next tick.

use whohas_core::device::LinkDevice;
use whohas_core::runtime::{Clock, Flow};
use whohas_core::time::Instant;

use crate::board;

/// Milliseconds since boot as [`Instant`]s.
#[derive(Default)]
pub struct TickClock {
    last: u32,
    millis: u64,
}

impl TickClock {
    /// The time now.
    pub fn read(&mut self) -> Instant {
        let ticks = board::ticks();
        self.millis += u64::from(ticks.wrapping_sub(self.last));
        self.last = ticks;
        Instant::from_millis(self.millis)
    }
}

impl<D: LinkDevice> Clock<D> for TickClock {
    fn now(&mut self, _: &D) -> Instant {
        self.read()
    }

    fn wait(&mut self, _: &mut D, deadline: Option<Instant>, _: bool) -> Result<Flow, D::Error> {
        // The NIC is polled: the next tick (a millisecond at most) wakes
        // the loop to look for frames, and to meet any deadline.
        if deadline.is_none_or(|deadline| deadline > self.read()) {
            cortex_m::asm::wfi();
        }
        Ok(Flow::Continue)
    }
}
