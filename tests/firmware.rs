//! The core on a microcontroller: the firmware of `examples/firmware-mps2`
//! in QEMU's MPS2-AN386 (Cortex-M4F, LAN9118), on a tap device in a network
//! namespace, talking to Linux by name. Its defmt log is decoded by
//! defmt-print (`scripts/firmware.sh run`). Root only; skipped with the
//! reason when QEMU, defmt-print or /dev/net/tun is missing (a failure in
//! CI, which sets `WHOHAS_REQUIRE_ALL`).

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use support::{Namespace, Process, Scratch, example, garbage_capture, repo, require_root, text, write_capture};

const WAIT: Duration = Duration::from_secs(20);

/// Why the firmware cannot run here, if it cannot.
fn missing() -> Option<String> {
    let has = |program: &str| {
        Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success())
    };
    if !has("qemu-system-arm") {
        return Some("qemu-system-arm is not installed (scripts/setup.sh installs it)".into());
    }
    if !has("defmt-print") {
        return Some("defmt-print is not installed (scripts/setup.sh installs it)".into());
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun is missing".into());
    }
    None
}

macro_rules! require_qemu {
    () => {
        require_root!();
        if let Some(reason) = missing() {
            support::skip(&reason);
            return;
        }
    };
}

/// The firmware images `scripts/firmware.sh build` makes.
struct Images {
    vm2: PathBuf,
    vm1: PathBuf,
    echo: PathBuf,
    station: PathBuf,
    memcheck: PathBuf,
}

/// The images, built once for all tests.
fn images() -> &'static Images {
    static BUILT: OnceLock<Images> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = Command::new(repo("scripts/firmware.sh")).arg("build").output().expect("scripts/firmware.sh");
        assert!(out.status.success(), "firmware build failed: {}", text(&out.stderr));
        let image = |name: &str| repo(&format!("target/firmware/{name}.elf"));
        Images {
            vm2: image("vm2"),
            vm1: image("vm1"),
            echo: image("echo"),
            station: image("station"),
            memcheck: image("memcheck"),
        }
    })
}

/// A namespace with a tap device, `tap0`, for QEMU's NIC; Linux programs
/// in the namespace use the tap as their interface.
fn tap_namespace(role: &str) -> Namespace {
    let ns = Namespace::new(role);
    ns.ip(&["tuntap", "add", "dev", "tap0", "mode", "tap"]);
    ns.ip(&["link", "set", "tap0", "up"]);
    ns
}

/// Runs a firmware image in QEMU on the namespace's tap; its decoded log is
/// its stdout.
fn qemu(ns: &Namespace, elf: &std::path::Path, mac: &str) -> Process {
    ns.spawn(repo("scripts/firmware.sh"), &["run", elf.to_str().unwrap(), "tap0", mac])
}

