//! Keyed mode against an attacker on the same bridge (root only). Without
//! keys a racing impostor is at least reported (DUP); with keys its
//! answers, replayed frames and altered frames are all dropped and counted,
//! and the honest exchange goes through. An original C station still reads
//! a keyed request's name.

mod support;

use std::time::Duration;

use support::{Lan, Process, Scratch, require_root, start_chat, text, whohas};
use whohas::pcap::{CaptureReader, PcapFileWriter};

const WAIT: Duration = Duration::from_secs(10);

fn keygen(scratch: &Scratch) -> String {
    let path = scratch.path("group.key");
    let out = std::process::Command::new(whohas()).args(["keygen", path.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    path.to_str().unwrap().to_owned()
}

/// `whohas respond -n VM2` on host `index`, with `extra` arguments.
fn respond(lan: &Lan, index: usize, extra: &[&str]) -> Process {
    let mut args = vec!["respond", "-i", "eth0", "-n", "VM2", "--reply", "Nice to meet you!\\n"];
    args.extend_from_slice(extra);
    let mut respond = lan.host(index).ns.spawn_whohas(&args);
    assert!(respond.wait_for_stdout("VM2 answering on eth0", WAIT), "{}", respond.stderr());
    respond
}

/// `whohas send --datagram` from host 1; its output.
fn send(lan: &Lan, message: &str, extra: &[&str]) -> std::process::Output {
    let mut args =
        vec!["send", "-i", "eth0", "-n", "VM1", "VM2", message, "--datagram", "--wait", "3", "--interval-ms", "300"];
    args.extend_from_slice(extra);
    lan.host(1).ns.whohas(&args)
}

/// The number before `label` in a keyed counters line.
fn count(line: &str, label: &str) -> u64 {
    let at = line.find(label).unwrap_or_else(|| panic!("{label} in {line}"));
    line[..at].trim_end().rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn without_keys_a_racing_impostor_is_reported() {
    require_root!();
    let lan = Lan::bridged(3);
    let _vm2 = respond(&lan, 2, &[]);
    let _impostor = respond(&lan, 3, &[]);
    let out = send(&lan, "hello", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("answers for VM2 (DUP)"), "the conflict is reported: {}", text(&out.stderr));
}

#[test]
fn with_keys_forged_replayed_and_altered_frames_all_fail() {
    require_root!();
    let lan = Lan::bridged(3);
    let scratch = Scratch::new("keyed");
    let key = keygen(&scratch);
    let again = std::process::Command::new(whohas()).args(["keygen", &key]).output().unwrap();
    assert_eq!(again.status.code(), Some(2), "keygen never overwrites");

    let mut tcpdump = support::Tcpdump::start(
        &lan.host(2).ns,
        scratch.path("vm2-side.pcap"),
        "ether proto 0xfffd or ether proto 0xfffe",
    );
    let mut vm2 = respond(&lan, 2, &["--key-file", &key]);
    // The attacker answers every request for VM2, at once.
    let mut impostor = respond(&lan, 3, &[]);

    let out = send(&lan, "pay 10 to alice", &["--key-file", &key]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert!(said.contains(&format!("sent 15 bytes to VM2 ({})", lan.host(2).mac_string())), "{said}");
    assert!(said.contains("answer from VM2: Nice to meet you!"), "{said}");
    assert!(vm2.wait_for_stdout("pay 10 to alice", WAIT));
    // VM2's answer is the conversation's last frame.
    let answer = format!("{} > {}, ethertype Unknown (0xfffd)", lan.host(2).mac_string(), lan.host(1).mac_string());
    assert!(tcpdump.wait_for(&answer, WAIT), "{:#?}", tcpdump.lines());
    let capture = tcpdump.stop();

    // Replays: every frame VM2 received, again, from the attacker's host
    // (not VM2's own frames: the bridge would learn VM2's address on the
    // attacker's port); then VM1's data frame with one bit flipped.
    let vm2_mac = lan.host(2).mac.0;
    let mut reader = CaptureReader::open(&capture).unwrap();
    let mut received = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        if frame.data[6..12] != vm2_mac {
            received.push(frame.data.to_vec());
        }
    }
    let data = received.iter().find(|f| f[12..14] == [0xff, 0xfd]).expect("VM1's data frame was captured");
    let mut altered = data.clone();
    altered[14] ^= 0x04;
    let replay = scratch.path("replay.pcap");
    let mut writer = PcapFileWriter::create(&replay).unwrap();
    for (i, frame) in received.iter().chain([&altered]).enumerate() {
        writer.write(std::time::Duration::from_millis(i as u64), frame);
    }
    writer.flush().unwrap();
    let inject = lan.host(3).ns.whohas(&["inject", "-q", "-i", "eth0", replay.to_str().unwrap()]);
    assert!(inject.status.success(), "{}", text(&inject.stderr));
    // VM2 reads its frames in order: once it answers a request sent after
    // the replays, it has judged every one of them.
    let after = lan.host(3).ns.whohas(&["resolve", "-i", "eth0", "-n", "after", "VM2", "--key-file", &key]);
    assert!(after.status.success(), "{}", text(&after.stderr));

    // tshark with the dissector's keyed preference shows what decode does.
    support::assert_decode_matches_tshark(&capture, &["--key-file", &key], &["-o", "namekeyed.enabled:TRUE"]);
    // decode checks the tags with the key: the genuine frames decode, the
    // altered one is shown as such.
    let decoded = std::process::Command::new(whohas())
        .args(["decode", "--key-file", &key, replay.to_str().unwrap()])
        .output()
        .unwrap();
    let lines = text(&decoded.stdout);
    assert!(decoded.status.success(), "{}", text(&decoded.stderr));
    assert!(lines.contains("Who has VM2?") && lines.contains("[keyed "), "{lines}");
    assert!(lines.contains("Message (15 bytes): pay 10 to alice [keyed "), "{lines}");
    assert_eq!(lines.lines().last().map(|l| l.ends_with("[keyed: no valid tag]")), Some(true), "{lines}");

    assert_eq!(vm2.terminate().code(), Some(0));
    let keyed = vm2.stdout_lines.iter().find(|l| l.starts_with("keyed:")).expect("keyed counters").clone();
    assert!(count(&keyed, "replayed") >= 2, "the request and the data, replayed: {keyed}");
    assert_eq!(count(&keyed, "with a bad or missing tag"), 1, "{keyed}");
    assert_eq!(vm2.stdout_lines.iter().filter(|l| l.contains("pay 10 to alice")).count(), 1, "delivered once");
    let altered_text = text(&altered[14..29]);
    assert_eq!(altered_text, "tay 10 to alice", "the flipped bit is in the message");
    assert!(vm2.stdout_lines.iter().all(|l| !l.contains(&altered_text)), "the altered text never shows");
    impostor.terminate();
    assert!(!impostor.stdout().contains("pay 10"), "the secret never reached the impostor");
}

#[test]
fn an_original_c_station_reads_a_keyed_request_and_a_keyed_station_ignores_its_answer() {
    require_root!();
    let lan = Lan::pair();
    let scratch = Scratch::new("keyed-c");
    let key = keygen(&scratch);
    let binary = support::build_original(&scratch, 0xa5);
    let mut c_vm2 = lan.host(2).ns.spawn(&binary, &["vm2", "eth0", "VM2", "VM1"]);
    assert!(c_vm2.wait_for_stdout("sizeof(struct name_arp) = 12", WAIT), "{}", c_vm2.stderr());
    let out = send(&lan, "hello", &["--key-file", &key]);
    assert_eq!(out.status.code(), Some(1), "an unauthenticated answer is no answer: {}", text(&out.stderr));
    assert!(c_vm2.wait_for_stdout(&format!("answered request from {}", lan.host(1).mac_string()), WAIT));
}

/// Frames an attacker on host 3 forges for alice (host 1) to bob (host 2):
/// a GOODBYE and an ANNOUNCE of her name from the attacker's own MAC
/// (presence), and a transfer RESET and ACK of a connection from her.
fn forgeries(lan: &Lan, scratch: &Scratch) -> std::path::PathBuf {
    use whohas::wire::presence::{PresenceKind, PresenceRepr};
    use whohas::wire::transfer::{Kind, TransferRepr};
    let (alice, bob, mallory) = (lan.host(1).mac, lan.host(2).mac, lan.host(3).mac);
    let presence = |kind, from: whohas::EthernetAddress| {
        let repr = PresenceRepr { kind, answer: false, epoch: 7, expiry_secs: 30, name: "alice".try_into().unwrap() };
        let mut frame = [[0xff; 6], from.0].concat();
        frame.extend_from_slice(&whohas::wire::EtherType::PRESENCE.0.to_be_bytes());
        let start = frame.len();
        frame.resize(start + repr.buffer_len(), 0);
        repr.emit(&mut frame[start..]);
        frame
    };
    let transfer = |kind| {
        let repr = TransferRepr {
            kind,
            from_initiator: true,
            messages: true,
            conn_id: 0x1234_5678,
            seq: 1,
            ack: 1,
            window: 64,
            timestamp: 0,
            echo: 0,
            sack: &[],
            payload: &[0, 1],
        };
        support::transfer_frame(alice, bob, &repr)
    };
    let frames = [
        presence(PresenceKind::Goodbye, alice),
        presence(PresenceKind::Announce, mallory),
        transfer(Kind::Reset),
        transfer(Kind::Ack),
    ];
    let path = scratch.path("forged.pcap");
    let mut writer = PcapFileWriter::create(&path).unwrap();
    for (i, frame) in frames.iter().enumerate() {
        writer.write(std::time::Duration::from_millis(i as u64), frame);
    }
    writer.flush().unwrap();
    path
}

#[test]
fn forged_presence_and_transfer_frames_fool_plain_stations_but_not_keyed_ones() {
    require_root!();
    let lan = Lan::bridged(3);
    let scratch = Scratch::new("keyed-chat");
    let forged = forgeries(&lan, &scratch);
    let inject = |lan: &Lan| {
        let out = lan.host(3).ns.whohas(&["inject", "-q", "-i", "eth0", forged.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    };

    // Plain: the forged goodbye makes alice leave in bob's eyes.
    let mut alice = start_chat(&lan, 1, "alice", &[]);
    let mut bob = start_chat(&lan, 2, "bob", &[]);
    assert!(bob.has_or_waits_for_stdout("alice joined", WAIT));
    inject(&lan);
    assert!(bob.wait_for_stdout("alice left", WAIT), "the attack works without a key: {:?}", bob.stdout_lines);
    alice.type_line("@exit");
    bob.type_line("@exit");
    assert!(alice.wait(WAIT).is_some() && bob.wait(WAIT).is_some());

    // Keyed: nothing forged gets through; alice stays, and talks.
    let key = keygen(&scratch);
    let mut alice = start_chat(&lan, 1, "alice", &["--key-file", &key]);
    let mut bob = start_chat(&lan, 2, "bob", &["--key-file", &key]);
    assert!(bob.has_or_waits_for_stdout("alice joined", WAIT));
    inject(&lan);
    assert!(!bob.wait_for_stdout("alice", Duration::from_secs(2)), "no forged event: {:?}", bob.stdout_lines);
    alice.type_line("@chat bob still here");
    assert!(bob.wait_for_stdout("alice: still here", WAIT), "{:?}", bob.stdout_lines);
    assert!(alice.wait_for_stdout("[delivered to bob]", WAIT));
    bob.type_line("@show_list");
    assert!(bob.wait_for_stdout("1 stations", WAIT));
    assert!(!bob.stdout_lines.iter().any(|l| l.contains("DUP") || l.contains("left")), "{:?}", bob.stdout_lines);
}
