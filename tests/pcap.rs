//! libpcap backend: replay golden files, the decoder against live tshark,
//! injection and capture across a veth pair, and bad input.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{Lan, Scratch, capture_frames, example, frames, repo, require_root, sh, text, whohas};
use whohas::pcap::{CaptureReader, PcapFileWriter};
use whohas::wire::transfer::{Kind, TransferRepr};

fn run(args: &[&str]) -> std::process::Output {
    Command::new(whohas()).args(args).output().unwrap()
}

/// VM1's side of the seed conversation, filtered out by tcpdump.
fn vm1_side(scratch: &Scratch) -> PathBuf {
    let path = scratch.path("vm1-side.pcap");
    let input = repo("tests/captures/seed000-vm1-vm2.pcap");
    sh("tcpdump", &["-r", input.to_str().unwrap(), "-w", path.to_str().unwrap(), "ether src 02:00:00:00:00:01"]);
    path
}

#[test]
fn checked_in_captures_are_the_shared_ones() {
    let shared = repo("../shared/captures");
    if !shared.exists() {
        support::skip(&format!("{} is not present on this machine", shared.display()));
        return;
    }
    for name in ["seed000-vm1-vm2.pcap", "seed004-arp.pcap"] {
        let ours = std::fs::read(repo(&format!("tests/captures/{name}"))).unwrap();
        assert_eq!(ours, std::fs::read(shared.join(name)).unwrap(), "{name} differs from shared/captures");
    }
}

#[test]
fn replaying_vm1s_side_reproduces_vm2s_answers() {
    let scratch = Scratch::new("replay");
    let input = vm1_side(&scratch);
    let output = scratch.path("answers.pcap");
    let replay = run(&["replay", input.to_str().unwrap(), "-n", "VM2", "-o", output.to_str().unwrap()]);
    assert!(replay.status.success(), "{}", text(&replay.stderr));
    let summary = format!("replayed 3 frames in, 3 frames out -> {}\n", output.display());
    assert!(text(&replay.stdout).ends_with(&summary), "{}", text(&replay.stdout));

    // Byte-identical to the checked-in golden file...
    let golden = repo("tests/golden/seed000-vm2-answers.pcap");
    assert_eq!(std::fs::read(&output).unwrap(), std::fs::read(&golden).unwrap(), "replay output changed");
    // ...which holds VM2's frames of the original conversation (padded to
    // Ethernet's minimum), stamped with the time of the frame they answer.
    let original = frames(&repo("tests/captures/seed000-vm1-vm2.pcap"));
    let answers = frames(&output);
    assert_eq!(answers.len(), 3);
    for (answer, (request, expected)) in answers.iter().zip([(0, 1), (2, 3), (4, 5)]) {
        let mut padded = original[expected].1.clone();
        padded.resize(padded.len().max(60), 0);
        assert_eq!(answer.1, padded);
        assert_eq!(answer.0, original[request].0);
    }
}

