//! End-to-end tests of the AF_PACKET backend and the vm1/vm2/node examples,
//! across veth pairs and bridges in network namespaces (root only).

mod support;

use std::time::Duration;

use support::{Lan, Namespace, example, require_root};

const FIRST: &str = "Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!";
const SECOND: &str = "I'm Glad to meet you again.";
const ANSWER: &str = "Nice to meet you!";
const WAIT: Duration = Duration::from_secs(10);

/// Starts vm2 as `VM2` on host `index` and waits until it listens.
fn start_vm2(lan: &Lan, index: usize, extra: &[&str]) -> support::Process {
    let mut args = vec!["eth0", "VM2", "VM1"];
    args.extend_from_slice(extra);
    let mut vm2 = lan.host(index).ns.spawn(example("vm2"), &args);
    assert!(vm2.wait_for_stdout("listening on eth0", WAIT), "vm2 did not start: {}", vm2.stderr());
    vm2
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs vm1 on host 1 and asserts the whole seed conversation.
fn assert_seed_conversation(lan: &Lan, vm2: &mut support::Process) {
    let vm1 = lan.host(1).ns.run(example("vm1"), &["eth0", "VM1", "VM2"]);
    let out = stdout(&vm1);
    assert!(vm1.status.success(), "vm1 failed: {out}{}", stderr(&vm1));
    let vm2_mac = lan.host(2).mac_string();
    let expected = [
        format!("VM2 is at {vm2_mac}"),
        format!("sent to VM2: {FIRST}"),
        format!("received from VM2: {ANSWER}"),
        format!("sent to VM2: {SECOND}"),
        format!("received from VM2: {ANSWER}"),
        "name-ARP requests sent: 1".to_owned(),
    ];
    let lines: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(lines, expected, "vm1 output:\n{out}");
    assert!(vm2.wait_for_stdout(&format!("received from VM1 ({}): {SECOND}", lan.host(1).mac_string()), WAIT));
    assert!(vm2.stdout().contains(&format!("received from VM1 ({}): {FIRST}", lan.host(1).mac_string())));
}

#[test]
fn vm1_and_vm2_complete_the_seed_conversation() {
    require_root!();
    let lan = Lan::pair();
    let mut capture = lan
        .host(2)
        .ns
        .spawn("tcpdump", &["--immediate-mode", "-i", "eth0", "-n", "-e", "-l", "-U", "ether proto 0xfffe"]);
    assert!(capture.wait_for_stderr("listening on eth0", WAIT), "tcpdump: {}", capture.stderr());
    let mut vm2 = start_vm2(&lan, 2, &[]);
    assert_seed_conversation(&lan, &mut vm2);
    std::thread::sleep(Duration::from_millis(200));
    capture.terminate();
    // The kernel capture agrees: one request, one reply, nothing more.
    let name_arp: Vec<&String> = capture.stdout_lines.iter().filter(|line| line.contains("0xfffe")).collect();
    assert_eq!(name_arp.len(), 2, "name-ARP frames seen by tcpdump: {name_arp:#?}");
    assert!(name_arp[0].contains("> ff:ff:ff:ff:ff:ff"), "{}", name_arp[0]);
    assert_eq!(vm2.terminate().code(), Some(0), "vm2 exits cleanly on SIGTERM: {}", vm2.stderr());
}

#[test]
fn vm1_reports_a_peer_that_never_answers() {
    require_root!();
    let lan = Lan::pair();
    let started = std::time::Instant::now();
    let vm1 = lan.host(1).ns.run(example("vm1"), &["eth0", "VM1", "VM2", "--attempts", "2", "--interval-ms", "100"]);
    assert_eq!(vm1.status.code(), Some(1));
    assert_eq!(
        stderr(&vm1).trim(),
        "vm1: no answer from VM2 on eth0 after 2 requests 100 ms apart: is it running on the same Ethernet segment?"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "gave up after the retry budget, not a long timeout");
}

#[test]
fn errors_say_what_to_do() {
    require_root!();
    let lan = Lan::pair();
    let ns = &lan.host(1).ns;

    let unknown = ns.run(example("vm2"), &["nosuch0", "VM2"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(stderr(&unknown).trim(), "vm2: no interface named \"nosuch0\"; available: lo, eth0");

    let loopback = ns.run(example("vm2"), &["lo", "VM2"]);
    assert_eq!(
        stderr(&loopback).trim(),
        "vm2: interface lo is not Ethernet (hardware type 772); choose an Ethernet or veth interface"
    );

    let long_name = "x".repeat(65);
    let too_long = ns.run(example("vm2"), &["eth0", &long_name]);
    assert_eq!(too_long.status.code(), Some(2), "clap rejects it as a usage error");
    assert!(
        stderr(&too_long).contains("a name is 65 bytes long but names are limited to 64 bytes"),
        "{}",
        stderr(&too_long)
    );

    let big = "y".repeat(1600);
    let mtu = ns.run(example("node"), &["send", "-n", "VM1", "-i", "eth0", "VM2", &big]);
    assert_eq!(mtu.status.code(), Some(2));
    assert_eq!(
        stderr(&mtu).trim(),
        "node: interface eth0 has MTU 1500 but 1600 is needed: raise it with `ip link set eth0 mtu 1600`"
    );

    // An unprivileged user: no CAP_NET_RAW.
    let vm2 = example("vm2");
    let unprivileged = ns.run(
        "setpriv",
        &["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", vm2.to_str().unwrap(), "eth0", "VM2"],
    );
    assert_eq!(
        stderr(&unprivileged).trim(),
        "vm2: opening a raw socket on eth0 needs CAP_NET_RAW: run as root, or grant it once with \
         `sudo setcap cap_net_raw+ep <path to the binary>`"
    );

    ns.ip(&["link", "set", "eth0", "down"]);
    let down = ns.run(example("vm2"), &["eth0", "VM2"]);
    assert_eq!(stderr(&down).trim(), "vm2: interface eth0 is down: bring it up with `ip link set eth0 up`");
}

#[test]
fn node_example_resolves_and_sends_by_name() {
    require_root!();
    let lan = Lan::pair();
    let mut bob = lan.host(2).ns.spawn(example("node"), &["respond", "-n", "bob", "-i", "eth0", "--reply", "hi alice"]);
    assert!(bob.wait_for_stdout("bob answering on eth0", WAIT), "{}", bob.stderr());
    let alice = &lan.host(1).ns;
    let resolved = alice.run(example("node"), &["resolve", "-n", "alice", "-i", "eth0", "bob"]);
    assert_eq!(stdout(&resolved).trim(), format!("bob is at {}", lan.host(2).mac_string()));
    let sent = alice.run(example("node"), &["send", "-n", "alice", "-i", "eth0", "bob", "hello bob", "--wait", "5"]);
    assert!(sent.status.success(), "{}", stderr(&sent));
    assert!(stdout(&sent).contains("answer from bob: hi alice"), "{}", stdout(&sent));
    assert!(bob.wait_for_stdout(&format!("from {}: hello bob", lan.host(1).mac_string()), WAIT));
    let nobody = alice.run(example("node"), &["resolve", "-n", "alice", "-i", "eth0", "carol", "--interval-ms", "50"]);
    assert_eq!(nobody.status.code(), Some(1));
    assert_eq!(stderr(&nobody).trim(), "node: no answer for carol on eth0 after 3 requests");
}

/// Builds the C re-creation of the original program with gcc.
fn build_original() -> std::path::PathBuf {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/original.c");
    let binary = std::env::temp_dir().join(format!("whohas-original-{}", std::process::id()));
    support::sh("gcc", &["-O2", "-Wall", "-Werror", "-o", binary.to_str().unwrap(), source.to_str().unwrap()]);
    binary
}

#[test]
fn interoperates_with_the_original_c_program_both_ways() {
    require_root!();
    let original = build_original();
    let lan = Lan::pair();

    // The C program as VM2, whohas as VM1.
    let mut c_vm2 = lan.host(2).ns.spawn(&original, &["vm2", "eth0", "VM2", "VM1"]);
    assert!(c_vm2.wait_for_stdout("sizeof(struct name_arp) = 12", WAIT), "{}", c_vm2.stderr());
    let vm1 = lan.host(1).ns.run(example("vm1"), &["eth0", "VM1", "VM2"]);
    assert!(vm1.status.success(), "whohas vm1 against C vm2: {}{}", stdout(&vm1), stderr(&vm1));
    assert!(c_vm2.wait_for_stdout(&format!("received: {SECOND}"), WAIT), "{}", c_vm2.stdout());
    drop(c_vm2);

    // whohas as VM2, the C program as VM1.
    let mut vm2 = start_vm2(&lan, 2, &[]);
    let c_vm1 = lan.host(1).ns.run(&original, &["vm1", "eth0", "VM1", "VM2"]);
    let out = stdout(&c_vm1);
    assert!(c_vm1.status.success(), "C vm1 against whohas vm2: {out}{}", stderr(&c_vm1));
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("peer is at {}", lan.host(2).mac_string()),
            format!("received: {ANSWER}"),
            format!("received: {ANSWER}")
        ]
    );
    assert!(vm2.wait_for_stdout(SECOND, WAIT));
    let _ = std::fs::remove_file(original);
}

#[test]
fn vm2_ignores_ipv4_ipv6_and_arp_traffic() {
    require_root!();
    let lan = Lan::pair();
    lan.add_ipv4();
    lan.add_ipv6();
    // No kernel filter: every frame reaches the node, which must sort them out.
    let mut vm2 = start_vm2(&lan, 2, &["--all-frames"]);
    let a = &lan.host(1).ns;
    let ping4 = a.run("ping", &["-c", "20", "-i", "0.01", "-W", "2", "198.18.0.2"]);
    assert!(ping4.status.success(), "{}", stdout(&ping4));
    let ping6 = a.run("ping", &["-6", "-c", "20", "-i", "0.01", "-W", "2", "2001:2::2"]);
    assert!(ping6.status.success(), "{}", stdout(&ping6));
    assert_seed_conversation(&lan, &mut vm2);
    vm2.terminate();
    let stats = vm2.stdout_lines.iter().find(|line| line.starts_with("stats:")).expect("vm2 prints its counters");
    let foreign: u64 = stats.split(", ").find_map(|part| part.strip_suffix(" foreign")?.parse().ok()).unwrap();
    // 40 echo requests at least (ARP and neighbour discovery come on top).
    assert!(foreign >= 40, "foreign frames counted: {stats}");
    assert!(stats.contains(" 0 malformed"), "{stats}");
}

/// A capture of `count` garbage frames from the `synth` example.
fn garbage_capture(count: usize) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("whohas-garbage-{}.pcap", std::process::id()));
    let out = std::process::Command::new(example("synth"))
        .args(["-o", path.to_str().unwrap(), "--frames", &count.to_string(), "--kind", "garbage"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    path
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|line| line.strip_prefix("VmRSS:")).unwrap().trim().trim_end_matches(" kB").parse().unwrap()
}

