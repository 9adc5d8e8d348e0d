//! The memory-mapped chip: the crate's only `unsafe` code.

use crate::regs::{Reg, Registers};

/// The LAN9118's registers at a fixed address (0x4020_0000 on the MPS2
/// boards).
#[derive(Debug)]
pub struct Mmio {
    base: *mut u32,
}

impl Mmio {
    /// The registers of the chip mapped at `base`.
    ///
    /// # Safety
    ///
    /// `base` is the address of a LAN9118's register block (0xB0 bytes of
    /// device memory, valid for 32-bit volatile reads and writes), and
    /// nothing else accesses that block while this `Mmio` lives.
    pub const unsafe fn new(base: usize) -> Mmio {
        Mmio { base: base as *mut u32 }
    }
}

impl Registers for Mmio {
    fn read(&mut self, reg: Reg) -> u32 {
        // SAFETY: `Mmio::new`'s contract makes `base` a LAN9118 register
        // block that this value alone accesses; every `Reg` offset is a
        // word-aligned register inside it.
        unsafe { self.base.byte_add(reg as usize).read_volatile() }
    }

    fn write(&mut self, reg: Reg, value: u32) {
        // SAFETY: as in `read`: an aligned register of the block this value
        // owns.
        unsafe { self.base.byte_add(reg as usize).write_volatile(value) }
    }
}