/// The C original as it really goes out: its name-ARP frames carry the
/// struct's uninitialised padding. tests/captures/original-c-a5-padding.pcap
/// was recorded from tests/interop/original.c built with -DPAD_FILL=0xa5,
/// as VM1 and as VM2.
#[test]
fn a_capture_of_the_original_with_garbage_padding_replays_and_decodes() {
    let scratch = Scratch::new("c-padding");
    let capture = repo("tests/captures/original-c-a5-padding.pcap");
    let recorded = frames(&capture);
    // Frame 1 byte for byte as docs/PROTOCOL.md shows it.
    let request =
        [&[0xff; 6][..], &[2, 0, 0, 0, 0, 1, 0xff, 0xfe], &[3, 0, 0, 0], &[0; 6], b"VM2", &[0xa5, 0xa5]].concat();
    assert_eq!(recorded[0].1, request, "the request, with the fill as its padding");

    // The C VM1's side, replayed to whohas as VM2: it answers all three.
    let input = scratch.path("c-vm1.pcap");
    sh("tcpdump", &["-r", capture.to_str().unwrap(), "-w", input.to_str().unwrap(), "ether src 02:00:00:00:00:01"]);
    let output = scratch.path("answers.pcap");
    let replay = run(&["replay", input.to_str().unwrap(), "-n", "VM2", "-o", output.to_str().unwrap()]);
    assert!(replay.status.success(), "{}", text(&replay.stderr));
    assert!(text(&replay.stdout).contains("replayed 3 frames in, 3 frames out"), "{}", text(&replay.stdout));
    let answers = frames(&output);
    let reply = &answers[0].1;
    assert_eq!(
        (&reply[12..14], &reply[18..24], &reply[24..27]),
        (&[0xff, 0xfe][..], &[2, 0, 0, 0, 0, 2][..], &b"VM2"[..])
    );

    // decode reads the C VM2's reply as a reply, and notes its padding.
    let decoded = text(&run(&["decode", capture.to_str().unwrap()]).stdout);
    let info: Vec<&str> = decoded.lines().map(|line| line.split_once(" 29 ").map_or("", |(_, info)| info)).collect();
    assert_eq!(&info[..2], ["Who has VM2?", "VM2 is at 02:00:00:00:00:02"], "{decoded}");
    let detail = text(&run(&["decode", "--frame", "2", capture.to_str().unwrap()]).stdout);
    assert!(detail.contains("Trailer: 2 bytes (not zero: ignored"), "{detail}");
    // The dissector says the same, as a note on the frame, not an error.
    let lua = format!("lua_script:{}", repo("tools/wireshark/whohas.lua").display());
    let verbose =
        text(&sh("tshark", &["-X", &lua, "-r", capture.to_str().unwrap(), "-V", "-Y", "frame.number == 2"]).stdout);
    assert!(verbose.contains("Padding not zero (ignored"), "{verbose}");
    assert!(!verbose.contains("Malformed"), "{verbose}");
    support::assert_decode_matches_tshark(&capture, &[], &[]);
}

