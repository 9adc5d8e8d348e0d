//! The LAN9118's registers this driver touches, and their bits. Only these:
//! QEMU's model aborts on some registers it does not implement, and a
//! driver that reads only what it needs is easier to check against the
//! datasheet.

/// A system control and status register, by its offset from the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u32)]
pub enum Reg {
    /// Received frames' data, one 32-bit word at a time.
    RxData = 0x00,
    /// Frames to send: two command words, then the data.
    TxData = 0x20,
    /// One status word per received frame.
    RxStatus = 0x40,
    /// One status word per sent frame.
    TxStatus = 0x48,
    /// Chip id (0x0118) and revision.
    IdRev = 0x50,
    /// The interrupt pin: enable, polarity, type.
    IrqCfg = 0x54,
    /// Interrupt status: write 1s to clear.
    IntSts = 0x58,
    /// Which interrupt sources drive the pin.
    IntEn = 0x5C,
    /// Reads [`BYTE_TEST_VALUE`] on a working bus.
    ByteTest = 0x64,
    /// Receive configuration.
    RxCfg = 0x6C,
    /// Transmit configuration.
    TxCfg = 0x70,
    /// Hardware configuration (soft reset).
    HwCfg = 0x74,
    /// How full the receive FIFOs are.
    RxFifoInf = 0x7C,
    /// How full the transmit FIFOs are.
    TxFifoInf = 0x80,
    /// Power management (device ready).
    PmtCtrl = 0x84,
    /// A free-running 25 MHz counter.
    FreeRun = 0x9C,
    /// Command of an access to a MAC register.
    MacCsrCmd = 0xA4,
    /// Data of an access to a MAC register.
    MacCsrData = 0xA8,
}

/// A MAC control register, reached through [`Reg::MacCsrCmd`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u32)]
pub enum MacReg {
    /// MAC control: enables, duplex, filtering.
    Cr = 1,
    /// The upper two bytes of the station address.
    AddrH = 2,
    /// The lower four bytes of the station address.
    AddrL = 3,
}

/// What [`Reg::ByteTest`] reads when the bus works.
pub const BYTE_TEST_VALUE: u32 = 0x8765_4321;
/// [`Reg::HwCfg`]: soft reset, cleared by the chip when done.
pub const HW_CFG_SRST: u32 = 1 << 0;
/// [`Reg::PmtCtrl`]: the device is ready.
pub const PMT_CTRL_READY: u32 = 1 << 0;
/// [`Reg::IrqCfg`]: the pin is enabled, active high, push-pull.
pub const IRQ_CFG_ENABLED_HIGH: u32 = (1 << 8) | (1 << 4) | (1 << 0);
/// [`Reg::IntSts`] and [`Reg::IntEn`]: the receive status FIFO has reached
/// its level (with the reset level, 0: a frame arrived).
pub const INT_RSFL: u32 = 1 << 3;
/// [`Reg::TxCfg`]: the transmitter is on.
pub const TX_CFG_TX_ON: u32 = 1 << 1;
/// [`Reg::MacCsrCmd`]: an access is in progress.
pub const MAC_CSR_BUSY: u32 = 1 << 31;
/// [`Reg::MacCsrCmd`]: the access reads.
pub const MAC_CSR_READ: u32 = 1 << 30;
/// [`MacReg::Cr`]: receiver on.
pub const MAC_CR_RXEN: u32 = 1 << 2;
/// [`MacReg::Cr`]: transmitter on.
pub const MAC_CR_TXEN: u32 = 1 << 3;
/// [`MacReg::Cr`]: full duplex.
pub const MAC_CR_FDPX: u32 = 1 << 20;
/// TX command A: first segment of a frame.
pub const TX_CMD_A_FIRST: u32 = 1 << 13;
/// TX command A: last segment of a frame.
pub const TX_CMD_A_LAST: u32 = 1 << 12;
/// RX and TX status: the error summary bit.
pub const STATUS_ERROR: u32 = 1 << 15;
/// RX status: the frame's length (FCS included) is in bits 29:16.
pub const RX_STATUS_LEN_SHIFT: u32 = 16;
/// RX status: mask of the length after the shift.
pub const RX_STATUS_LEN_MASK: u32 = 0x3FFF;

/// The number of status words waiting in a FIFO, from [`Reg::RxFifoInf`] or
/// [`Reg::TxFifoInf`] (bits 23:16).
pub const fn status_used(fifo_inf: u32) -> u32 {
    (fifo_inf >> 16) & 0xFF
}

/// Access to the registers: the memory-mapped chip ([`Mmio`](crate::Mmio)),
/// or a model of it in tests.
pub trait Registers {
    /// Reads a register.
    fn read(&mut self, reg: Reg) -> u32;
    /// Writes a register.
    fn write(&mut self, reg: Reg, value: u32);
}

impl<R: Registers + ?Sized> Registers for &mut R {
    fn read(&mut self, reg: Reg) -> u32 {
        (**self).read(reg)
    }

    fn write(&mut self, reg: Reg, value: u32) {
        (**self).write(reg, value)
    }
}
