//! The Info column of presence (ethertype 0x88B6), as
//! `tools/wireshark/whohas.lua` writes it.

use whohas_core::wire::presence::{PresenceKind, PresenceRepr};

/// One line saying what a presence frame says, e.g.
/// `ANNOUNCE VM1 expiry=30s (answer)`, or `Malformed: …`.
pub(super) fn info(payload: &[u8]) -> String {
    match PresenceRepr::parse(payload) {
        Ok(repr) => match repr.kind {
            PresenceKind::Probe => format!("PROBE for {}", repr.name),
            PresenceKind::Announce => format!(
                "ANNOUNCE {} expiry={}s{}",
                repr.name,
                repr.expiry_secs,
                if repr.answer { " (answer)" } else { "" }
            ),
            PresenceKind::Goodbye => format!("GOODBYE {}", repr.name),
        },
        Err(err) => format!("Malformed: {err}"),
    }
}