/// A capture that keeps each frame's FCS, as its header says: the FCS is
/// no part of the frame whohas reads (replay answers the same), and
/// decode's Length counts it as tshark's does.
#[test]
fn captures_that_keep_the_fcs_are_read_without_it() {
    let scratch = Scratch::new("fcs");
    let plain = std::fs::read(vm1_side(&scratch)).unwrap();
    // The pcap header's link type gets "FCS present, two 16-bit words";
    // every record gets the frame's CRC-32 and 4 more bytes.
    let mut with_fcs = plain[..24].to_vec();
    let linktype = u32::from_le_bytes(plain[20..24].try_into().unwrap()) | 0x0400_0000 | (2 << 28);
    with_fcs[20..24].copy_from_slice(&linktype.to_le_bytes());
    let mut at = 24;
    while at < plain.len() {
        let captured = u32::from_le_bytes(plain[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &plain[at + 16..at + 16 + captured];
        let mut record = plain[at..at + 16].to_vec();
        for field in [8, 12] {
            let len = u32::from_le_bytes(record[field..field + 4].try_into().unwrap()) + 4;
            record[field..field + 4].copy_from_slice(&len.to_le_bytes());
        }
        record.extend_from_slice(frame);
        record.extend_from_slice(&crc32fast::hash(frame).to_le_bytes());
        with_fcs.extend_from_slice(&record);
        at += 16 + captured;
    }
    let input = scratch.path("vm1-side-fcs.pcap");
    std::fs::write(&input, &with_fcs).unwrap();
    // The reader hands over the frames as they were before the FCS.
    assert_eq!(CaptureReader::open(&input).unwrap().fcs_len(), 4);
    assert_eq!(capture_frames(&input), capture_frames(&vm1_side(&scratch)));
    let output = scratch.path("answers.pcap");
    let replay = run(&["replay", input.to_str().unwrap(), "-n", "VM2", "-o", output.to_str().unwrap(), "-q"]);
    assert!(replay.status.success(), "{}", text(&replay.stderr));
    let golden = std::fs::read(repo("tests/golden/seed000-vm2-answers.pcap")).unwrap();
    assert_eq!(std::fs::read(&output).unwrap(), golden, "the FCS changed what the station read");
    support::assert_decode_matches_tshark(&input, &[], &[]);
}

#[test]
fn replay_reads_nanosecond_and_pcapng_captures_identically() {
    let scratch = Scratch::new("formats");
    let input = vm1_side(&scratch);
    let golden = std::fs::read(repo("tests/golden/seed000-vm2-answers.pcap")).unwrap();
    for format in ["nsecpcap", "pcapng"] {
        let converted = scratch.path(&format!("vm1-side.{format}"));
        sh("editcap", &["-F", format, input.to_str().unwrap(), converted.to_str().unwrap()]);
        let output = scratch.path(&format!("answers-{format}.pcap"));
        let replay = run(&["replay", converted.to_str().unwrap(), "-n", "VM2", "-o", output.to_str().unwrap(), "-q"]);
        assert!(replay.status.success(), "{format}: {}", text(&replay.stderr));
        assert_eq!(std::fs::read(&output).unwrap(), golden, "{format} input gave a different output");
    }
}

#[test]
fn decode_agrees_with_tshark_on_the_shared_captures_and_replay_output() {
    for capture in [
        "tests/captures/seed000-vm1-vm2.pcap",
        "tests/captures/seed004-arp.pcap",
        "tests/golden/seed000-vm2-answers.pcap",
    ] {
        support::assert_decode_matches_tshark(&repo(capture), &[], &[]);
    }
}

#[test]
fn decode_agrees_with_tshark_on_the_demo_and_malformed_frames() {
    let scratch = Scratch::new("decode");
    let demo = scratch.path("demo.pcap");
    let out = Command::new(example("demo")).args(["--pcap", demo.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    support::assert_decode_matches_tshark(&demo, &[], &[]);

    // Every way a name-ARP body can be wrong, odd names, and data frames.
    let odd = scratch.path("odd.pcap");
    let mut writer = PcapFileWriter::create(&odd).unwrap();
    let header = |ethertype: u16| {
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
        frame.extend_from_slice(&ethertype.to_be_bytes());
        frame
    };
    let body = |len: u32, mac: [u8; 6], name: &[u8], tail: &[u8]| {
        let mut body = len.to_le_bytes().to_vec();
        body.extend_from_slice(&mac);
        body.extend_from_slice(name);
        body.extend_from_slice(tail);
        body
    };
    let bodies = [
        vec![1, 2, 3],
        body(200, [0; 6], b"VM2", &[0, 0]),
        body(0, [0; 6], b"", &[0, 0]),
        body(70, [0; 6], &[b'a'; 70], &[0, 0]),
        body(3, [0; 6], b"VM2", &[0, 7]),
        body(3, [3, 0, 0, 0, 0, 1], b"VM2", &[0, 0]),
        body(6, [0; 6], b"a\\b\n\xff\x7f", &[0, 0]),
        body(4, [2, 0, 0, 0, 0, 9], "h\u{e9}!".as_bytes(), &[]),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let mut frame = header(0xfffe);
        frame.extend_from_slice(body);
        writer.write(std::time::Duration::from_millis(i as u64), &frame);
    }
    for message in [&b"hi"[..], &[0u8; 3], &[b'x'; 100], b"tab\there"] {
        let mut frame = header(0xfffd);
        frame.extend_from_slice(message);
        writer.write(std::time::Duration::from_millis(100), &frame);
        frame.resize(frame.len().max(60), 0);
        writer.write(std::time::Duration::from_millis(101), &frame);
    }
    writer.flush().unwrap();
    drop(writer);
    support::assert_decode_matches_tshark(&odd, &[], &[]);
}

/// A capture of kernel traffic between two namespaces: ARP, ICMP and
/// ICMPv6 echo, neighbour discovery, MLD, UDP, a TCP connection and a port
/// unreachable. Returns its path.
fn kernel_traffic(scratch: &Scratch) -> PathBuf {
    let lan = Lan::pair();
    lan.add_ipv4();
    lan.add_ipv6();
    let path = scratch.path("kernel.pcap");
    let (a, b) = (&lan.host(1).ns, &lan.host(2).ns);
    let mut capture = support::Tcpdump::start(a, path, "");
    let server = r#"
import socket, threading
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("198.18.0.2", 7777))
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("198.18.0.2", 5555)); t.listen()
print("ready", flush=True)
def udp():
    data, peer = u.recvfrom(100); u.sendto(data.upper(), peer)
threading.Thread(target=udp, daemon=True).start()
c, _ = t.accept(); data = c.recv(100); c.sendall(data * 3); c.close()
"#;
    let mut python = b.spawn("python3", &["-c", server]);
    assert!(python.wait_for_stdout("ready", Duration::from_secs(10)), "{}", python.stderr());
    let client = r#"
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"hello", ("198.18.0.2", 7777)); u.recvfrom(100)
t = socket.create_connection(("198.18.0.2", 5555)); t.sendall(b"abc"); t.recv(100); t.close()
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("198.18.0.2", 9))
"#;
    for (program, args) in [
        ("ping", &["-c", "2", "-i", "0.2", "198.18.0.2"][..]),
        ("ping", &["-6", "-c", "2", "-i", "0.2", "2001:db8::2"]),
        ("python3", &["-c", client]),
    ] {
        let out = a.run(program, args);
        assert!(out.status.success(), "{program}: {}", text(&out.stderr));
    }
    capture.barrier(b);
    capture.stop()
}

