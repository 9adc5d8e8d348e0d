//! Glue between the core and a hosted (std) program.

use whohas_core::time::{Duration, Instant};

/// A monotonic clock that hands out core [`Instant`]s, counted from the
/// moment the clock was created.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: std::time::Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock whose epoch is now.
    pub fn new() -> Self {
        Clock { origin: std::time::Instant::now() }
    }

    /// The current time.
    pub fn now(&self) -> Instant {
        Instant::ZERO + Duration::from(self.origin.elapsed())
    }

    /// How long from now until `deadline` (zero if it has passed).
    pub fn until(&self, deadline: Instant) -> std::time::Duration {
        (deadline - self.now()).into()
    }
}
