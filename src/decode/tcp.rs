//! TCP conversation tracking for tshark-style summaries: relative sequence
//! numbers, window scaling, and the commonest analysis flags.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::IpAddr;

use etherparse::{TcpOptionElement, TcpSlice};

type Endpoint = (IpAddr, u16);

/// What is known about one direction of a conversation.
#[derive(Default)]
struct Direction {
    /// Initial sequence number (or the first one seen).
    base_seq: Option<u32>,
    /// Window scale shift from this side's SYN: `Some(None)` a SYN without
    /// the option, `None` no SYN seen.
    syn_scale: Option<Option<u8>>,
    /// Highest sequence number sent so far plus one.
    next_seq: Option<u32>,
    last_ack: Option<u32>,
    last_window: Option<u16>,
    /// The frame that first carried `last_ack`, which duplicate ACKs repeat.
    ack_frame: u64,
    dup_count: u32,
}

#[derive(Default)]
struct Conversation {
    /// Directions indexed by "from the lower endpoint" (0) or not (1).
    dirs: [Direction; 2],
}

/// All conversations seen so far.
#[derive(Default)]
pub(super) struct Tracker {
    conversations: HashMap<(Endpoint, Endpoint), Conversation>,
}

fn flags(tcp: &TcpSlice<'_>) -> String {
    let names = [
        (tcp.fin(), "FIN"),
        (tcp.syn(), "SYN"),
        (tcp.rst(), "RST"),
        (tcp.psh(), "PSH"),
        (tcp.ack(), "ACK"),
        (tcp.urg(), "URG"),
        (tcp.ece(), "ECE"),
        (tcp.cwr(), "CWR"),
        (tcp.ns(), "AE"),
    ];
    let set: Vec<&str> = names.iter().filter(|(on, _)| *on).map(|(_, name)| *name).collect();
    if set.is_empty() { "<None>".to_owned() } else { set.join(", ") }
}

fn options(tcp: &TcpSlice<'_>) -> (String, Option<u8>) {
    let mut text = String::new();
    let mut scale = None;
    for option in tcp.options_iterator() {
        let Ok(option) = option else { break };
        let written = match option {
            TcpOptionElement::MaximumSegmentSize(mss) => write!(text, " MSS={mss}"),
            TcpOptionElement::WindowScale(shift) => {
                scale = Some(shift);
                write!(text, " WS={}", 1u32 << shift.min(14))
            }
            TcpOptionElement::SelectiveAcknowledgementPermitted => write!(text, " SACK_PERM"),
            TcpOptionElement::SelectiveAcknowledgement(first, rest) => {
                let mut blocks = std::iter::once(first).chain(rest.into_iter().flatten());
                blocks.try_for_each(|(left, right)| write!(text, " SLE={left} SRE={right}"))
            }
            TcpOptionElement::Timestamp(value, echo) => write!(text, " TSval={value} TSecr={echo}"),
            TcpOptionElement::Noop => Ok(()),
        };
        // Writing to a String cannot fail.
        let _ = written;
    }
    (text, scale)
}

impl Tracker {
    /// The Info column for a TCP segment from `src` to `dst`.
    pub(super) fn info(&mut self, number: u64, src: IpAddr, dst: IpAddr, tcp: &TcpSlice<'_>) -> String {
        let from: Endpoint = (src, tcp.source_port());
        let to: Endpoint = (dst, tcp.destination_port());
        let (key, index) = if from <= to { ((from, to), 0) } else { ((to, from), 1) };
        let conversation = self.conversations.entry(key).or_default();
        let [low, high] = &mut conversation.dirs;
        let (this, other) = if index == 0 { (low, high) } else { (high, low) };

        let seq = tcp.sequence_number();
        let len = tcp.payload().len() as u32;
        let (option_text, scale) = options(tcp);
        if tcp.syn() {
            this.base_seq = Some(seq);
            this.syn_scale = Some(scale);
        }
        let base = *this.base_seq.get_or_insert(seq);
        let window = u32::from(tcp.window_size());
        let shown_window = match (tcp.syn(), this.syn_scale, other.syn_scale) {
            (false, Some(Some(mine)), Some(Some(_))) => window << mine.min(14),
            _ => window,
        };

        let analysis = self::analysis(this, number, tcp, seq, len);
        let mut info = format!(
            "{analysis}{} → {} [{}] Seq={}",
            tcp.source_port(),
            tcp.destination_port(),
            flags(tcp),
            seq.wrapping_sub(base)
        );
        if tcp.ack() {
            let ack = tcp.acknowledgment_number();
            let other_base = *other.base_seq.get_or_insert(ack.wrapping_sub(1));
            let _ = write!(info, " Ack={}", ack.wrapping_sub(other_base));
        }
        let _ = write!(info, " Win={shown_window} Len={len}");
        if tcp.urg() {
            let _ = write!(info, " Urg={}", tcp.urgent_pointer());
        }
        info.push_str(&option_text);
        info
    }
}

/// tshark's sequence analysis, reduced to what a clean capture shows:
/// retransmissions, keep-alives, window updates, duplicate ACKs, zero
/// windows and gaps. Updates the direction's state.
fn analysis(this: &mut Direction, number: u64, tcp: &TcpSlice<'_>, seq: u32, len: u32) -> String {
    let control = tcp.syn() || tcp.fin() || tcp.rst();
    let seg_end = seq.wrapping_add(len).wrapping_add(u32::from(tcp.syn()) + u32::from(tcp.fin()));
    let ack = tcp.ack().then(|| tcp.acknowledgment_number());
    let window = tcp.window_size();
    let mut flags = Vec::new();
    if let Some(next) = this.next_seq {
        let ahead = seq.wrapping_sub(next) as i32;
        let same_state = ack == this.last_ack && ack.is_some();
        if !control && len <= 1 && ahead == -1 {
            flags.push("TCP Keep-Alive".to_owned());
        } else if ahead > 0 && !tcp.rst() {
            flags.push("TCP Previous segment not captured".to_owned());
        } else if (len > 0 || tcp.syn() || tcp.fin()) && (seg_end.wrapping_sub(next) as i32) <= 0 {
            flags.push("TCP Retransmission".to_owned());
        } else if len == 0 && !control && same_state && ahead == 0 {
            if Some(window) != this.last_window {
                flags.push("TCP Window Update".to_owned());
            } else {
                this.dup_count += 1;
                flags.push(format!("TCP Dup ACK {}#{}", this.ack_frame, this.dup_count));
            }
        }
        if window == 0 && !control {
            flags.push("TCP ZeroWindow".to_owned());
        }
    }
    if !flags.iter().any(|flag| flag.starts_with("TCP Dup ACK")) {
        this.dup_count = 0;
    }
    if this.next_seq.is_none_or(|next| (seg_end.wrapping_sub(next) as i32) > 0) {
        this.next_seq = Some(seg_end);
    }
    if ack != this.last_ack {
        this.ack_frame = number;
    }
    this.last_ack = ack;
    this.last_window = Some(window);
    flags.iter().map(|flag| format!("[{flag}] ")).collect()
}