#[test]
fn decode_agrees_with_tshark_on_kernel_traffic() {
    require_root!();
    let scratch = Scratch::new("kernel");
    let capture = kernel_traffic(&scratch);
    assert!(frames(&capture).len() >= 20, "the capture holds the whole exchange");
    support::assert_decode_matches_tshark(&capture, &[], &[]);
    let detail = run(&["decode", capture.to_str().unwrap(), "--frame", "1"]);
    let detail = text(&detail.stdout);
    assert!(detail.starts_with("Frame 1: ") && detail.contains("\n0000  "), "{detail}");
}

/// Presence frames of every kind and every way they can be wrong.
#[test]
fn decode_agrees_with_tshark_on_presence() {
    let scratch = Scratch::new("presence-decode");
    let odd = scratch.path("presence.pcap");
    let mut writer = PcapFileWriter::create(&odd).unwrap();
    let frame = |body: &[u8]| {
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x88, 0xb6]);
        frame.extend_from_slice(body);
        frame.resize(frame.len().max(60), 0);
        frame
    };
    let body = |kind: u8, flags: u8, len: u8, name: &[u8]| {
        let mut body = vec![1, kind, flags, len, 0x5e, 0xed, 0, 1, 0, 30];
        body.extend_from_slice(name);
        body
    };
    let bodies = [
        body(1, 0, 3, b"VM1"),
        body(2, 1, 3, b"VM1"),
        body(2, 0, 7, b"caf\xc3\xa9\x1b!"),
        body(3, 0, 3, b"VM1"),
        body(4, 0, 3, b"VM1"),
        body(2, 0, 0, b""),
        body(2, 0, 65, &[b'x'; 65]),
        body(2, 0, 70, b"short"),
        vec![2, 2, 0, 3, 0, 0, 0, 0, 0, 0, b'a', b'b', b'c'],
        vec![1, 2, 0],
    ];
    for (i, body) in bodies.iter().enumerate() {
        writer.write(std::time::Duration::from_millis(i as u64), &frame(body));
    }
    writer.flush().unwrap();
    drop(writer);
    let decoded = text(&run(&["decode", odd.to_str().unwrap()]).stdout);
    assert!(decoded.contains("NAME-PRES 60 ANNOUNCE VM1 expiry=30s (answer)"), "{decoded}");
    assert!(decoded.contains("ANNOUNCE caf\u{e9}\\x1b! expiry=30s"), "escaped: {decoded}");
    support::assert_decode_matches_tshark(&odd, &[], &[]);
}

