//! SIGINT and SIGTERM: they set a flag that ends the time of the
//! subcommands' clock ([`clock`]), so a node's loop returns. A signal also
//! interrupts the wait in `poll(2)`, so the flag is seen at once, and the
//! subcommand ends cleanly (a server with its statistics line and status 0;
//! an operation in the middle with status 130).
//!
//! SIGHUP, in keyed mode only ([`watch_reload`]): the station reads its key
//! file again ([`take_reload`]), as daemons reload their configuration.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
static RELOAD: OnceLock<Arc<AtomicBool>> = OnceLock::new();

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

/// Makes SIGHUP ask for the key file to be read again, instead of ending
/// the process (once; later calls do nothing).
pub fn watch_reload() {
    if RELOAD.get().is_some() {
        return;
    }
    let flag = RELOAD.get_or_init(|| Arc::new(AtomicBool::new(false)));
    if let Err(err) = signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(flag)) {
        log::warn!("cannot handle SIGHUP, the key file will not be reloaded: {err}");
    }
}

/// Whether SIGHUP arrived since the last call.
pub fn take_reload() -> bool {
    RELOAD.get().is_some_and(|flag| flag.swap(false, Ordering::Relaxed))
}

fn handled_signals() -> nix::sys::signal::SigSet {
    let mut set = nix::sys::signal::SigSet::empty();
    set.add(nix::sys::signal::Signal::SIGINT);
    set.add(nix::sys::signal::Signal::SIGTERM);
    set.add(nix::sys::signal::Signal::SIGHUP);
    set
}

/// Keeps SIGINT, SIGTERM and SIGHUP off the calling thread (and the
/// threads it starts, until they [`receive_here`]): the thread that waits
/// in `poll(2)` must be the one a signal interrupts.
pub fn keep_away() {
    if let Err(err) = handled_signals().thread_block() {
        log::warn!("cannot block signals on the main thread: {err}");
    }
}

/// Lets SIGINT, SIGTERM and SIGHUP reach the calling thread: the one that
/// runs the command and sleeps in `poll(2)`.
pub fn receive_here() {
    if let Err(err) = handled_signals().thread_unblock() {
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
