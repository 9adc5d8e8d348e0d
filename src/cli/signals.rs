//! SIGINT and SIGTERM: they set a flag that ends the time of the
//! subcommands' clock ([`clock`]), so a node's loop returns. A signal also
//! interrupts the wait in `poll(2)`, so the flag is seen at once, and the
//! subcommand ends cleanly (a server with its statistics line and status 0;
//! an operation in the middle with status 130).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Installs the handlers (once; later calls do nothing).
pub fn install() {
    let flag = STOP.get_or_init(|| Arc::new(AtomicBool::new(false)));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registration fails only for forbidden signals, which these are not;
        // without it a signal ends the process the default way.
        if let Err(err) = signal_hook::flag::register(signal, Arc::clone(flag)) {
            log::warn!("cannot handle signal {signal}: {err}");
        }
    }
}

fn stop_signals() -> nix::sys::signal::SigSet {
    let mut set = nix::sys::signal::SigSet::empty();
    set.add(nix::sys::signal::Signal::SIGINT);
    set.add(nix::sys::signal::Signal::SIGTERM);
    set
}

/// Keeps SIGINT and SIGTERM off the calling thread (and the threads it
/// starts, until they [`receive_here`]): the thread that waits in `poll(2)`
/// must be the one a signal interrupts.
pub fn keep_away() {
    if let Err(err) = stop_signals().thread_block() {
        log::warn!("cannot block signals on the main thread: {err}");
    }
}

/// Lets SIGINT and SIGTERM reach the calling thread: the one that runs the
/// command and sleeps in `poll(2)`.
pub fn receive_here() {
    if let Err(err) = stop_signals().thread_unblock() {
        log::warn!("cannot take signals on the command thread: {err}");
    }
}

/// The host clock of the subcommands: its time ends at SIGINT or SIGTERM.
pub fn clock(mode: crate::host::WaitMode) -> crate::host::SystemClock {
    crate::host::SystemClock::new(mode).until(received)
}

/// Whether SIGINT or SIGTERM has arrived.
pub fn received() -> bool {
    STOP.get().is_some_and(|flag| flag.load(Ordering::Relaxed))
}
