//! The MPS2-AN386 board: where its LAN9118 is and which interrupt it
//! raises, SysTick as the clock's tick, sleeping until either, the stack's
//! high-water mark, leaving QEMU with a status through semihosting, and a
//! small `memmove`. All of the firmware's `unsafe` code is here.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use cortex_m::interrupt::InterruptNumber;
use cortex_m::peripheral::NVIC;
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

/// The LAN9118's interrupt line on the AN386 image.
#[derive(Clone, Copy)]
struct Lan9118Irq;

// SAFETY: 13 is the LAN9118's line on MPS2-AN386, a valid external
// interrupt number of this part.
unsafe impl InterruptNumber for Lan9118Irq {
    fn number(self) -> u16 {
        13
    }
}

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

/// The NIC's interrupt: it only wakes the idle loop, so it masks itself
/// (its line stays up until the loop acknowledges the NIC); every other
/// interrupt is unexpected and ends the program.
#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    if irqn == Lan9118Irq.number() as i16 {
        NVIC::mask(Lan9118Irq);
    } else {
        defmt::error!("unexpected interrupt {}", irqn);
        exit(103);
    }
}

/// Sleeps until the NIC's interrupt or the next SysTick, unless `ready`
/// says there is work already. The NIC must have been told to lower its
/// line. Interrupts are off from the check to the sleep, so one that comes
/// in between still ends the sleep (`wfi` wakes on a pending interrupt
/// even while they are off) and is taken after it.
pub fn sleep_unless(ready: impl FnOnce() -> bool) {
    cortex_m::interrupt::disable();
    NVIC::unpend(Lan9118Irq);
    // SAFETY: the NIC's handler only masks its own line; no critical
    // section relies on that line being masked.
    unsafe { NVIC::unmask(Lan9118Irq) };
    if !ready() {
        cortex_m::asm::wfi();
    }
    // SAFETY: the firmware has no critical section open here: interrupts
    // were on when this function was called.
    unsafe { cortex_m::interrupt::enable() };
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

// memcpy, memmove and memclr small, as newlib-nano's are when built for
// size: 134 bytes of flash instead of compiler_builtins' 2.8 KiB of
// word-wise and unrolled copies. compiler_builtins defines these symbols
// weak, so that a program can choose; the compiler calls them for copies,
// overlapping copies and zeroing. The firmware moves little memory, and
// seldom (a table entry or a queued frame when one is removed, an event on
// its way to the handler); it copies and zeroes up to a frame a segment,
// word by word where both ends are word-aligned, which costs less than the
// segment's CRC a nibble at a time. Assembly, because a byte loop written
// in Rust compiles back into a call to memcpy, memmove or memset.
//
// memcpy(dst r0, src r1, n r2) and memmove return dst, which r0 still
// holds; __aeabi_memcpy{,4,8} and __aeabi_memmove{,4,8} take the same
// arguments and return nothing; with 4 and 8 both are word-aligned.
// __aeabi_memclr{,4,8}(dst r0, n r1); with 4 and 8 dst is word-aligned.
core::arch::global_asm!(
    ".section .text.memcpy,\"ax\",%progbits",
    ".global memcpy",
    ".global __aeabi_memcpy",
    ".global __aeabi_memcpy4",
    ".global __aeabi_memcpy8",
    ".type memcpy, %function",
    ".type __aeabi_memcpy, %function",
    ".type __aeabi_memcpy4, %function",
    ".type __aeabi_memcpy8, %function",
    ".thumb_func",
    "memcpy:",
    ".thumb_func",
    "__aeabi_memcpy:",
    // Either end off a word boundary: byte by byte.
    "    orr r3, r0, r1",
    "    lsls r3, r3, #30",
    "    mov r3, r0",
    "    bne 3f",
    "    b 1f",
    ".thumb_func",
    "__aeabi_memcpy4:",
    ".thumb_func",
    "__aeabi_memcpy8:",
    "    mov r3, r0",
    "1:  subs r2, #4",
    "    bcc 2f",
    "    ldr r12, [r1], #4",
    "    str r12, [r3], #4",
    "    b 1b",
    // 0-3 bytes left.
    "2:  adds r2, #4",
    "3:  subs r2, #1",
    "    bcc 4f",
    "    ldrb r12, [r1], #1",
    "    strb r12, [r3], #1",
    "    b 3b",
    "4:  bx lr",
    ".size memcpy, . - memcpy",
    ".section .text.memmove,\"ax\",%progbits",
    ".global memmove",
    ".global __aeabi_memmove",
    ".global __aeabi_memmove4",
    ".global __aeabi_memmove8",
    ".type memmove, %function",
    ".type __aeabi_memmove, %function",
    ".type __aeabi_memmove4, %function",
    ".type __aeabi_memmove8, %function",
    ".thumb_func",
    "memmove:",
    ".thumb_func",
    "__aeabi_memmove:",
    ".thumb_func",
    "__aeabi_memmove4:",
    ".thumb_func",
    "__aeabi_memmove8:",
    // The destination above the source: copy from the end down, so that
    // no byte is overwritten before it is read.
    "    cmp r0, r1",
    "    bhi 2f",
    "    mov r3, r0",
    "1:  subs r2, #1",
    "    bcc 3f",
    "    ldrb r12, [r1], #1",
    "    strb r12, [r3], #1",
    "    b 1b",
    // n - 1 down to 0; a borrow (n was 0, or all done) ends either loop.
    "2:  subs r2, #1",
    "    bcc 3f",
    "    ldrb r12, [r1, r2]",
    "    strb r12, [r0, r2]",
    "    b 2b",
    "3:  bx lr",
    ".size memmove, . - memmove",
    ".section .text.memclr,\"ax\",%progbits",
    ".global __aeabi_memclr",
    ".global __aeabi_memclr4",
    ".global __aeabi_memclr8",
    ".type __aeabi_memclr, %function",
    ".type __aeabi_memclr4, %function",
    ".type __aeabi_memclr8, %function",
    ".thumb_func",
    "__aeabi_memclr4:",
    ".thumb_func",
    "__aeabi_memclr8:",
    "    movs r2, #0",
    "1:  subs r1, #4",
    "    bcc 2f",
    "    str r2, [r0], #4",
    "    b 1b",
    // 0-3 bytes left.
    "2:  adds r1, #4",
    "    b 3f",
    ".thumb_func",
    "__aeabi_memclr:",
    "    movs r2, #0",
    "3:  subs r1, #1",
    "    bcc 4f",
    "    strb r2, [r0, r1]",
    "    b 3b",
    "4:  bx lr",
    ".size __aeabi_memclr4, . - __aeabi_memclr4",
);

/// Whether memcpy, memmove and memclr above do what they must: copies
/// between word-aligned and unaligned ends, moves on overlapping and
/// disjoint ranges either way, clears of word-aligned and unaligned
/// destinations, of several lengths (the `memcheck` image, run by
/// tests/firmware.rs). Logs each case that is wrong.
#[cfg(feature = "memcheck")]
pub fn memory_routines_correct() -> bool {
    unsafe extern "C" {
        fn memcpy(dst: *mut u8, src: *const u8, len: usize) -> *mut u8;
        fn __aeabi_memcpy4(dst: *mut u8, src: *const u8, len: usize);
        fn memmove(dst: *mut u8, src: *const u8, len: usize) -> *mut u8;
        fn __aeabi_memclr(dst: *mut u8, len: usize);
        fn __aeabi_memclr4(dst: *mut u8, len: usize);
    }
    let pattern = |i: usize| (i * 7 + 1) as u8;
    let mut correct = true;
    for len in [0, 1, 3, 4, 5, 8, 33, 200] {
        for (src, dst) in [(0, 5), (5, 0), (1, 2), (2, 1), (4, 4), (3, 64)] {
            let mut bytes: [u8; 300] = core::array::from_fn(pattern);
            let base = bytes.as_mut_ptr();
            // SAFETY: both ranges lie inside `bytes` (at most 64 + 200 of
            // its 300), which nothing else borrows during the call.
            let returned = unsafe { memmove(base.add(dst), base.add(src), len) };
            let moved = |i: usize| if (dst..dst + len).contains(&i) { pattern(i - dst + src) } else { pattern(i) };
            if returned != base.wrapping_add(dst) || (0..bytes.len()).any(|i| bytes[i] != moved(i)) {
                defmt::error!("memmove of {} bytes from {} to {} is wrong", len, src, dst);
                correct = false;
            }
        }
        // Copies between disjoint ranges: both ends word-aligned (by
        // memcpy and by __aeabi_memcpy4), either end or both off a word.
        for (src, dst, aligned_call) in
            [(0, 256, false), (0, 256, true), (1, 256, false), (0, 257, false), (3, 258, false)]
        {
            let mut words: [u32; 128] =
                core::array::from_fn(|i| u32::from_ne_bytes(core::array::from_fn(|b| pattern(i * 4 + b))));
            let base: *mut u8 = words.as_mut_ptr().cast();
            // SAFETY: source (at most 3 + 200) and destination (from 256,
            // at most 258 + 200) lie inside the 512 bytes of `words`, which
            // start at a word boundary, and do not overlap; with
            // __aeabi_memcpy4 both ends are word-aligned, as it requires.
            let returned = unsafe {
                if aligned_call {
                    __aeabi_memcpy4(base.add(dst), base.add(src), len);
                    base.add(dst)
                } else {
                    memcpy(base.add(dst), base.add(src), len)
                }
            };
            let bytes: [u8; 512] = core::array::from_fn(|i| words[i / 4].to_ne_bytes()[i % 4]);
            let copied = |i: usize| if (dst..dst + len).contains(&i) { pattern(i - dst + src) } else { pattern(i) };
            if returned != base.wrapping_add(dst) || (0..bytes.len()).any(|i| bytes[i] != copied(i)) {
                defmt::error!("memcpy of {} bytes from {} to {} is wrong", len, src, dst);
                correct = false;
            }
        }
        let mut words = [u32::MAX; 80];
        // SAFETY: bytes 4 to 4 + len (at most 204) of the 320 of `words`,
        // which start at a word boundary, as __aeabi_memclr4 requires.
        unsafe { __aeabi_memclr4(words.as_mut_ptr().add(1).cast(), len) };
        let mut bytes = [0xffu8; 210];
        // SAFETY: bytes 1 to 1 + len (at most 201) of the 210 of `bytes`.
        unsafe { __aeabi_memclr(bytes.as_mut_ptr().add(1), len) };
        let cleared = |from: usize, i: usize| (from..from + len).contains(&i);
        let words_right = words
            .iter()
            .flat_map(|word| word.to_ne_bytes())
            .enumerate()
            .all(|(i, byte)| byte == if cleared(4, i) { 0 } else { 0xff });
        let bytes_right = bytes.iter().enumerate().all(|(i, &byte)| byte == if cleared(1, i) { 0 } else { 0xff });
        if !words_right || !bytes_right {
            defmt::error!("memclr of {} bytes is wrong (aligned: {}, unaligned: {})", len, words_right, bytes_right);
            correct = false;
        }
    }
    defmt::info!("memcpy, memmove and memclr checked: {}", if correct { "correct" } else { "WRONG" });
    correct
}
