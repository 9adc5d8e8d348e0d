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

use support::{Namespace, Process, Scratch, example, repo, require_root, text, whohas};

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
}

/// The images, built once for all tests.
fn images() -> &'static Images {
    static BUILT: OnceLock<Images> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = Command::new(repo("scripts/firmware.sh")).arg("build").output().expect("scripts/firmware.sh");
        assert!(out.status.success(), "firmware build failed: {}", text(&out.stderr));
        let image = |name: &str| repo(&format!("target/firmware/{name}.elf"));
        Images { vm2: image("vm2"), vm1: image("vm1"), echo: image("echo") }
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
    let garbage = scratch.path("garbage.pcap");
    let out = Command::new(whohas())
        .args(["synth", "-o", garbage.to_str().unwrap(), "--frames", "3000", "--kind", "garbage"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
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
