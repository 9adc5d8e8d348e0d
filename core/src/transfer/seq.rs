//! Sequence numbers: 32 bits that wrap around, compared by distance
//! (RFC 1982 serial number arithmetic), so a connection may start anywhere
//! and run past 2^32 segments.

/// Whether `a` comes before `b`.
pub(crate) fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// How far `b` is ahead of `a` (`b - a`, wrapping).
pub(crate) fn distance(a: u32, b: u32) -> u32 {
    b.wrapping_sub(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_survives_wrap_around() {
        assert!(before(1, 2));
        assert!(!before(2, 2));
        assert!(before(u32::MAX, 0), "0 follows u32::MAX");
        assert!(before(u32::MAX - 5, 10));
        assert!(!before(10, u32::MAX - 5));
        assert_eq!(distance(u32::MAX - 1, 3), 5);
    }
}
