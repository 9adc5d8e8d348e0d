//! whohas on a microcontroller: the no_std core and the LAN9118 driver on
//! Arm's MPS2-AN386 board (a Cortex-M4F; QEMU `-M mps2-an386`). By default
//! the firmware is VM2 of the seed and answers forever; with the `vm1`
//! feature it greets VM2 and exits QEMU with a status; with `station` it
//! is "mcu" in the chat room (presence and the reliable transfer), and
//! with `ip` it also runs IPv4 (smoltcp) on the same NIC; `memcheck`
//! checks the firmware's own memmove and memclr and exits. Logs go out as
//! defmt frames over semihosting (decode them with `defmt-print`).
//! `scripts/firmware.sh` builds and runs it.
#![no_std]
#![no_main]
// The memcheck image runs its check only: the node's code is left unused.
#![cfg_attr(feature = "memcheck", allow(dead_code, unused_imports))]

mod board;
mod clock;
#[cfg(feature = "vm1")]
mod greeter;
#[cfg(feature = "ip")]
mod ip;
#[cfg(not(any(feature = "vm1", feature = "station")))]
mod responder;
#[cfg(feature = "station")]
mod station;

use cortex_m_rt::entry;
use defmt_semihosting as _;
use whohas_core::station::Stats;
use whohas_core::wire::Name;
use whohas_hal_lan9118::{Lan9118, Mmio};

use clock::TickClock;

/// The device the node runs on.
type Nic = Lan9118<Mmio>;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    defmt::error!("panic");
    board::exit(101)
}

/// A name known to be valid.
fn name(bytes: &[u8]) -> Name {
    Name::new(bytes).unwrap_or_else(|_| board::exit(102))
}

/// The counters of the node and the driver, and the stack's high-water
/// mark.
fn report(node: &Stats, nic: &whohas_hal_lan9118::Stats) {
    let link = &node.link;
    defmt::info!(
        "counters: rx_frames={} rx_malformed={} rx_foreign={} rx_not_for_us={} name_arp_malformed={} nic_rx_errors={} nic_rx_runts={} nic_rx_oversize={} tx_frames={} stack_bytes={}",
        link.rx_frames,
        link.rx_malformed,
        link.rx_foreign,
        link.rx_not_for_us,
        node.name_arp.rx_malformed,
        nic.rx_errors,
        nic.rx_runts,
        nic.rx_oversize,
        link.tx_frames,
        board::stack_used()
    );
}

#[entry]
fn main() -> ! {
    #[cfg(feature = "memcheck")]
    board::exit(if board::memory_routines_correct() { 0 } else { 1 });
    #[cfg(not(feature = "memcheck"))]
    serve()
}

/// Brings the LAN9118 up and serves as the image's features say.
#[cfg(not(feature = "memcheck"))]
fn serve() -> ! {
    board::paint_stack();
    let Some(core) = cortex_m::Peripherals::take() else { board::exit(102) };
    board::start_ticks(core.SYST);
    let mut clock = TickClock::default();
    let Some(registers) = board::lan9118() else { board::exit(102) };
    let mut nic = match Lan9118::new(registers, None) {
        Ok(nic) => nic,
        Err(err) => {
            defmt::error!("LAN9118: {}", err);
            board::exit(3)
        }
    };
    nic.enable_rx_interrupt();
    defmt::info!("LAN9118 {=u32:#010x} up", nic.id_rev());
    #[cfg(feature = "vm1")]
    board::exit(greeter::run(nic, &mut clock));
    #[cfg(feature = "station")]
    station::run(nic, &mut clock);
    #[cfg(not(any(feature = "vm1", feature = "station")))]
    responder::run(nic, &mut clock)
}