#[test]
fn vm2_stays_correct_under_a_garbage_flood() {
    require_root!();
    let lan = Lan::bridged(3);
    let garbage = garbage_capture(3_000);
    let mut vm2 = start_vm2(&lan, 2, &[]);
    let rss_before = rss_kib(vm2.pid());
    let flooder = &lan.host(3).ns;
    // Loop forever at top speed until killed.
    let mut flood = flooder.spawn("tcpreplay", &["-i", "eth0", "-t", "--loop", "0", garbage.to_str().unwrap()]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(flood.child.try_wait().unwrap().is_none(), "tcpreplay is flooding: {}", flood.stderr());
    assert_seed_conversation(&lan, &mut vm2);
    assert!(flood.child.try_wait().unwrap().is_none(), "the flood lasted the whole conversation");
    drop(flood);
    // Still answering after the flood, and still alive, in the same memory.
    assert_seed_conversation(&lan, &mut vm2);
    let rss_after = rss_kib(vm2.pid());
    assert!(rss_after <= rss_before + 256, "vm2 grew from {rss_before} KiB to {rss_after} KiB under the flood");
    vm2.terminate();
    let stats = vm2.stdout_lines.iter().find(|line| line.starts_with("stats:")).expect("vm2 prints its counters");
    assert!(!stats.contains(" 0 malformed"), "the flood was seen and counted: {stats}");
    let _ = std::fs::remove_file(garbage);
}

#[test]
fn idle_vm2_does_not_busy_loop() {
    require_root!();
    let lan = Lan::pair();
    let vm2 = start_vm2(&lan, 2, &[]);
    let before = support::cpu_time(vm2.pid());
    std::thread::sleep(Duration::from_secs(3));
    let used = support::cpu_time(vm2.pid()) - before;
    println!("idle vm2 used {used:?} of CPU in 3 s");
    // One clock tick is 10 ms; a spinning loop would use ~3 s.
    assert!(used <= Duration::from_millis(20), "idle vm2 used {used:?} of CPU in 3 s");
}

#[test]
fn namespaces_are_removed_after_a_test() {
    require_root!();
    let name = {
        let ns = Namespace::new("gone");
        ns.name.clone()
    };
    let list = support::sh("ip", &["netns", "list"]);
    assert!(!String::from_utf8_lossy(&list.stdout).contains(&name));
}
