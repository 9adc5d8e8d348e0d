//! Sleeping until a descriptor is ready: the [`Wait`] of AF_PACKET devices,
//! and the helper other descriptor-based backends (libpcap) wait with.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use whohas_link::Wait;

use crate::Error;
use crate::device::{AfPacketDevice, TxFull};

/// How long a device whose queue discipline dropped a frame (`ENOBUFS`)
/// sleeps before trying again: the socket reports itself writable at once
/// in that case, so polling for `POLLOUT` would spin.
const QUEUE_FULL_BACKOFF: Duration = Duration::from_millis(1);

/// The longest a device waiting without a deadline sleeps in one receive
/// call. Only a bound against a lost wake-up: a signal ends the wait at
/// once (a socket with a receive timeout is never restarted).
const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// How often a device whose interface went down looks whether it is up
/// again (or gone). The socket says nothing when the interface returns.
pub const LINK_RECHECK: Duration = Duration::from_millis(200);

/// Sleeps in `poll(2)` until `fd` is readable, or writable too if asked, or
/// `timeout` passes (`None`: no limit). A signal ends the wait early, as a
/// wake-up, so a program sees its stop flag at once.
pub fn wait_ready(fd: BorrowedFd<'_>, writable: bool, timeout: Option<Duration>) -> std::io::Result<()> {
    let mut events = PollFlags::POLLIN;
    if writable {
        events |= PollFlags::POLLOUT;
    }
    let timeout = match timeout {
        None => PollTimeout::NONE,
        // Round up so a 0.4 ms deadline does not become a busy 0 ms poll.
        Some(t) => {
            PollTimeout::try_from(t.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX)
        }
    };
    match poll(&mut [PollFd::new(fd, events)], timeout) {
        Ok(_) | Err(Errno::EINTR) => Ok(()),
        Err(errno) => Err(errno.into()),
    }
}

impl Wait for AfPacketDevice {
    fn wait(&mut self, timeout: Option<Duration>, writable: bool) -> Result<(), Error> {
        if self.has_received() {
            // Frames of the last batch are still to be handed out.
            return Ok(());
        }
        if self.is_link_down() {
            // Nothing can be sent: sleep until a frame (the link is back),
            // the deadline or the next look at the interface.
            let timeout = timeout.map_or(LINK_RECHECK, |timeout| timeout.min(LINK_RECHECK));
            wait_ready(self.as_fd(), false, Some(timeout))
                .map_err(|source| Error::Io { context: "waiting for the socket (poll)", source })?;
            return self.recheck_link();
        }
        let (writable, timeout) = match self.tx_full() {
            Some(TxFull::Queue) => {
                (false, Some(timeout.map_or(QUEUE_FULL_BACKOFF, |timeout| timeout.min(QUEUE_FULL_BACKOFF))))
            }
            _ => (writable, timeout),
        };
        match timeout {
            // Waiting for frames only: sleep in the receive call, so the
            // frame that ends the wait is read by the same system call.
            _ if writable => {}
            None => return self.receive_blocking(IDLE_LIMIT),
            Some(timeout) if timeout >= Duration::from_millis(1) => return self.receive_blocking(timeout),
            // Below the receive timeout's resolution: poll(2) waits it out.
            Some(_) => {}
        }
        wait_ready(self.as_fd(), writable, timeout)
            .map_err(|source| Error::Io { context: "waiting for the socket (poll)", source })
    }
}
