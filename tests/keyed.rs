//! Keyed mode against an attacker on the same bridge (root only). Without
//! keys a racing impostor is at least reported (DUP); with keys its
//! answers, replayed frames and altered frames are all dropped and counted,
//! and the honest exchange goes through. An original C station still reads
//! a keyed request's name.

mod support;

use std::time::Duration;

use support::{Lan, Process, Scratch, repo, require_root, sh, text, whohas};
use whohas::Instant;
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

    let capture = scratch.path("vm2-side.pcap");
    let mut tcpdump = lan.host(2).ns.spawn(
        "tcpdump",
        &[
            "-i",
            "eth0",
            "-n",
            "-U",
            "--immediate-mode",
            "-w",
            capture.to_str().unwrap(),
            "ether proto 0xfffd or ether proto 0xfffe",
        ],
    );
    assert!(tcpdump.wait_for_stderr("listening on eth0", WAIT), "{}", tcpdump.stderr());
    let mut vm2 = respond(&lan, 2, &["--key-file", &key]);
    // The attacker answers every request for VM2, at once.
    let mut impostor = respond(&lan, 3, &[]);

    let out = send(&lan, "pay 10 to alice", &["--key-file", &key]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert!(said.contains(&format!("sent 15 bytes to VM2 ({})", lan.host(2).mac_string())), "{said}");
    assert!(said.contains("answer from VM2: Nice to meet you!"), "{said}");
    assert!(vm2.wait_for_stdout("pay 10 to alice", WAIT));
    std::thread::sleep(Duration::from_millis(300));
    tcpdump.terminate();

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
        writer.write(Instant::from_millis(i as u64), frame);
    }
    writer.flush().unwrap();
    let inject = lan.host(3).ns.whohas(&["inject", "-q", "-i", "eth0", replay.to_str().unwrap()]);
    assert!(inject.status.success(), "{}", text(&inject.stderr));
    std::thread::sleep(Duration::from_millis(300));

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
    assert!(vm2.stdout_lines.iter().all(|l| !l.contains("pay 10 to alic`")), "the altered text never shows");
    impostor.terminate();
    assert!(!impostor.stdout().contains("pay 10"), "the secret never reached the impostor");
}

#[test]
fn an_original_c_station_reads_a_keyed_request_and_a_keyed_station_ignores_its_answer() {
    require_root!();
    let lan = Lan::pair();
    let scratch = Scratch::new("keyed-c");
    let key = keygen(&scratch);
    let binary = scratch.path("original");
    sh(
        "gcc",
        &[
            "-O2",
            "-Wall",
            "-Werror",
            "-o",
            binary.to_str().unwrap(),
            repo("tests/interop/original.c").to_str().unwrap(),
        ],
    );
    let mut c_vm2 = lan.host(2).ns.spawn(&binary, &["vm2", "eth0", "VM2", "VM1"]);
    assert!(c_vm2.wait_for_stdout("sizeof(struct name_arp) = 12", WAIT), "{}", c_vm2.stderr());
    let out = send(&lan, "hello", &["--key-file", &key]);
    assert_eq!(out.status.code(), Some(1), "an unauthenticated answer is no answer: {}", text(&out.stderr));
    assert!(c_vm2.wait_for_stdout(&format!("answered request from {}", lan.host(1).mac_string()), WAIT));
}
