//! The node's clock: SysTick's milliseconds, extended to 64 bits. Between
//! polls the core sleeps until the LAN9118 raises its interrupt (a frame
//! arrived) or the next tick (a deadline may be due).

use whohas_core::runtime::{Clock, Flow};
use whohas_core::time::Instant;

use crate::{Nic, board};

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

impl Clock<Nic> for TickClock {
    fn now(&mut self, _: &Nic) -> Instant {
        self.read()
    }

    fn wait(&mut self, nic: &mut Nic, deadline: Option<Instant>, _: bool) -> Result<Flow, whohas_hal_lan9118::Error> {
        // Lower the NIC's line; a frame that came before raised nothing
        // new, so look for one before sleeping.
        nic.acknowledge_interrupts();
        let due = deadline.is_some_and(|deadline| deadline <= self.read());
        board::sleep_unless(|| due || nic.rx_pending());
        Ok(Flow::Continue)
    }
}
