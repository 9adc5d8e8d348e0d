//! Classic BPF programs run by the kernel on each frame before it is copied
//! to user space, so a node on a busy segment only wakes for its ethertypes.

use libc::sock_filter;
use whohas_link::EtherType;

const BPF_LD_H_ABS: u16 = (libc::BPF_LD | libc::BPF_H | libc::BPF_ABS) as u16;
const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
/// Offset of the ethertype in an Ethernet II frame.
const ETHERTYPE_OFFSET: u32 = 12;
/// "Accept the whole frame" (the kernel truncates to the frame's length).
const ACCEPT: u32 = 0x0004_0000;

fn op(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// A program that accepts frames whose ethertype is one of `ethertypes`
/// and drops everything else. At most 254 ethertypes (jump offsets are u8).
pub(crate) fn ethertype_filter(ethertypes: &[EtherType]) -> Vec<sock_filter> {
    let count = ethertypes.len().min(254);
    let mut program = Vec::with_capacity(count + 3);
    program.push(op(BPF_LD_H_ABS, 0, 0, ETHERTYPE_OFFSET));
    for (i, ethertype) in ethertypes[..count].iter().enumerate() {
        // On a match jump over the remaining comparisons and the reject.
        let to_accept = (count - i) as u8;
        program.push(op(BPF_JEQ_K, to_accept, 0, u32::from(ethertype.0)));
    }
    program.push(op(BPF_RET_K, 0, 0, 0));
    program.push(op(BPF_RET_K, 0, 0, ACCEPT));
    program
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny interpreter for the three instructions the builder emits.
    fn run(program: &[sock_filter], frame: &[u8]) -> u32 {
        let (mut pc, mut a) = (0usize, 0u32);
        loop {
            let insn = program[pc];
            match insn.code {
                BPF_LD_H_ABS => {
                    let at = insn.k as usize;
                    a = u32::from(u16::from_be_bytes([frame[at], frame[at + 1]]));
                    pc += 1;
                }
                BPF_JEQ_K => pc += 1 + usize::from(if a == insn.k { insn.jt } else { insn.jf }),
                BPF_RET_K => return insn.k,
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    #[test]
    fn accepts_only_listed_ethertypes() {
        let program = ethertype_filter(&[EtherType::NAME_ARP, EtherType::DATA, EtherType::ARP]);
        let frame = |ethertype: u16| {
            let mut frame = [0u8; 60];
            frame[12..14].copy_from_slice(&ethertype.to_be_bytes());
            frame
        };
        for accepted in [0xfffe, 0xfffd, 0x0806] {
            assert_eq!(run(&program, &frame(accepted)), ACCEPT, "{accepted:#x}");
        }
        for rejected in [0x0800, 0x86dd, 0xffff, 0] {
            assert_eq!(run(&program, &frame(rejected)), 0, "{rejected:#x}");
        }
        assert_eq!(run(&ethertype_filter(&[]), &frame(0x0800)), 0);
    }
}
