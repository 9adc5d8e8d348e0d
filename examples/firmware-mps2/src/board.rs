//! The MPS2-AN386 board: where its LAN9118 is, SysTick as the clock's
//! tick, the stack's high-water mark, and leaving QEMU with a status
//! through semihosting. All of the firmware's `unsafe` code is here.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use whohas_hal_lan9118::Mmio;

/// Where the MPS2 boards map the LAN9118.
const LAN9118_BASE: usize = 0x4020_0000;
/// The AN386 image's system clock, which SysTick counts.
const SYSCLK_HZ: u32 = 25_000_000;
/// SysTick ticks per second: the clock's resolution is a millisecond.
pub const TICK_HZ: u32 = 1_000;
/// Bytes below the stack's top that are painted at boot and scanned for
/// the high-water mark.
const STACK_WATCHED: usize = 64 * 1024;
/// The paint: a word the program is unlikely to leave behind.
const PAINT: u32 = 0x5A5A_A5A5;

/// Milliseconds since boot, counted by the SysTick exception.
static TICKS: AtomicU32 = AtomicU32::new(0);
static NIC_TAKEN: AtomicBool = AtomicBool::new(false);

unsafe extern "C" {
    /// The initial stack pointer, the top of RAM (cortex-m-rt's link.x).
    static _stack_start: u32;
}

#[exception]
fn SysTick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Starts SysTick at [`TICK_HZ`]; its exception also wakes the idle loop's
/// `wfi`.
pub fn start_ticks(mut syst: cortex_m::peripheral::SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(SYSCLK_HZ / TICK_HZ - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Milliseconds since [`start_ticks`] (wraps after 49 days).
pub fn ticks() -> u32 {
    TICKS.load(Ordering::Relaxed)
}

/// The LAN9118's registers, once: `None` on a second call.
pub fn lan9118() -> Option<Mmio> {
    if NIC_TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    // SAFETY: the AN386 image maps a LAN9118 register block at this
    // address, and the flag above hands it out once, so nothing else
    // accesses it.
    Some(unsafe { Mmio::new(LAN9118_BASE) })
}

fn stack_top() -> usize {
    // Only the symbol's address is taken; it is never read.
    core::ptr::addr_of!(_stack_start) as usize
}

/// Paints the watched part of the stack below the caller's frame, so
/// [`stack_used`] can find how deep the stack went. Call first thing.
pub fn paint_stack() {
    let below = cortex_m::register::msp::read() as usize - 256;
    let mut at = stack_top() - STACK_WATCHED;
    while at < below {
        // SAFETY: RAM between the bottom of the watched region and 256
        // bytes below the current stack pointer belongs to no Rust object
        // (the stack grows down into it later; .data and .bss sit at the
        // bottom of the 4 MiB RAM, far below); aligned word writes.
        unsafe { (at as *mut u32).write_volatile(PAINT) };
        at += 4;
    }
}

/// The most stack used since [`paint_stack`], in bytes.
pub fn stack_used() -> usize {
    let top = stack_top();
    let mut at = top - STACK_WATCHED;
    // SAFETY: aligned word reads of RAM inside the watched region.
    while at < top && unsafe { (at as *const u32).read_volatile() } == PAINT {
        at += 4;
    }
    top - at
}

/// Ends the program: QEMU exits with `code` (semihosting
/// SYS_EXIT_EXTENDED, which passes any status, where SYS_EXIT passes only
/// success or failure).
pub fn exit(code: u32) -> ! {
    /// ADP_Stopped_ApplicationExit.
    const APPLICATION_EXIT: u32 = 0x2_0026;
    const SYS_EXIT_EXTENDED: usize = 0x20;
    let block = [APPLICATION_EXIT, code];
    // SAFETY: a semihosting call with a valid two-word parameter block that
    // outlives it; QEMU ends the program. Without a debugger it would
    // trap, which is why the firmware runs only under QEMU's semihosting.
    unsafe { cortex_m_semihosting::syscall1(SYS_EXIT_EXTENDED, block.as_ptr() as usize) };
    loop {
        cortex_m::asm::wfi();
    }
}
