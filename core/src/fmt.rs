//! Private logging facade, in the style of embassy's `fmt.rs`.
//!
//! Every log call in the crate goes through these macros so one build can
//! log through `defmt` (embedded), another through `log` (hosts), and a third
//! compile the calls away entirely. Format strings must therefore stay in the
//! common subset of both crates: `{}` and `{:?}` with no width or precision.
#![allow(unused_macros)]

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("whohas-core: the `defmt` and `log` features are mutually exclusive; enable one.");

macro_rules! log_at {
    ($level:ident, $s:literal $(, $x:expr)* $(,)?) => {{
        #[cfg(feature = "log")]
        ::log::$level!($s $(, $x)*);
        #[cfg(feature = "defmt")]
        ::defmt::$level!($s $(, $x)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        let _ = ($( & $x ),*);
    }};
}

macro_rules! trace {
    ($($t:tt)*) => { log_at!(trace, $($t)*) };
}

macro_rules! debug {
    ($($t:tt)*) => { log_at!(debug, $($t)*) };
}

macro_rules! info {
    ($($t:tt)*) => { log_at!(info, $($t)*) };
}

macro_rules! warn {
    ($($t:tt)*) => { log_at!(warn, $($t)*) };
}