/// A real transfer under loss (SYN, DATA, ACKs with SACK bitmaps,
/// retransmissions, FIN, FIN-ACK, a message connection) and every way a
/// transfer frame can be wrong: decode and the dissector agree on all.
#[test]
fn decode_agrees_with_tshark_on_transfers() {
    require_root!();
    let scratch = Scratch::new("xfer-decode");
    let lan = Lan::bridged(2);
    lan.lossy(10);
    let capture = scratch.path("transfer.pcap");
    let (a, b) = (&lan.host(1).ns, &lan.host(2).ns);
    let filter = "ether proto 0x88b5 or ether proto 0xfffe";
    let mut tcpdump = support::Tcpdump::start(a, capture.clone(), filter);
    let inbox = Scratch::new("xfer-decode-inbox");
    let mut receiver = b.spawn_whohas(&["receive", "-i", "eth0", "-n", "B", "--dir", inbox.0.to_str().unwrap()]);
    assert!(receiver.wait_for_stdout("B answering on eth0", Duration::from_secs(10)), "{}", receiver.stderr());
    let file = scratch.path("a \x1b[2J file.bin");
    std::fs::write(&file, vec![7u8; 300_000]).unwrap();
    for args in [&["B", "--file", file.to_str().unwrap()][..], &["B", "a message"]] {
        // Resolution over a lossy link: enough attempts that it never fails.
        let sent = a.whohas(
            &[&["send", "-i", "eth0", "-n", "A", "--attempts", "10", "--interval-ms", "200"][..], args].concat(),
        );
        assert!(sent.status.success(), "{}", text(&sent.stderr));
    }
    tcpdump.barrier(b);
    tcpdump.stop();
    receiver.terminate();
    let decoded = text(&run(&["decode", capture.to_str().unwrap()]).stdout);
    for kind in ["SYN conn=", ", file a \\x1b[2J file.bin (300000 bytes)", "SYN-ACK", "DATA", " sack=", "FIN-ACK"] {
        assert!(decoded.contains(kind), "the capture shows {kind:?}: {decoded}");
    }
    support::assert_decode_matches_tshark(&capture, &[], &[]);

    let (from, to) = (support::host_mac(1), support::host_mac(2));
    let good = TransferRepr {
        kind: Kind::Ping,
        from_initiator: true,
        messages: false,
        conn_id: 0xfeed_0001,
        seq: u32::MAX,
        ack: 0,
        window: 0,
        timestamp: 5,
        echo: 4,
        sack: &[],
        payload: &[],
    };
    let syn = |name: &[u8], header: &[u8], messages: bool| {
        let payload = [&[name.len() as u8][..], name, header].concat();
        support::transfer_frame(
            from,
            to,
            &TransferRepr { kind: Kind::Syn, messages, payload: &payload, ..good.clone() },
        )
    };
    let mut offer = vec![1u8];
    offer.extend_from_slice(&u64::MAX.to_be_bytes());
    offer.extend_from_slice(&[0; 32]);
    offer.extend_from_slice(b"\x10../../etc/passwd");
    // Today's offer (kind 2: the SHA-256 follows the file), with a name
    // that would move a terminal's cursor, and one cut inside its name.
    let mut offer2 = vec![2u8];
    offer2.extend_from_slice(&5u64.to_be_bytes());
    offer2.extend_from_slice(b"\x0aa\x1b[2Jb.txt");
    let cut = &offer2[..offer2.len() - 3];
    let frames = [
        support::transfer_frame(from, to, &good),
        support::transfer_frame(to, from, &TransferRepr { kind: Kind::Reset, payload: &[0, 2], ..good.clone() }),
        support::transfer_frame(to, from, &TransferRepr { kind: Kind::Reset, payload: &[9], ..good.clone() }),
        syn(b"A", &offer, false),
        syn(b"A", &offer2, false),
        syn(b"A", cut, false),
        syn(b"A\x07", b"", true),
        syn(b"A", b"xyz", false),
        syn(b"", b"", false),
        syn(&[b'n'; 65], b"", false),
        support::transfer_frame(from, to, &TransferRepr { kind: Kind::Syn, payload: &[9, b'A'], ..good.clone() }),
        support::transfer_frame(from, to, &TransferRepr { kind: Kind::Syn, payload: &[], ..good.clone() }),
    ];
    let odd = scratch.path("odd-transfer.pcap");
    let mut writer = PcapFileWriter::create(&odd).unwrap();
    let mut time = 0;
    let mut write = |frame: &[u8]| {
        time += 1;
        let mut padded = frame.to_vec();
        padded.resize(frame.len().max(60), 0);
        writer.write(std::time::Duration::from_millis(time), &padded);
    };
    for frame in &frames {
        write(frame);
    }
    // One of each fault on a good frame: a flipped bit, a foreign version,
    // an unknown kind, an oversized SACK bitmap, a length past the end, a
    // cut frame.
    let ping = &frames[0];
    for (at, value) in [(20, 0x40), (14, 2), (15, 0x10), (17, 65), (41, 0xff)] {
        let mut bad = ping.clone();
        bad[at] ^= value;
        write(&bad);
    }
    write(&ping[..30]);
    writer.flush().unwrap();
    drop(writer);
    let decoded = text(&run(&["decode", odd.to_str().unwrap()]).stdout);
    for offer in [", file a\\x1b[2Jb.txt (5 bytes)", ", file ../../etc/passwd (18446744073709551615 bytes)"] {
        assert!(decoded.contains(offer), "both kinds of offer read: {decoded}");
    }
    support::assert_decode_matches_tshark(&odd, &[], &[]);
}

