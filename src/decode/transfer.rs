//! The Info column of the reliable transfer (ethertype 0x88B5), as
//! `tools/wireshark/whohas.lua` writes it.

use std::fmt::Write;

use whohas_core::wire::transfer::{Kind, SynAckPayload, SynPayload, TransferRepr, train_len};
use whohas_core::wire::{Escaped, EthernetAddress};

use crate::file_offer::FileOffer;

/// One line saying what a transfer frame does, e.g.
/// `DATA conn=1a2b3c4d seq=256 len=6`, or `Malformed: checksum mismatch`.
pub(super) fn info(dst: EthernetAddress, src: EthernetAddress, body: &[u8]) -> String {
    let repr = match TransferRepr::parse(dst, src, body) {
        Ok(repr) => repr,
        Err(err) => return format!("Malformed: {err}"),
    };
    let mut info = format!("{} conn={:08x}", repr.kind, repr.conn_id);
    let status = || match repr.payload {
        [high, low, ..] => u16::from_be_bytes([*high, *low]).to_string(),
        _ => "?".to_owned(),
    };
    let _ = match repr.kind {
        Kind::Syn => return syn(info, &repr),
        Kind::Data => {
            let _ = write!(info, " seq={} len={}", repr.seq, repr.payload.len());
            match train_len(repr.payload.len()) {
                1 => Ok(()),
                segments => write!(info, " ({segments} segments)"),
            }
        }
        Kind::Fin | Kind::Ping => write!(info, " seq={}", repr.seq),
        Kind::SynAck => {
            let _ = write!(info, " ack={} win={}", repr.ack, repr.window);
            match repr.payload.len() >= SynAckPayload::LEN {
                true => write!(info, " trains<={}", SynAckPayload::parse(repr.payload).max_payload),
                false => Ok(()),
            }
        }
        Kind::Ack => {
            let _ = write!(info, " ack={} win={}", repr.ack, repr.window);
            match repr.sack.iter().map(|byte| byte.count_ones()).sum::<u32>() {
                0 => Ok(()),
                held => write!(info, " sack={held}"),
            }
        }
        Kind::FinAck => write!(info, " ack={} status={}", repr.ack, status()),
        Kind::Reset => write!(info, " status={}", status()),
    };
    info
}

/// `SYN conn=… seq=… from NAME`, then what the connection carries.
fn syn(mut info: String, repr: &TransferRepr<'_>) -> String {
    let syn = match SynPayload::parse(repr.payload) {
        Ok(syn) => syn,
        Err(err) => return format!("Malformed: {err}"),
    };
    let _ = write!(info, " seq={} from {}", repr.seq, Escaped::new(syn.name));
    let _ = if repr.messages {
        write!(info, ", messages")
    } else if let Ok(offer) = FileOffer::parse_fields(syn.header) {
        write!(info, ", file {} ({} bytes)", Escaped::new(&offer.name), offer.size)
    } else if !syn.header.is_empty() {
        write!(info, ", header {} bytes", syn.header.len())
    } else {
        Ok(())
    };
    info
}

/// The fields of a transfer frame, `tshark -V` style.
pub(super) fn detail(out: &mut String, dst: EthernetAddress, src: EthernetAddress, body: &[u8]) {
    let Ok(repr) = TransferRepr::parse(dst, src, body) else { return };
    let _ = writeln!(out, "whohas reliable transfer");
    let _ = writeln!(out, "    Kind: {}", repr.kind);
    let _ = writeln!(out, "    From: the {}", if repr.from_initiator { "initiator" } else { "receiver" });
    let _ = writeln!(out, "    Connection id: 0x{:08x}", repr.conn_id);
    let _ = writeln!(out, "    Sequence number: {}", repr.seq);
    let _ = writeln!(out, "    Acknowledgement: {}", repr.ack);
    let _ = writeln!(out, "    Window: {} segments", repr.window);
    let _ = writeln!(out, "    Timestamp: {} µs, echo {} µs", repr.timestamp, repr.echo);
    let _ = writeln!(out, "    SACK bitmap: {} bytes", repr.sack.len());
    let _ = writeln!(out, "    Payload: {} bytes", repr.payload.len());
}
