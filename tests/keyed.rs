//! Keyed mode against an attacker on the same bridge (root only). Without
//! keys a racing impostor is at least reported (DUP); with keys its
//! answers, replayed frames and altered frames are all dropped and counted,
//! and the honest exchange goes through. A recorded exchange replayed with
//! tcpreplay later, to restarted stations or to others, is refused. An
//! original C station still reads a keyed request's name.

mod support;

use std::time::Duration;

use support::{Lan, Process, Scratch, require_root, start_chat, text, whohas, write_capture};
use whohas::pcap::CaptureReader;

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
    // resolve listens for a second answer after the first (send stops at
    // its answer, which may come before a slow impostor's).
    let out = lan.host(1).ns.whohas(&["resolve", "-i", "eth0", "-n", "VM1", "VM2", "--linger-ms", "3000"]);
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{said}");
    assert!(said.contains("VM2 is also at") && said.contains("(DUP"), "the conflict is reported: {said}");
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
    received.push(altered.clone());
    write_capture(&replay, &received);
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
    write_capture(&path, &frames);
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

/// Makes the bridge a hub: no port learns addresses, so every frame reaches
/// every host. The attacker records the whole conversation, and a frame
/// for one station reaches the others too.
fn make_hub(lan: &Lan) {
    let switch = lan.switch.as_ref().expect("a bridged LAN");
    for index in 1..=lan.hosts.len() {
        let out = switch.ip(&["link", "set", &format!("p{index}"), "type", "bridge_slave", "learning", "off"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}

/// Replays the capture at `path` with tcpreplay from host `index`, then
/// resolves VM2 from there with the key: VM2 reads its frames in order, so
/// once it answered, it has judged every replayed frame.
fn tcpreplay(lan: &Lan, index: usize, path: &std::path::Path, key: &str) {
    let out = lan.host(index).ns.run("tcpreplay", &["-q", "-i", "eth0", path.to_str().unwrap()]);
    assert!(out.status.success(), "tcpreplay: {}{}", text(&out.stdout), text(&out.stderr));
    let after = lan.host(index).ns.whohas(&["resolve", "-i", "eth0", "-n", "after", "VM2", "--key-file", key]);
    assert!(after.status.success(), "{}", text(&after.stderr));
}

/// Stops a keyed station; its `keyed:` counters line.
fn keyed_counters(station: &mut Process) -> String {
    assert_eq!(station.terminate().code(), Some(0), "{}", station.stderr());
    station.stdout_lines.iter().find(|l| l.starts_with("keyed:")).expect("keyed counters").clone()
}

/// How many lines of `station`'s output contain `needle`.
fn lines_with(station: &Process, needle: &str) -> usize {
    station.stdout_lines.iter().filter(|l| l.contains(needle)).count()
}

/// The keyed-mode issue's attacks, with a real capture and tcpreplay from a
/// third host on a hub: a recorded exchange replayed to the live receiver,
/// to the receiver restarted, after the sender restarted, back to its own
/// sender (reflection), and to a fourth station. Each is counted by kind
/// and none is acted on.
#[test]
fn recorded_keyed_frames_replayed_later_are_refused_by_every_station() {
    require_root!();
    let lan = Lan::bridged(4);
    make_hub(&lan);
    let scratch = Scratch::new("keyed-replay");
    let key = keygen(&scratch);
    let (vm1, vm2) = (lan.host(1).mac.0, lan.host(2).mac.0);

    // The attacker on host 3 records VM1 telling VM2 a secret, handshake
    // included.
    let mut tcpdump = support::Tcpdump::start(
        &lan.host(3).ns,
        scratch.path("recorded.pcap"),
        "ether proto 0xfffc or ether proto 0xfffd or ether proto 0xfffe",
    );
    let mut receiver = respond(&lan, 2, &["--key-file", &key]);
    let out = send(&lan, "secret-1", &["--key-file", &key]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(receiver.wait_for_stdout("secret-1", WAIT));
    let answer = format!("{} > {}, ethertype Unknown (0xfffd)", lan.host(2).mac_string(), lan.host(1).mac_string());
    assert!(tcpdump.wait_for(&answer, WAIT), "{:#?}", tcpdump.lines());
    let recorded = tcpdump.stop();
    // decode and the dissector agree on every frame, handshakes included.
    support::assert_decode_matches_tshark(&recorded, &["--key-file", &key], &["-o", "namekeyed.enabled:TRUE"]);
    let frames = support::capture_frames(&recorded);
    let sent_by = |mac: [u8; 6]| frames.iter().filter(|f| f[6..12] == mac).cloned().collect::<Vec<_>>();
    let (from_vm1, from_vm2) = (sent_by(vm1), sent_by(vm2));
    let kinds = |frames: &[Vec<u8>]| frames.iter().map(|f| (f[12], f[13])).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(kinds(&from_vm1), [(0xff, 0xfc), (0xff, 0xfd), (0xff, 0xfe)].into(), "a handshake, data, name-ARP");
    let vm1_frames = scratch.path("vm1.pcap");
    write_capture(&vm1_frames, &from_vm1);

    // 1. To the live receiver: every frame of VM1 is a replay, its answer
    //    to VM2's challenge a stale handshake.
    tcpreplay(&lan, 3, &vm1_frames, &key);
    let live = keyed_counters(&mut receiver);
    assert!(count(&live, "replayed") >= 2, "the request and the data: {live}");
    assert!(count(&live, "stale handshakes") >= 1, "{live}");
    assert_eq!(count(&live, "with a bad or missing tag"), 0, "{live}");
    assert_eq!(lines_with(&receiver, "secret-1"), 1, "delivered once: {:?}", receiver.stdout_lines);

    // 2. To the receiver restarted: VM1 (gone) is not admitted, and nothing
    //    recorded can answer the new challenge. A fourth station, VM4,
    //    hears the same frames (3: VM1's frames for VM2 reach it).
    let mut receiver = respond(&lan, 2, &["--key-file", &key]);
    let mut bystander = lan.host(4).ns.spawn_whohas(&["respond", "-i", "eth0", "-n", "VM4", "--key-file", &key]);
    assert!(bystander.wait_for_stdout("VM4 answering on eth0", WAIT), "{}", bystander.stderr());
    tcpreplay(&lan, 3, &vm1_frames, &key);
    // 4. After the sender restarted: VM1 tells VM2 another secret with a new
    //    epoch and stays up as a keyed station (it answers challenges with
    //    its newest epoch); its old frames are refused again.
    let out = send(&lan, "secret-2", &["--key-file", &key]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(receiver.wait_for_stdout("secret-2", WAIT));
    let mut sender = lan.host(1).ns.spawn_whohas(&["respond", "-i", "eth0", "-n", "VM1", "--key-file", &key]);
    assert!(sender.wait_for_stdout("VM1 answering on eth0", WAIT), "{}", sender.stderr());
    tcpreplay(&lan, 3, &vm1_frames, &key);
    // 5. Reflection: VM2's own recorded frames, sent back to it.
    let vm2_frames = scratch.path("vm2.pcap");
    write_capture(&vm2_frames, &from_vm2);
    tcpreplay(&lan, 3, &vm2_frames, &key);

    let restarted = keyed_counters(&mut receiver);
    assert!(count(&restarted, "from senders not admitted") >= 4, "twice the request and the data: {restarted}");
    assert!(count(&restarted, "stale handshakes") >= 2, "{restarted}");
    assert!(count(&restarted, "reflected") >= 3, "its challenge, reply and data: {restarted}");
    assert_eq!(count(&restarted, "with a bad or missing tag"), 0, "{restarted}");
    assert_eq!(lines_with(&receiver, "secret-1"), 0, "never delivered again: {:?}", receiver.stdout_lines);
    assert_eq!(lines_with(&receiver, "secret-2"), 1, "{:?}", receiver.stdout_lines);
    let bystander_counts = keyed_counters(&mut bystander);
    assert!(count(&bystander_counts, "for other stations") >= 3, "VM1's data and answer to VM2: {bystander_counts}");
    assert!(count(&bystander_counts, "from senders not admitted") >= 1, "VM1's old request: {bystander_counts}");
    assert_eq!(lines_with(&bystander, "secret"), 0, "{:?}", bystander.stdout_lines);
    let sender_counts = keyed_counters(&mut sender);
    assert_eq!(lines_with(&sender, "secret"), 0, "{:?}", sender.stdout_lines);
    assert!(count(&sender_counts, "reflected") >= 3, "its old request, answer and data, on the hub: {sender_counts}");
    assert_eq!(count(&sender_counts, "with a bad or missing tag"), 0, "{sender_counts}");
}

/// Sends SIGHUP to a keyed station and waits until it has read its key file
/// again.
fn reload(station: &mut Process, reloads: &mut usize) {
    let pid = nix::unistd::Pid::from_raw(station.pid() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    *reloads += 1;
    let deadline = std::time::Instant::now() + WAIT;
    while lines_with(station, "keys reloaded") < *reloads {
        assert!(std::time::Instant::now() < deadline, "no reload: {:?} {}", station.stdout_lines, station.stderr());
        station.wait_for_stdout("keys reloaded", Duration::from_millis(100));
    }
}

/// A group changes its key while a file crosses between two of its
/// stations: each step of `whohas rotate` is copied to both and each
/// station reloads it at SIGHUP, one after the other, with frames flowing
/// between the two reloads. The file arrives intact, no frame fails its
/// tag, and then the old key is refused.
#[test]
fn a_group_rotates_its_key_during_a_transfer_without_losing_a_frame() {
    require_root!();
    let lan = Lan::pair();
    let (scratch, inbox) = (Scratch::new("rotate"), Scratch::new("rotate-inbox"));
    let key = keygen(&scratch);
    let old = scratch.path("old.key");
    std::fs::copy(&key, &old).unwrap();
    let (sender_key, receiver_key) = (scratch.path("a.key"), scratch.path("b.key"));
    let distribute = || {
        for copy in [&sender_key, &receiver_key] {
            std::fs::copy(&key, copy).unwrap();
        }
    };
    distribute();
    // 40 Mbit/s: 30 MiB take over 6 s, longer than the rotation.
    lan.host(1).ns.run(
        "tc",
        &["qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "40mbit", "burst", "32kbit", "limit", "300000"],
    );
    let file = support::random_file(&scratch.path("big.bin"), 30 << 20);
    let receiver_args = ["receive", "-i", "eth0", "-n", "B", "--dir", inbox.0.to_str().unwrap()];
    let mut receiver =
        lan.host(2).ns.spawn_whohas(&[&receiver_args[..], &["--key-file", receiver_key.to_str().unwrap()]].concat());
    assert!(receiver.wait_for_stdout("B answering on eth0", WAIT), "{}", receiver.stderr());
    let send_args = ["send", "-i", "eth0", "-n", "A", "B", "--file", file.to_str().unwrap()];
    let mut sender =
        lan.host(1).ns.spawn_whohas(&[&send_args[..], &["--key-file", sender_key.to_str().unwrap()]].concat());
    support::wait_until_arriving(&inbox.0, WAIT);

    let (mut sender_reloads, mut receiver_reloads) = (0, 0);
    for step in ["add", "promote", "retire"] {
        let out = std::process::Command::new(whohas()).args(["rotate", step, &key]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        distribute();
        // Promote and retire reach the sender first, add the receiver:
        // both orders run with frames in flight.
        if step == "add" {
            reload(&mut receiver, &mut receiver_reloads);
            std::thread::sleep(Duration::from_millis(300));
            reload(&mut sender, &mut sender_reloads);
        } else {
            reload(&mut sender, &mut sender_reloads);
            std::thread::sleep(Duration::from_millis(300));
            reload(&mut receiver, &mut receiver_reloads);
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(sender.child.try_wait().unwrap().is_none(), "the transfer outlasted the rotation: {}", sender.stdout());

    let status = sender.wait(Duration::from_secs(60)).expect("the transfer ends");
    assert!(status.success(), "{}{}", sender.stdout(), sender.stderr());
    assert!(sender.stdout().contains("the receiver verified sha256"), "{}", sender.stdout());
    assert_eq!(std::fs::read(inbox.path("big.bin")).unwrap(), std::fs::read(&file).unwrap(), "intact");
    // The old key no longer opens the door.
    let stale = lan.host(1).ns.whohas(&["resolve", "-i", "eth0", "-n", "A", "B", "--key-file", old.to_str().unwrap()]);
    assert_eq!(stale.status.code(), Some(1), "{}", text(&stale.stderr));
    let counters = keyed_counters(&mut receiver);
    assert_eq!(
        count(&counters, "with a bad or missing tag"),
        3,
        "none during the rotation, then the old key's 3 requests: {counters}"
    );
    let second: u64 = counters.split(" (").nth(1).and_then(|s| s.split(' ').next()?.parse().ok()).unwrap();
    assert!(second > 0, "the sender's new key was taken as the second key for a while: {counters}");
}