/// Frames of `capture` as received on the other end of a veth pair, up to
/// the marker that follows them (which is not returned).
fn inject_and_capture(capture: &Path, inject_args: &[&str]) -> (Vec<Vec<u8>>, String) {
    let scratch = Scratch::new("inject");
    let lan = Lan::pair();
    let mut tcpdump = support::Tcpdump::start(&lan.host(2).ns, scratch.path("received.pcap"), "");
    let mut args = vec!["inject", "-i", "eth0", capture.to_str().unwrap()];
    args.extend_from_slice(inject_args);
    let inject = lan.host(1).ns.whohas(&args);
    assert!(inject.status.success(), "inject: {}", text(&inject.stderr));
    // The marker, sent from the injecting side after everything else.
    tcpdump.barrier(&lan.host(1).ns);
    let mut received = capture_frames(&tcpdump.stop());
    assert!(received.pop().is_some_and(|marker| marker.ends_with(b"barrier")), "the marker came last");
    (received, text(&inject.stdout))
}

#[test]
fn injected_frames_arrive_intact_on_the_other_end() {
    require_root!();
    let original = capture_frames(&repo("tests/captures/seed004-arp.pcap"));
    for args in [
        &["--topspeed", "--loop", "3"][..],
        &["--topspeed", "--loop", "3", "--via", "xdp"],
        &["--pps", "500", "--loop", "3", "--via", "pcap"],
        &["--multiplier", "50"],
    ] {
        let (received, stats) = inject_and_capture(&repo("tests/captures/seed004-arp.pcap"), args);
        let loops = if args.contains(&"--loop") { 3 } else { 1 };
        let expected: Vec<Vec<u8>> = (0..loops).flat_map(|_| original.clone()).collect();
        assert_eq!(received, expected, "inject {args:?}");
        assert!(stats.starts_with(&format!("sent {} packets, ", expected.len())), "{stats}");
        assert!(stats.trim_end().ends_with(", 0 failed"), "{stats}");
    }
}

#[test]
fn a_responder_over_libpcap_talks_to_vm1_over_af_packet() {
    require_root!();
    let lan = Lan::pair();
    let mut vm2 = lan.host(2).ns.spawn_whohas(&[
        "respond",
        "-i",
        "eth0",
        "-n",
        "VM2",
        "--reply",
        "Nice to meet you!\\n",
        "--via",
        "pcap",
    ]);
    assert!(vm2.wait_for_stdout("VM2 answering on eth0", Duration::from_secs(10)), "{}", vm2.stderr());
    let vm1 = lan.host(1).ns.run(example("vm1"), &["eth0", "VM1", "VM2"]);
    assert!(vm1.status.success(), "{}{}", text(&vm1.stdout), text(&vm1.stderr));
    assert!(text(&vm1.stdout).contains("received from VM2: Nice to meet you!"));
    assert!(text(&vm1.stdout).contains("name-ARP requests sent: 1"));
}

#[test]
fn frames_cut_by_a_snap_length_are_skipped_not_misread() {
    let scratch = Scratch::new("snaplen");
    let input = vm1_side(&scratch);
    // The same capture cut to 40 bytes a frame: the data frames lose their
    // tails, the name-ARP request (29 bytes) stays whole.
    let cut = scratch.path("cut.pcap");
    sh("editcap", &["-s", "40", input.to_str().unwrap(), cut.to_str().unwrap()]);
    let output = scratch.path("answers.pcap");
    let replay = run(&["replay", cut.to_str().unwrap(), "-n", "VM2", "-o", output.to_str().unwrap()]);
    assert!(replay.status.success(), "{}", text(&replay.stderr));
    let out = text(&replay.stdout);
    assert!(
        out.contains("replayed 3 frames in (2 cut short by the capture's snap length, skipped), 1 frames out"),
        "{out}"
    );
    assert!(!out.contains("received from"), "no data frame was handed over in part: {out}");
    let answers = frames(&output);
    assert_eq!(answers.len(), 1, "only the name-ARP request was answered");
}
