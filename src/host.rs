//! Time on a host: a monotonic clock the node's run loop sleeps on, through
//! the device's [`Wait`] (it sleeps in the kernel until a frame may be read,
//! a deadline passes, or the device has room again).

use whohas_core::device::LinkDevice;
use whohas_core::runtime::{Clock, Flow, Wait};
use whohas_core::time::{Duration, Instant};

/// How the loop waits for frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitMode {
    /// Sleep in the kernel until a frame or a deadline: ~0 % CPU when idle.
    #[default]
    Block,
    /// Never sleep: poll again at once. Lowest latency, one core at 100 %.
    BusyPoll,
}

/// A monotonic clock that hands out core [`Instant`]s, counted from the
/// moment the clock was created, and sleeps through the device.
///
/// With [`until`](Self::until), time ends (the loop returns) once a check
/// says so: a program stops its loop on a signal this way, without a check
/// in every handler.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: std::time::Instant,
    mode: WaitMode,
    stop: Option<fn() -> bool>,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new(WaitMode::Block)
    }
}

impl SystemClock {
    /// A clock whose epoch is now.
    pub fn new(mode: WaitMode) -> Self {
        SystemClock { origin: std::time::Instant::now(), mode, stop: None }
    }

    /// The same clock, whose time ends once `stop` returns true (checked
    /// before and after each sleep; a signal interrupts the sleep).
    pub fn until(self, stop: fn() -> bool) -> Self {
        SystemClock { stop: Some(stop), ..self }
    }

    fn stopped(&self) -> bool {
        self.stop.is_some_and(|stop| stop())
    }

    /// The current time.
    pub fn read(&self) -> Instant {
        Instant::ZERO + Duration::from(self.origin.elapsed())
    }
}

impl<D: Wait> Clock<D> for SystemClock {
    fn now(&mut self, _: &D) -> Instant {
        self.read()
    }

    fn wait(
        &mut self,
        device: &mut D,
        deadline: Option<Instant>,
        writable: bool,
    ) -> Result<Flow, <D as LinkDevice>::Error> {
        if self.stopped() {
            return Ok(Flow::End);
        }
        if self.mode == WaitMode::Block {
            device.wait(deadline.map(|deadline| (deadline - self.read()).into()), writable)?;
        }
        Ok(if self.stopped() { Flow::End } else { Flow::Continue })
    }
}
