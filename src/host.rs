//! Glue between the core and a hosted (std) program: a clock, and an event
//! loop step that sleeps in the kernel instead of spinning.

use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use whohas_core::device::LinkDevice;
use whohas_core::node::{Event, Node};
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

/// A device that can put the thread to sleep until a frame may have arrived.
pub trait Wait: LinkDevice {
    /// Sleeps until a frame may be received or `timeout` passes (`None`: no
    /// limit). Spurious wake-ups are allowed.
    fn wait(&mut self, timeout: Option<std::time::Duration>) -> Result<(), Self::Error>;
}

/// Sleeps in `poll(2)` until `fd` is readable or `timeout` passes (`None`:
/// no limit). Returns whether it is readable; a signal ends the wait early.
pub fn wait_readable(fd: BorrowedFd<'_>, timeout: Option<std::time::Duration>) -> std::io::Result<bool> {
    wait_for(fd, PollFlags::POLLIN, timeout)
}

/// Sleeps in `poll(2)` until `fd` can take more data (a transmit queue has
/// room) or `timeout` passes. Returns whether it is writable.
pub fn wait_writable(fd: BorrowedFd<'_>, timeout: Option<std::time::Duration>) -> std::io::Result<bool> {
    wait_for(fd, PollFlags::POLLOUT, timeout)
}

fn wait_for(fd: BorrowedFd<'_>, events: PollFlags, timeout: Option<std::time::Duration>) -> std::io::Result<bool> {
    let timeout = match timeout {
        None => PollTimeout::NONE,
        // Round up so a 0.4 ms deadline does not become a busy 0 ms poll.
        Some(t) => {
            PollTimeout::try_from(t.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX)
        }
    };
    match poll(&mut [PollFd::new(fd, events)], timeout) {
        Ok(ready) => Ok(ready > 0),
        Err(Errno::EINTR) => Ok(false),
        Err(errno) => Err(errno.into()),
    }
}

#[cfg(feature = "linux")]
impl Wait for whohas_hal_linux::AfPacketDevice {
    fn wait(&mut self, timeout: Option<std::time::Duration>) -> Result<(), Self::Error> {
        wait_readable(self.as_fd(), timeout)
            .map(drop)
            .map_err(|source| Self::Error::Io { context: "waiting for frames (poll)", source })
    }
}

#[cfg(feature = "pcap")]
impl Wait for whohas_hal_pcap::LiveDevice {
    fn wait(&mut self, timeout: Option<std::time::Duration>) -> Result<(), Self::Error> {
        wait_readable(self.as_fd(), timeout)
            .map(drop)
            .map_err(|source| Self::Error::Io { context: "waiting for frames (poll)", source })
    }
}

/// How the event loop waits for frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitMode {
    /// Sleep in the kernel until a frame or a deadline: ~0 % CPU when idle.
    #[default]
    Block,
    /// Never sleep: poll again at once. Lowest latency, one core at 100 %.
    BusyPoll,
}

/// One turn of a host event loop: polls `node`, passing events to
/// `on_event`. If there were none, it then waits until a frame arrives, the
/// node's next deadline, or `until`, whichever is first; if there were, it
/// returns at once so the caller can act on them (answer a message, say)
/// before the thread sleeps.
pub fn turn<D: Wait, const C: usize, const P: usize, const Q: usize>(
    node: &mut Node<D, C, P, Q>,
    clock: &Clock,
    until: Option<Instant>,
    mode: WaitMode,
    mut on_event: impl FnMut(Event<'_>),
) -> Result<(), D::Error> {
    let mut events = 0usize;
    let next = node.poll(clock.now(), |event| {
        events += 1;
        on_event(event)
    })?;
    let wake = whohas_core::time::earliest(next, until);
    if events > 0 || mode == WaitMode::BusyPoll || wake.is_some_and(|wake| wake <= clock.now()) {
        return Ok(());
    }
    node.device_mut().wait(wake.map(|wake| clock.until(wake)))
}

/// The end of a command-line program: exit status 0, or the error on one
/// line of stderr prefixed with the program's name, and status 1.
pub fn exit(program: &str, outcome: Result<(), impl std::fmt::Display>) -> std::process::ExitCode {
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{program}: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