#[test]
fn linux_vm1_finds_the_firmware_s_vm2_by_name_and_greets_it() {
    require_qemu!();
    let ns = tap_namespace("fw-vm2");
    let mut firmware = qemu(&ns, &images().vm2, "02:00:5e:10:00:02");
    assert!(firmware.wait_for_stdout("VM2 listening as 02:00:5e:10:00:02", WAIT), "{}", firmware.stderr());
    let vm1 = ns.run(example("vm1"), &["tap0", "VM1", "VM2"]);
    let said = text(&vm1.stdout);
    assert!(vm1.status.success(), "{said}{}", text(&vm1.stderr));
    assert!(said.contains("VM2 is at 02:00:5e:10:00:02"), "{said}");
    assert_eq!(said.matches("received from VM2: Nice to meet you!").count(), 2, "{said}");

    assert!(firmware.wait_for_stdout("I'm Glad to meet you again.", WAIT), "{:?}", firmware.stdout_lines);
    let log = firmware.stdout();
    assert!(log.contains("INFO  answered a request for VM2 from"), "{log}");
    assert!(
        log.contains(r#"data from "#)
            && log.contains(r#"b"Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!""#),
        "{log}"
    );
    firmware.terminate();
}

#[test]
fn the_firmware_as_vm1_greets_a_linux_vm2_and_exits_0_or_gives_up_without_one() {
    require_qemu!();
    let ns = tap_namespace("fw-vm1");
    let mut vm2 = ns.spawn(example("vm2"), &["tap0", "VM2", "VM1"]);
    let mut firmware = qemu(&ns, &images().vm1, "02:00:5e:10:00:01");
    let status = firmware.wait(WAIT).expect("the firmware exits");
    let log = firmware.stdout();
    assert_eq!(status.code(), Some(0), "{log}\n{}", firmware.stderr());
    assert_eq!(log.matches(r#"received from VM2: b"Nice to meet you!\n""#).count(), 2, "{log}");
    vm2.terminate();
    assert!(vm2.stdout().contains("I'm Glad to meet you again."), "{}", vm2.stdout());

    // Nobody answers for VM2: three requests a second apart, then status 1.
    let alone = tap_namespace("fw-alone");
    let mut firmware = qemu(&alone, &images().vm1, "02:00:5e:10:00:01");
    let status = firmware.wait(WAIT).expect("the firmware gives up");
    assert_eq!(status.code(), Some(1), "{}", firmware.stdout());
    assert!(firmware.stdout().contains(r#"ERROR no answer from "VM2""#), "{}", firmware.stdout());
}

#[test]
fn the_firmware_s_own_memcpy_memmove_and_memclr_are_correct() {
    require_qemu!();
    // The images use the firmware's small memcpy, memmove and memclr (assembly,
    // examples/firmware-mps2/src/board.rs) instead of compiler_builtins':
    // the memcheck image checks them on the Cortex-M and exits.
    let ns = tap_namespace("fw-mem");
    let mut firmware = qemu(&ns, &images().memcheck, "02:00:5e:10:00:03");
    let status = firmware.wait(WAIT).expect("the check exits");
    let log = firmware.stdout();
    assert_eq!(status.code(), Some(0), "{log}\n{}", firmware.stderr());
    assert!(log.contains("INFO  memcpy, memmove and memclr checked: correct"), "{log}");
}

/// A counter of the firmware's `counters: name=value ...` line.
fn counter(line: &str, name: &str) -> u64 {
    let value = line.split(' ').find_map(|field| field.strip_prefix(name)?.strip_prefix('='));
    value.and_then(|value| value.parse().ok()).unwrap_or_else(|| panic!("no {name} in {line}"))
}

#[test]
fn the_firmware_survives_a_flood_of_malformed_and_foreign_frames() {
    require_qemu!();
    let ns = tap_namespace("fw-flood");
    let scratch = Scratch::new("fw-flood");
    let garbage = garbage_capture(&scratch, 3000);
    // The MAC the garbage's frames with random ethertypes are sent to.
    let mut firmware = qemu(&ns, &images().vm2, "02:00:00:00:00:02");
    assert!(firmware.wait_for_stdout("VM2 listening", WAIT), "{}", firmware.stderr());
    // At top speed (most overflow the NIC's FIFO in QEMU), then paced so
    // that most arrive to be counted; then ARP for other addresses.
    let garbage = garbage.to_str().unwrap();
    let arp = repo("tests/captures/seed004-arp.pcap");
    for (capture, pace) in [(garbage, "--topspeed"), (garbage, "--pps=5000"), (arp.to_str().unwrap(), "--pps=5000")] {
        let inject = ns.whohas(&["inject", "-q", "-i", "tap0", pace, capture]);
        assert!(inject.status.success(), "{}", text(&inject.stderr));
    }
    let vm1 = ns.run(example("vm1"), &["tap0", "VM1", "VM2"]);
    assert!(vm1.status.success(), "still answering after the flood: {}{}", text(&vm1.stdout), text(&vm1.stderr));
    assert!(firmware.wait_for_stdout("I'm Glad to meet you again.", WAIT));
    assert!(firmware.wait_for_stdout("counters:", WAIT));
    let counters = firmware.stdout_lines.last().unwrap().clone();
    // A third of the garbage is name-ARP with random bodies, a third other
    // ethertypes for this MAC, a third for another MAC (the NIC filters
    // those out); QEMU drops what overflows the NIC's FIFO.
    assert!(counter(&counters, "name_arp_malformed") > 500, "{counters}");
    assert!(counter(&counters, "rx_foreign") > 500, "{counters}");
    assert!(counter(&counters, "rx_frames") > 1000, "{counters}");
    firmware.terminate();
}

#[test]
fn the_echo_firmware_echoes_every_frame_of_pingpong() {
    require_qemu!();
    let ns = tap_namespace("fw-echo");
    let mut firmware = qemu(&ns, &images().echo, "02:00:5e:10:00:03");
    assert!(firmware.wait_for_stdout("echo listening as 02:00:5e:10:00:03", WAIT), "{}", firmware.stderr());
    let ping = ns.whohas(&["pingpong", "ping", "-i", "tap0", "--count", "500", "--size", "200"]);
    let said = text(&ping.stdout);
    assert!(ping.status.success(), "{said}{}", text(&ping.stderr));
    assert!(said.starts_with("500 of 500 echoed, 200 bytes"), "{said}");
    firmware.terminate();
}

/// The station image's MAC in these tests.
const STATION_MAC: &str = "02:00:5e:10:00:07";
/// The MAC `whohas synth --kind garbage` sends frames with random
/// ethertypes to.
const GARBAGE_MAC: &str = "02:00:00:00:00:02";

/// A namespace whose tap reaches the station image at 198.18.7.2 with
/// `mac`, the tap itself at 198.18.7.1/24; the station running and its
/// name claimed.
fn station(role: &str, mac: &str) -> (Namespace, Process) {
    let ns = tap_namespace(role);
    ns.ip(&["address", "add", "198.18.7.1/24", "dev", "tap0"]);
    let mut firmware = qemu(&ns, &images().station, mac);
    assert!(
        firmware.wait_for_stdout(r#""mcu" claimed: listening"#, WAIT),
        "{:?}{}",
        firmware.stdout_lines,
        firmware.stderr()
    );
    (ns, firmware)
}

/// Sends `line` to UDP port 7 of the station from the namespace (bash's
/// /dev/udp) and returns what came back.
fn udp_echo(ns: &Namespace, line: &str) -> String {
    let script = format!("exec 3<>/dev/udp/198.18.7.2/7; printf '%s\\n' '{line}' >&3; timeout 3 head -n 1 <&3");
    text(&ns.run("bash", &["-c", &script]).stdout)
}

#[test]
fn the_station_answers_ping_arp_udp_and_name_arp_at_once_and_chats_on_one_nic() {
    require_qemu!();
    let (ns, mut firmware) = station("fw-station", STATION_MAC);
    // IP and whohas at the same time: ping runs while names are resolved.
    let mut ping = ns.spawn("ping", &["-c", "40", "-i", "0.05", "198.18.7.2"]);
    for _ in 0..5 {
        let resolve = ns.whohas(&["resolve", "-i", "tap0", "mcu"]);
        assert_eq!(text(&resolve.stdout).trim(), format!("mcu is at {STATION_MAC}"), "{}", text(&resolve.stderr));
    }
    assert!(ping.wait(WAIT).expect("ping ends").success(), "{:?}", ping.stdout());
    assert!(ping.stdout().contains("40 packets transmitted, 40 received"), "{}", ping.stdout());
    // ARP has one owner: one answer per request, from the station's MAC.
    let arping = ns.run("arping", &["-c", "3", "-I", "tap0", "198.18.7.2"]);
    let said = text(&arping.stdout).to_lowercase();
    assert!(arping.status.success(), "{said}");
    assert_eq!(
        said.matches(&format!("from 198.18.7.2 [{STATION_MAC}]")).count()
            + said.matches(&format!("from {STATION_MAC} (198.18.7.2)")).count(),
        3,
        "{said}"
    );
    assert!(said.contains("received 3 response(s)") || said.contains("3 packets received"), "{said}");
    assert_eq!(udp_echo(&ns, "echo me, mcu").trim(), "echo me, mcu");

    // The chat room: the station is listed, takes a message, answers it.
    let mut chat = ns.spawn_whohas_typing(&["chat", "-i", "tap0", "-n", "linux"]);
    assert!(chat.wait_for_stdout("mcu joined", WAIT), "{:?}{}", chat.stdout_lines, chat.stderr());
    chat.type_line("@show_list");
    assert!(chat.wait_for_stdout("1 stations", WAIT), "{:?}", chat.stdout_lines);
    assert!(
        chat.stdout_lines.iter().any(|l| l.starts_with("mcu ") && l.contains(STATION_MAC) && l.contains("present")),
        "{:?}",
        chat.stdout_lines
    );
    chat.type_line("@chat mcu hello mcu \u{1b}[2J");
    assert!(chat.wait_for_stdout("[delivered to mcu]", WAIT), "{:?}", chat.stdout_lines);
    assert!(chat.has_or_waits_for_stdout("mcu: hello from the microcontroller", WAIT), "{:?}", chat.stdout_lines);
    assert!(
        firmware.has_or_waits_for_stdout(r#"message from "linux": b"hello mcu \x1b[2J""#, WAIT),
        "{:?}",
        firmware.stdout_lines
    );
    assert!(firmware.has_or_waits_for_stdout("transfer: Delivered", WAIT), "{:?}", firmware.stdout_lines);

    // QEMU stops: no goodbye; the room notices after the station's expiry
    // (45 s).
    firmware.terminate();
    assert!(chat.wait_for_stdout("mcu disappeared", Duration::from_secs(60)), "{:?}", chat.stdout_lines);
    assert_eq!(chat.terminate().code(), Some(0));
}

#[test]
fn the_station_told_bye_says_goodbye_to_the_room_and_stops() {
    require_qemu!();
    let (ns, mut firmware) = station("fw-st-bye", STATION_MAC);
    let mut chat = ns.spawn_whohas_typing(&["chat", "-i", "tap0", "-n", "linux"]);
    assert!(chat.wait_for_stdout("mcu joined", WAIT), "{:?}{}", chat.stdout_lines, chat.stderr());
    chat.type_line("@chat mcu bye");
    assert!(chat.wait_for_stdout("mcu left", WAIT), "a goodbye, not an expiry: {:?}", chat.stdout_lines);
    assert!(chat.has_or_waits_for_stdout("[delivered to mcu]", WAIT), "{:?}", chat.stdout_lines);
    assert_eq!(firmware.wait(WAIT).expect("the station stops").code(), Some(0), "{}", firmware.stdout());
    assert!(firmware.stdout().contains(r#""linux" said bye: saying goodbye"#), "{}", firmware.stdout());
    assert_eq!(chat.terminate().code(), Some(0));
}

/// Frames a hostile station sends the station image: presence forged in
/// its name and malformed, ICMP echo requests with bad checksums, IPv4
/// headers with bad checksums, and frames longer than the NIC takes.
fn hostile_frames() -> Vec<Vec<u8>> {
    use whohas::wire::presence::{PresenceKind, PresenceRepr};
    let station: [u8; 6] = GARBAGE_MAC.parse::<whohas::EthernetAddress>().unwrap().0;
    let attacker = [0x02, 0, 0, 0, 0, 0x66];
    let frame = |to: [u8; 6], ethertype: u16, payload: &[u8]| {
        let mut frame = [&to[..], &attacker[..], &ethertype.to_be_bytes()[..]].concat();
        frame.extend_from_slice(payload);
        frame
    };
    let presence = |kind, answer| {
        let repr = PresenceRepr { kind, answer, epoch: 7, expiry_secs: 30, name: "mcu".try_into().unwrap() };
        let mut payload = vec![0; repr.buffer_len()];
        repr.emit(&mut payload);
        frame([0xff; 6], 0x88b6, &payload)
    };
    // An ICMP echo request to 198.18.7.2 from 198.18.7.66 (built by
    // etherparse, checksums right), then one byte of its ICMP checksum or
    // of its IPv4 header checksum spoiled.
    let icmp = |bad_ip: bool| {
        let mut frame = Vec::new();
        etherparse::PacketBuilder::ethernet2(attacker, station)
            .ipv4([198, 18, 7, 66], [198, 18, 7, 2], 64)
            .icmpv4_echo_request(1, 1)
            .write(&mut frame, &[])
            .unwrap();
        // After the 14-byte Ethernet header: the IPv4 checksum at 10, the
        // ICMP checksum at 20 + 2.
        frame[if bad_ip { 14 + 10 } else { 14 + 20 + 2 }] ^= 0xff;
        frame
    };
    let mut frames = Vec::new();
    for i in 0..200u32 {
        frames.push(presence(PresenceKind::Announce, i % 2 == 0));
        frames.push(presence(PresenceKind::Goodbye, false));
        frames.push(frame([0xff; 6], 0x88b6, &i.to_be_bytes().repeat(3))); // malformed presence
        frames.push(icmp(false));
        frames.push(icmp(true));
        frames.push(frame(station, 0x0800, &[0x45, 0, 0xff])); // truncated IPv4
        frames.push(frame(station, 0x88b5, &vec![i as u8; 1800])); // oversize
    }
    frames
}

#[test]
fn the_station_survives_garbage_forged_presence_oversize_frames_and_bad_checksums() {
    require_qemu!();
    // The MAC the garbage's frames with random ethertypes are sent to.
    let (ns, mut firmware) = station("fw-st-flood", GARBAGE_MAC);
    // Frames longer than 1514 bytes leave the tap (QEMU's LAN9118 takes
    // them up to 2 KiB).
    ns.ip(&["link", "set", "tap0", "mtu", "9000"]);
    let scratch = Scratch::new("fw-st-flood");
    let hostile = scratch.path("hostile.pcap");
    write_capture(&hostile, &hostile_frames());
    let garbage = garbage_capture(&scratch, 2000);
    // The hostile frames at a pace the emulated card keeps up with even on
    // a busy host: its receive FIFO holds about 10 KB (five 1800-byte
    // frames) and QEMU drops what overflows it silently, before the
    // station could count it (at 5000 frames/s, 105 of 200 oversize
    // frames once reached it).
    for (capture, pace) in [(&garbage, "--topspeed"), (&garbage, "--pps=5000"), (&hostile, "--pps=1000")] {
        let inject = ns.whohas(&["inject", "-q", "-i", "tap0", pace, capture.to_str().unwrap()]);
        assert!(inject.status.success(), "{}", text(&inject.stderr));
    }
    // Still answering, on both stacks.
    let ping = ns.run("ping", &["-c", "3", "-i", "0.2", "198.18.7.2"]);
    assert!(ping.status.success(), "{}", text(&ping.stdout));
    let send = ns.whohas(&["send", "-i", "tap0", "-n", "linux", "mcu", "still there?"]);
    assert!(send.status.success(), "{}{}", text(&send.stdout), text(&send.stderr));
    assert!(firmware.has_or_waits_for_stdout("ip counters:", WAIT), "{:?}", firmware.stdout_lines);
    let line = |prefix: &str| firmware.stdout_lines.iter().rev().find(|l| l.contains(prefix)).unwrap().clone();
    let (node, presence, ip) = (line("INFO  counters:"), line("presence counters:"), line("ip counters:"));
    assert!(counter(&node, "rx_foreign") > 300, "{node}");
    assert!(counter(&node, "nic_rx_oversize") + counter(&node, "nic_rx_errors") >= 150, "{node}");
    assert!(counter(&presence, "rx_malformed") >= 150, "{presence}");
    assert!(counter(&ip, "rx_icmp_bad_checksum") >= 150, "{ip}");
    assert!(counter(&ip, "rx_ipv4_malformed") >= 300, "{ip}");
    let log = firmware.stdout();
    assert!(log.contains("presence: Conflict"), "forged announcements of its name: {log}");
    assert!(!log.contains("panic"), "{log}");
    firmware.terminate();
}
