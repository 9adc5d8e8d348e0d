//! The reliable transfer between `whohas send` and `whohas receive` across
//! network namespaces: files arrive byte-identical over a link that loses a
//! fifth of the frames each way, five senders share one receiver fairly,
//! messages are acknowledged, hostile offers are refused, and a peer that
//! dies ends the transfer cleanly on the other side (root only).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use support::{Lan, Scratch, random_file, require_root, text, wait_until_arriving, whohas};
use whohas::EthernetAddress;
use whohas::wire::transfer::{Kind, SynPayload, TransferRepr};

const WAIT: Duration = Duration::from_secs(10);

fn sha256(path: &Path) -> Vec<u8> {
    Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

/// Starts `whohas receive -n B --dir DIR` (and `extra`) on host `index`.
fn start_receiver(lan: &Lan, index: usize, dir: &Path, extra: &[&str]) -> support::Process {
    let mut args = vec!["receive", "-i", "eth0", "-n", "B", "--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let mut receiver = lan.host(index).ns.spawn_whohas(&args);
    assert!(receiver.wait_for_stdout("B answering on eth0", WAIT), "receive did not start: {}", receiver.stderr());
    receiver
}

#[test]
fn a_file_crosses_a_link_losing_a_fifth_of_its_frames_each_way_intact() {
    require_root!();
    let lan = Lan::bridged(2);
    lan.lossy(20);
    let (scratch, inbox) = (Scratch::new("lossy"), Scratch::new("lossy-inbox"));
    let file = random_file(&scratch.path("big.bin"), 10 << 20);
    let mut receiver = start_receiver(&lan, 2, &inbox.0, &[]);
    // A name-ARP exchange gets through with probability 0.64 here: with
    // the default 3 attempts, resolution alone would fail 1 run in 21.
    let args = ["send", "-i", "eth0", "-n", "A", "B", "--attempts", "20", "--interval-ms", "200"];
    let sent = lan.host(1).ns.whohas(&[&args[..], &["--file", file.to_str().unwrap()]].concat());
    let out = text(&sent.stdout);
    assert!(sent.status.success(), "{out}{}", text(&sent.stderr));
    assert!(out.starts_with(&format!("sent {} to B: 10485760 bytes in ", file.display())), "{out}");
    assert!(out.contains("the receiver verified sha256 "), "{out}");
    assert!(receiver.wait_for_stdout("received big.bin from A: 10485760 bytes", WAIT), "{}", receiver.stdout());
    assert_eq!(sha256(&inbox.path("big.bin")), sha256(&file), "byte-identical");
    let retransmits: u64 = out
        .split(", ")
        .find(|part| part.contains(" segments sent again"))
        .and_then(|part| part.split(' ').next()?.parse().ok())
        .unwrap();
    println!("10 MiB at 20 % loss each way: {out}");
    assert!(retransmits > 1_000, "the link did lose frames: {out}");
    assert_eq!(receiver.terminate().code(), Some(0));
}

/// With `--via xdp` frames go out through AF_XDP, past the sender's own
/// captures (tcpdump on the receiver's side sees them all); without it, or
/// while another program holds the interface's AF_XDP queue, through the
/// packet socket (with a warning that says why). Every file arrives intact
/// either way.
#[test]
fn send_via_xdp_goes_through_af_xdp_unless_the_kernel_refuses_it() {
    require_root!();
    let lan = Lan::pair();
    let (scratch, inbox) = (Scratch::new("xdp"), Scratch::new("xdp-inbox"));
    let mut receiver = start_receiver(&lan, 2, &inbox.0, &["-v", "--via", "xdp"]);
    assert!(receiver.wait_for_stderr("eth0: sending through AF_XDP", WAIT), "{}", receiver.stderr());
    let mut files = 0;
    let mut send = |extra: &[&str]| {
        files += 1;
        let name = format!("f{files}.bin");
        let file = random_file(&scratch.path(&name), 4 << 20);
        let args = ["send", "-v", "-i", "eth0", "-n", "A", "B", "--file", file.to_str().unwrap()];
        let sent = lan.host(1).ns.whohas(&[&args[..], extra].concat());
        assert!(sent.status.success(), "{}{}", text(&sent.stdout), text(&sent.stderr));
        assert!(receiver.has_or_waits_for_stdout(&format!("received {name} "), WAIT), "{}", receiver.stdout());
        assert_eq!(sha256(&inbox.path(&name)), sha256(&file), "{name} intact");
        text(&sent.stderr)
    };
    let path = |log: &str| log.lines().find_map(|line| line.split("eth0: sending through ").nth(1)).map(str::to_owned);
    let mut captured = support::Tcpdump::start(&lan.host(2).ns, scratch.path("h2.pcap"), "ether proto 0x88b5");
    let mut own = support::Tcpdump::start(&lan.host(1).ns, scratch.path("h1.pcap"), "ether proto 0x88b5");
    let log = send(&["--via", "xdp"]);
    assert_eq!(path(&log).as_deref(), Some("AF_XDP"), "{log}");
    // The sender's segments are all on the wire, and none in its own capture.
    captured.barrier(&lan.host(1).ns);
    own.barrier(&lan.host(2).ns);
    let from_sender = |tcpdump: support::Tcpdump| {
        let frames = support::capture_frames(&tcpdump.stop());
        frames.iter().filter(|frame| frame[6..12] == support::host_mac(1).0).count()
    };
    assert!(from_sender(captured) > 2800, "4 MiB are 2900 segments at least, seen at the receiver");
    assert_eq!(from_sender(own), 0, "AF_XDP frames pass captures on the sending host by");
    assert_eq!(path(&send(&[])).as_deref(), Some("packet socket"), "the default");
    let mut holder = lan.host(1).ns.spawn_whohas(&["respond", "-v", "--via", "xdp", "-i", "eth0", "-n", "H"]);
    assert!(holder.wait_for_stderr("eth0: sending through AF_XDP", WAIT), "{}", holder.stderr());
    let log = send(&["--via", "xdp"]);
    assert_eq!(path(&log).as_deref(), Some("packet socket"), "another program holds queue 0's AF_XDP socket");
    assert!(log.contains("eth0: no AF_XDP socket (Device or resource busy)"), "{log}");
    holder.terminate();
    receiver.terminate();
}

#[test]
fn five_senders_at_once_all_arrive_and_the_slowest_takes_at_most_twice_the_fastest() {
    require_root!();
    let lan = Lan::bridged(6);
    let (scratch, inbox) = (Scratch::new("five"), Scratch::new("five-inbox"));
    let mut receiver = start_receiver(&lan, 6, &inbox.0, &[]);
    let files: Vec<PathBuf> = (1..=5).map(|i| random_file(&scratch.path(&format!("from{i}.bin")), 10 << 20)).collect();
    let started = Instant::now();
    let senders: Vec<_> = files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let name = format!("A{}", i + 1);
            let child = lan
                .host(i + 1)
                .ns
                .command(whohas())
                .args(["send", "-i", "eth0", "-n", &name, "B", "--file", file.to_str().unwrap()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::thread::spawn(move || {
                let out = child.wait_with_output().unwrap();
                (out, started.elapsed())
            })
        })
        .collect();
    let mut times = Vec::new();
    for (i, sender) in senders.into_iter().enumerate() {
        let (out, took) = sender.join().unwrap();
        assert!(out.status.success(), "sender {}: {}{}", i + 1, text(&out.stdout), text(&out.stderr));
        times.push(took);
    }
    for (i, file) in files.iter().enumerate() {
        let name = format!("from{}.bin", i + 1);
        assert!(receiver.has_or_waits_for_stdout(&format!("received {name} "), WAIT), "{}", receiver.stdout());
        assert_eq!(sha256(&inbox.path(&name)), sha256(file), "{name} intact");
    }
    let (fastest, slowest) = (times.iter().min().unwrap(), times.iter().max().unwrap());
    println!("five 10 MiB transfers at once: {times:?}");
    assert!(*slowest <= *fastest * 2, "unfair: the slowest took {slowest:?}, the fastest {fastest:?}");
    receiver.terminate();
}

#[test]
fn a_message_is_acknowledged_and_printed_once() {
    require_root!();
    let lan = Lan::pair();
    let inbox = Scratch::new("messages");
    let mut receiver = start_receiver(&lan, 2, &inbox.0, &[]);
    let sent = lan.host(1).ns.whohas(&["send", "-i", "eth0", "-n", "A", "B", "hello B\x1b[2J"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    assert_eq!(text(&sent.stdout).trim(), format!("delivered 11 bytes to B ({})", lan.host(2).mac_string()));
    assert!(receiver.wait_for_stdout("message from A: hello B\\x1b[2J", WAIT), "{}", receiver.stdout());
    let long = "x".repeat(2000);
    let refused = lan.host(1).ns.whohas(&["send", "-i", "eth0", "-n", "A", "B", &long]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        text(&refused.stderr).trim(),
        "whohas: a 2000-byte message does not fit one frame (at most 1468 bytes); send it as a file with --file"
    );
    let nobody = lan.host(1).ns.whohas(&["send", "-i", "eth0", "-n", "A", "C", "anyone?", "--interval-ms", "50"]);
    assert_eq!(nobody.status.code(), Some(1));
    assert_eq!(
        text(&nobody.stderr).trim(),
        "whohas: no answer from C on eth0 after 3 requests 50 ms apart: is it running on the same Ethernet segment?"
    );
    receiver.terminate();
    assert!(
        receiver.stdout_lines.last().unwrap().starts_with("stats: 0 files saved, 1 messages"),
        "{}",
        receiver.stdout()
    );
}

/// A capture holding one SYN from `from` to `to` opening a stream named
/// `name`, with an offer whose file name is `file_name`.
fn hostile_offer(scratch: &Scratch, from: EthernetAddress, to: EthernetAddress, file_name: &[u8]) -> PathBuf {
    let mut offer = vec![1u8];
    offer.extend_from_slice(&5u64.to_be_bytes());
    offer.extend_from_slice(&[0; 32]);
    offer.push(file_name.len() as u8);
    offer.extend_from_slice(file_name);
    let syn = SynPayload { name: b"A", header: &offer };
    let mut payload = vec![0u8; syn.buffer_len()];
    syn.emit(&mut payload);
    let repr = TransferRepr {
        kind: Kind::Syn,
        from_initiator: true,
        messages: false,
        conn_id: 0x0bad_f00d,
        seq: 1,
        ack: 0,
        window: 0,
        timestamp: 1,
        echo: 0,
        sack: &[],
        payload: &payload,
    };
    let frame = support::transfer_frame(from, to, &repr);
    let path = scratch.path("hostile.pcap");
    support::write_capture(&path, &[frame]);
    path
}

#[test]
fn receive_refuses_paths_and_senders_it_does_not_accept() {
    require_root!();
    let lan = Lan::pair();
    let (scratch, inbox) = (Scratch::new("refuse"), Scratch::new("refuse-inbox"));
    let mut receiver = start_receiver(&lan, 2, &inbox.0, &["--accept", "A,C"]);
    let (a, b) = (lan.host(1).mac, lan.host(2).mac);
    for name in [&b"../escaped"[..], b"/etc/passwd", b".."] {
        let capture = hostile_offer(&scratch, a, b, name);
        let injected = lan.host(1).ns.whohas(&["inject", "-i", "eth0", capture.to_str().unwrap()]);
        assert!(injected.status.success(), "{}", text(&injected.stderr));
        assert!(
            receiver.wait_for_stdout(
                "refused a transfer from A (02:00:00:00:00:01): the file's name is empty, a path",
                WAIT
            ),
            "{}",
            receiver.stdout()
        );
    }
    assert_eq!(std::fs::read_dir(&inbox.0).unwrap().count(), 0, "nothing written in the directory");
    assert!(!scratch.path("escaped").exists() && !inbox.0.parent().unwrap().join("escaped").exists(), "nor outside it");

    let file = random_file(&scratch.path("small.bin"), 4096);
    let denied = lan.host(1).ns.whohas(&["send", "-i", "eth0", "-n", "D", "B", "--file", file.to_str().unwrap()]);
    assert_eq!(denied.status.code(), Some(1), "{}", text(&denied.stderr));
    assert_eq!(text(&denied.stderr).trim(), "whohas: B: refused by the receiver");
    assert!(receiver.wait_for_stdout("refused a transfer from D", WAIT));
    // A name that exists already is not overwritten.
    std::fs::write(inbox.path("small.bin"), b"keep me").unwrap();
    let kept = lan.host(1).ns.whohas(&["send", "-i", "eth0", "-n", "A", "B", "--file", file.to_str().unwrap()]);
    assert!(kept.status.success(), "{}", text(&kept.stderr));
    assert!(receiver.wait_for_stdout("-> ", WAIT));
    assert_eq!(std::fs::read(inbox.path("small.bin")).unwrap(), b"keep me");
    assert_eq!(sha256(&inbox.path("small.bin.1")), sha256(&file));
    receiver.terminate();
}

#[test]
fn a_peer_that_dies_mid_transfer_ends_the_other_side_cleanly() {
    require_root!();
    let lan = Lan::pair();
    let (scratch, inbox) = (Scratch::new("dies"), Scratch::new("dies-inbox"));
    // Slow the sender's link to 40 Mbit/s so the transfer lasts seconds.
    lan.host(1).ns.run(
        "tc",
        &["qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "40mbit", "burst", "32kbit", "limit", "300000"],
    );
    let file = random_file(&scratch.path("slow.bin"), 20 << 20);
    let args = ["send", "-i", "eth0", "-n", "A", "B", "--file", file.to_str().unwrap(), "--dead-after", "2"];

    // The sender dies: the receiver gives up and keeps nothing.
    let mut receiver = start_receiver(&lan, 2, &inbox.0, &["--dead-after", "2"]);
    let mut sender = lan.host(1).ns.spawn_whohas(&args);
    wait_until_arriving(&inbox.0, WAIT);
    let killed = Instant::now();
    sender.signal(nix::sys::signal::Signal::SIGKILL);
    assert!(
        receiver
            .wait_for_stdout("transfer of slow.bin from A failed: the peer stopped answering; nothing was kept", WAIT),
        "{}",
        receiver.stdout()
    );
    let gave_up = killed.elapsed();
    assert!(gave_up >= Duration::from_secs(2) && gave_up < Duration::from_secs(5), "gave up after {gave_up:?}");
    assert_eq!(std::fs::read_dir(&inbox.0).unwrap().count(), 0, "no partial file, not even a temporary one");

    // The receiver dies: the sender says so and exits 1.
    let mut sender = lan.host(1).ns.spawn_whohas(&args);
    wait_until_arriving(&inbox.0, WAIT);
    receiver.signal(nix::sys::signal::Signal::SIGKILL);
    let killed = Instant::now();
    let status = sender.wait(Duration::from_secs(10)).expect("the sender gives up");
    assert_eq!(status.code(), Some(1), "{}", sender.stderr());
    assert_eq!(sender.stderr().trim(), "whohas: B stopped answering");
    assert!(killed.elapsed() < Duration::from_secs(5), "gave up after {:?}", killed.elapsed());
}

/// Runs `send --file` of `size` bytes (with `extra` arguments) from host 1
/// to a receiver on host 2 of a veth pair whose ends have MTUs `mtus`,
/// capturing on the receiver; returns the sender's JSON summary, every
/// frame that crossed and what the sender wrote to stderr.
fn transfer_across(mtus: [&str; 2], size: usize, label: &str, extra: &[&str]) -> Transferred {
    let lan = Lan::pair();
    let (scratch, inbox) = (Scratch::new(label), Scratch::new(&format!("{label}-inbox")));
    for (host, mtu) in [1, 2].into_iter().zip(mtus) {
        lan.host(host).ns.ip(&["link", "set", "eth0", "mtu", mtu]);
    }
    let mut capture = support::Tcpdump::start(&lan.host(2).ns, scratch.path("frames.pcap"), "ether proto 0x88b5");
    let mut receiver = start_receiver(&lan, 2, &inbox.0, &[]);
    let file = random_file(&scratch.path("big.bin"), size);
    let args = ["send", "-i", "eth0", "-n", "A", "B", "--file", file.to_str().unwrap(), "--json"];
    let sent = lan.host(1).ns.whohas(&[&args[..], extra].concat());
    assert!(sent.status.success(), "{}{}", text(&sent.stdout), text(&sent.stderr));
    let summary: serde_json::Value = serde_json::from_str(text(&sent.stdout).lines().last().unwrap()).unwrap();
    assert!(receiver.wait_for_stdout("received big.bin from A", WAIT), "{}", receiver.stdout());
    assert_eq!(std::fs::read(inbox.path("big.bin")).unwrap(), std::fs::read(&file).unwrap());
    capture.barrier(&lan.host(1).ns);
    let capture = capture.stop();
    if size <= 1 << 20 {
        // decode and the dissector agree on trains and on the offer of
        // them (a small transfer: the dissector's CRC is Lua's, slow).
        support::assert_decode_matches_tshark(&capture, &[], &[]);
    }
    let mut frames = support::capture_frames(&capture);
    frames.pop(); // the barrier's marker
    Transferred { summary, frames, stderr: text(&sent.stderr).to_owned() }
}

/// What [`transfer_across`] saw.
struct Transferred {
    summary: serde_json::Value,
    frames: Vec<Vec<u8>>,
    stderr: String,
}

/// On an MTU 9000 link the transfer's frames carry trains of segments up to
/// the MTU: a 20 MiB file crosses in fewer than 4000 frames, both ways.
#[test]
fn a_jumbo_link_carries_trains_of_segments() {
    require_root!();
    let Transferred { summary, frames, .. } = transfer_across(["9000", "9000"], 20 << 20, "jumbo", &[]);
    let longest = frames.iter().map(Vec::len).max().unwrap();
    assert!(longest > 8000 && longest <= 9014, "frames fill the 9000-byte MTU: the longest is {longest}");
    assert!(frames.len() < 4000, "20 MiB in {} frames (SYN to FIN-ACK, both ways)", frames.len());
    println!("jumbo: {} frames, {} segments sent again", frames.len(), summary["retransmits"]);
}

/// `decode` shows a train and the SYN-ACK's offer of them as tshark with
/// the dissector does.
#[test]
fn decode_shows_trains_as_tshark_does() {
    require_root!();
    let frames = transfer_across(["9000", "9000"], 300_000, "jumbo-decode", &[]).frames;
    assert!(frames.iter().any(|frame| frame.len() > 8000), "the capture holds trains");
}

/// A receiver whose link takes 1500-byte frames offers no trains: a sender
/// on a jumbo link sends it one segment a frame.
#[test]
fn a_sender_on_a_jumbo_link_sends_single_segments_to_a_1500_byte_receiver() {
    require_root!();
    let frames = transfer_across(["9000", "1500"], 2 << 20, "jumbo-1500", &[]).frames;
    let longest = frames.iter().map(Vec::len).max().unwrap();
    assert_eq!(longest, 1514, "no train for a receiver that did not offer");
}

/// AF_XDP's chunks are a page at most: a sender on a jumbo link asked to
/// send through it says why it cannot and sends through its packet socket.
#[test]
fn a_jumbo_sender_asked_for_af_xdp_says_why_and_uses_the_packet_socket() {
    require_root!();
    let sent = transfer_across(["9000", "9000"], 2 << 20, "jumbo-xdp", &["-v", "--via", "xdp"]);
    assert!(
        sent.stderr.contains(
            "eth0: no AF_XDP socket (its frames of 9014 bytes are larger than a page): sending through the packet socket"
        ),
        "{}",
        sent.stderr
    );
    assert!(sent.stderr.contains("eth0: sending through packet socket"), "{}", sent.stderr);
    assert!(sent.frames.iter().any(|frame| frame.len() > 8000), "trains still fill the MTU");
}
