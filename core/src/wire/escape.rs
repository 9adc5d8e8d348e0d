//! The one rule for showing bytes that came off the wire as text, used by
//! every printer: names, frame summaries, the decoder, the command line and
//! the Wireshark dissector (`tools/wireshark/whohas.lua` implements the same
//! rule byte for byte).
//!
//! - Valid UTF-8 is shown as text, except characters that act on a terminal
//!   or hide what text says: control characters (C0, DEL, C1) and the
//!   invisible formatting characters that reorder or hide text (bidi
//!   controls, zero-width characters, line and paragraph separators, the
//!   byte-order mark). Those are written as their UTF-8 bytes, `\xNN` each.
//! - A backslash is doubled, so every `\x` in the output is an escape.
//! - Bytes that are not UTF-8 are written `\xNN`.
//! - [`Escaped::preview`] cuts long text after a number of bytes and says how
//!   many more there were: `...(+N bytes)`.
//!
//! Nothing in the output is below 0x20 or is a character that moves the
//! cursor, clears the screen, retitles a window or reorders the line.

use core::fmt::{self, Write};

/// `bytes` shown by the rule above (see the module).
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a> {
    bytes: &'a [u8],
    limit: usize,
}

impl<'a> Escaped<'a> {
    /// All of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Escaped { bytes, limit: usize::MAX }
    }

    /// At most the first `limit` bytes, then `...(+N bytes)` if more.
    pub fn preview(bytes: &'a [u8], limit: usize) -> Self {
        Escaped { bytes, limit }
    }
}

/// Whether `c` is written as escaped bytes rather than as itself.
pub fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

fn write_bytes_escaped(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "\\x{b:02x}"))
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.bytes[..self.bytes.len().min(self.limit)];
        for chunk in shown.utf8_chunks() {
            for c in chunk.valid().chars() {
                if must_escape(c) {
                    write_bytes_escaped(f, c.encode_utf8(&mut [0; 4]).as_bytes())?;
                } else if c == '\\' {
                    f.write_str("\\\\")?;
                } else {
                    f.write_char(c)?;
                }
            }
            write_bytes_escaped(f, chunk.invalid())?;
        }
        if shown.len() < self.bytes.len() {
            write!(f, "...(+{} bytes)", self.bytes.len() - shown.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;

    fn show(bytes: &[u8]) -> std::string::String {
        Escaped::new(bytes).to_string()
    }

    #[test]
    fn terminal_controls_and_invalid_bytes_are_escaped() {
        assert_eq!(show(b"hi\x1b]0;pwned\x07\x1b[2Jend"), "hi\\x1b]0;pwned\\x07\\x1b[2Jend");
        assert_eq!(show(b"a\0b\n\t\\"), "a\\x00b\\x0a\\x09\\\\");
        assert_eq!(show(b"\xff\xfe ok"), "\\xff\\xfe ok");
        assert_eq!(show("caf\u{e9} \u{c548}\u{b155}".as_bytes()), "caf\u{e9} \u{c548}\u{b155}", "text stays text");
        assert_eq!(show("x\u{202e}y\u{200b}z\u{85}".as_bytes()), "x\\xe2\\x80\\xaey\\xe2\\x80\\x8bz\\xc2\\x85");
        assert_eq!(show(b"\xe0\xa0A"), "\\xe0\\xa0A", "a broken sequence, then text");
    }

    #[test]
    fn output_has_no_control_bytes_whatever_the_input() {
        let all: std::vec::Vec<u8> = (0..=255u8).collect();
        assert!(show(&all).bytes().all(|b| b >= 0x20 && b != 0x7f));
    }

    #[test]
    fn previews_cut_with_a_marker() {
        assert_eq!(Escaped::preview(b"abcdef", 4).to_string(), "abcd...(+2 bytes)");
        assert_eq!(Escaped::preview(b"abc", 4).to_string(), "abc");
        assert_eq!(Escaped::preview("\u{e9}".as_bytes(), 1).to_string(), "\\xc3...(+1 bytes)");
    }
}
