//! CRC-32 (IEEE 802.3, as Ethernet's frame check sequence): the transfer
//! frame's checksum.
//!
//! With the `fast-crc` feature (default) this is `crc32fast`: a 16 KiB
//! table taken 16 bytes at a time, or the CPU's carry-less multiply on a
//! host (16-20 GB/s on this project's x86-64 test machine). Without it, a
//! table of 16 words, one nibble at a time (220 MB/s on the same machine):
//! 16 KiB less flash and about 1 KiB less code in a firmware image, for
//! two table lookups per byte. A firmware whose transfers must keep up
//! with a fast link, and has the flash, enables `fast-crc`.

/// A running CRC-32.
#[derive(Clone)]
pub(crate) struct Crc32 {
    #[cfg(feature = "fast-crc")]
    hasher: crc32fast::Hasher,
    #[cfg(not(feature = "fast-crc"))]
    state: u32,
}

impl Crc32 {
    pub(crate) fn new() -> Self {
        Crc32 {
            #[cfg(feature = "fast-crc")]
            hasher: crc32fast::Hasher::new(),
            #[cfg(not(feature = "fast-crc"))]
            state: !0,
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        #[cfg(feature = "fast-crc")]
        self.hasher.update(bytes);
        #[cfg(not(feature = "fast-crc"))]
        {
            self.state = by_nibbles(self.state, bytes);
        }
    }

    pub(crate) fn finalize(self) -> u32 {
        #[cfg(feature = "fast-crc")]
        return self.hasher.finalize();
        #[cfg(not(feature = "fast-crc"))]
        return !self.state;
    }
}

/// The CRC of `bytes` onto `state` (reflected polynomial 0xEDB88320), a
/// nibble at a time: `NIBBLES[n]` is the CRC of the four bits `n`.
#[cfg(any(test, not(feature = "fast-crc")))]
fn by_nibbles(mut state: u32, bytes: &[u8]) -> u32 {
    const NIBBLES: [u32; 16] = {
        let mut table = [0u32; 16];
        let mut n = 0;
        while n < 16 {
            let mut crc = n as u32;
            let mut bit = 0;
            while bit < 4 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
                bit += 1;
            }
            table[n] = crc;
            n += 1;
        }
        table
    };
    for &byte in bytes {
        state ^= u32::from(byte);
        state = (state >> 4) ^ NIBBLES[(state & 0xf) as usize];
        state = (state >> 4) ^ NIBBLES[(state & 0xf) as usize];
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_check_value_of_the_standard() {
        // CRC-32/ISO-HDLC's check: the CRC of "123456789".
        assert_eq!(!by_nibbles(!0, b"123456789"), 0xCBF4_3926);
        let mut crc = Crc32::new();
        crc.update(b"1234");
        crc.update(b"56789");
        assert_eq!(crc.finalize(), 0xCBF4_3926);
    }

    proptest! {
        #[test]
        fn nibbles_agree_with_crc32fast(bytes in proptest::collection::vec(any::<u8>(), 0..1600), split in 0usize..1600) {
            let split = split.min(bytes.len());
            let state = by_nibbles(by_nibbles(!0, &bytes[..split]), &bytes[split..]);
            prop_assert_eq!(!state, crc32fast::hash(&bytes));
        }
    }
}
