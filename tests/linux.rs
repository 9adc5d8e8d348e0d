//! End-to-end tests of the AF_PACKET backend, the `whohas` program and the
//! vm1/vm2 examples, across veth pairs and bridges in network namespaces
//! (root only).

mod support;

use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{Lan, Namespace, Scratch, example, garbage_capture, require_root, text, whohas, write_capture};

const FIRST: &str = "Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!";
const SECOND: &str = "I'm Glad to meet you again.";
const ANSWER: &str = "Nice to meet you!";
const WAIT: Duration = Duration::from_secs(10);

/// Starts vm2 as `VM2` on host `index` and waits until it answers.
fn start_vm2(lan: &Lan, index: usize) -> support::Process {
    let mut vm2 = lan.host(index).ns.spawn(example("vm2"), &["eth0", "VM2", "VM1"]);
    assert!(vm2.wait_for_stdout("VM2 answering on eth0", WAIT), "vm2 did not start: {}", vm2.stderr());
    vm2
}

/// Starts `whohas respond -n VM2 --reply ...` on host `index`, with `extra`
/// arguments, and waits until it answers.
fn start_respond(lan: &Lan, index: usize, extra: &[&str]) -> support::Process {
    let mut args = vec!["respond", "-i", "eth0", "-n", "VM2", "--reply", "Nice to meet you!\\n"];
    args.extend_from_slice(extra);
    let mut respond = lan.host(index).ns.spawn_whohas(&args);
    assert!(respond.wait_for_stdout("VM2 answering on eth0", WAIT), "respond did not start: {}", respond.stderr());
    respond
}

/// Runs vm1 on host 1 and asserts the whole seed conversation.
fn assert_seed_conversation(lan: &Lan, vm2: &mut support::Process) {
    let vm1 = lan.host(1).ns.run(example("vm1"), &["eth0", "VM1", "VM2"]);
    let out = text(&vm1.stdout);
    assert!(vm1.status.success(), "vm1 failed: {out}{}", text(&vm1.stderr));
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
    let vm1_mac = lan.host(1).mac_string();
    assert!(vm2.wait_for_stdout(&format!("received from VM1 ({vm1_mac}): {SECOND}"), WAIT), "{}", vm2.stdout());
    assert!(vm2.stdout().contains(&format!("received from VM1 ({vm1_mac}): {FIRST}")));
}

/// The value of `key` in a `stats:` line ("N key").
fn stat(stats: &str, key: &str) -> u64 {
    stats
        .split([',', ':', ';'])
        .find_map(|part| part.trim().strip_suffix(key)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key:?} in {stats}"))
}

#[test]
fn vm1_and_vm2_complete_the_seed_conversation() {
    require_root!();
    let lan = Lan::pair();
    let scratch = Scratch::new("seed");
    let mut capture = support::Tcpdump::start(&lan.host(2).ns, scratch.path("seed.pcap"), "ether proto 0xfffe");
    let mut vm2 = start_vm2(&lan, 2);
    assert_seed_conversation(&lan, &mut vm2);
    capture.barrier(&lan.host(1).ns);
    // The kernel capture agrees: one request, one reply, nothing more
    // before the barrier's marker.
    let lines = capture.lines();
    let name_arp: Vec<&String> = lines.iter().filter(|line| line.contains("0xfffe")).collect();
    assert_eq!(name_arp.len(), 2, "name-ARP frames seen by tcpdump: {lines:#?}");
    assert!(name_arp[0].contains("> ff:ff:ff:ff:ff:ff"), "{}", name_arp[0]);
    capture.stop();
    assert_eq!(vm2.terminate().code(), Some(0), "vm2 exits cleanly on SIGTERM: {}", vm2.stderr());
    assert!(vm2.stdout_lines.last().is_some_and(|line| line.starts_with("stats: ")), "{}", vm2.stdout());
}

#[test]
fn one_responder_answers_five_clients_greeting_it_at_once() {
    require_root!();
    const ROUNDS: usize = 20;
    let lan = Lan::bridged(6);
    let mut vm2 = start_vm2(&lan, 6);
    let mut answered = 0;
    for round in 0..ROUNDS {
        let clients: Vec<_> = (1..=5)
            .map(|i| {
                let name = format!("VM1-{i}");
                lan.host(i).ns.command(example("vm1")).args(["eth0", &name, "VM2"]).output_later()
            })
            .collect();
        for (i, client) in clients.into_iter().enumerate() {
            let out = client.join();
            if out.status.success() && text(&out.stdout).matches(&format!("received from VM2: {ANSWER}")).count() == 2 {
                answered += 1;
            } else {
                eprintln!("round {round}, client {}: {}{}", i + 1, text(&out.stdout), text(&out.stderr));
            }
        }
    }
    assert_eq!(answered, 5 * ROUNDS, "every client of every round got both answers");
    vm2.terminate();
    let stats = vm2.stdout_lines.iter().find(|line| line.starts_with("stats:")).expect("vm2 prints its counters");
    assert_eq!(stat(stats, "data"), 2 * 5 * ROUNDS as u64, "{stats}");
}

/// Starts a command now and collects its output on `join`.
trait OutputLater {
    fn output_later(&mut self) -> Later;
}

impl OutputLater for std::process::Command {
    fn output_later(&mut self) -> Later {
        Later(self.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn"))
    }
}

struct Later(std::process::Child);

impl Later {
    fn join(self) -> std::process::Output {
        self.0.wait_with_output().expect("wait")
    }
}

#[test]
fn vm1_reports_a_peer_that_never_answers() {
    require_root!();
    let lan = Lan::pair();
    let started = std::time::Instant::now();
    let vm1 = lan.host(1).ns.run(example("vm1"), &["eth0", "VM1", "VM2", "--attempts", "2", "--interval-ms", "100"]);
    assert_eq!(vm1.status.code(), Some(1));
    assert_eq!(
        text(&vm1.stderr).trim(),
        "vm1: no answer from VM2 on eth0 after 2 requests 100 ms apart: is it running on the same Ethernet segment?"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "gave up after the retry budget, not a long timeout");
}

#[test]
fn errors_say_what_to_do() {
    require_root!();
    let lan = Lan::pair();
    let ns = &lan.host(1).ns;
    let check = |args: &[&str], status: i32, message: &str| {
        let out = ns.whohas(args);
        assert_eq!(out.status.code(), Some(status), "whohas {args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr).trim(), format!("whohas: {message}"), "whohas {args:?}");
    };
    check(&["respond", "-i", "nosuch0", "-n", "VM2"], 2, "no interface named \"nosuch0\"; available: lo, eth0");
    check(
        &["respond", "-i", "lo", "-n", "VM2"],
        2,
        "interface lo is not Ethernet (hardware type 772); choose an Ethernet or veth interface",
    );
    let big = "y".repeat(1600);
    check(
        &["send", "-n", "VM1", "-i", "eth0", "VM2", &big, "--datagram"],
        2,
        "interface eth0 has MTU 1500 but 1600 is needed: raise it with `ip link set eth0 mtu 1600`",
    );
    check(
        &["resolve", "-n", "VM1", "-i", "eth0", "carol", "--interval-ms", "50"],
        1,
        "no answer from carol on eth0 after 3 requests 50 ms apart: is it running on the same Ethernet segment?",
    );

    // An unprivileged user: no CAP_NET_RAW, through either backend.
    let unprivileged = |via: &str| {
        let program = whohas();
        ns.run(
            "setpriv",
            &[
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                program.to_str().unwrap(),
                "respond",
                "-i",
                "eth0",
                "-n",
                "VM2",
                "--via",
                via,
            ],
        )
    };
    let packet = unprivileged("packet");
    assert_eq!(packet.status.code(), Some(2));
    assert_eq!(
        text(&packet.stderr).trim(),
        "whohas: opening a raw socket on eth0 needs CAP_NET_RAW: run as root, or grant it once with \
         `sudo setcap cap_net_raw+ep <path to the binary>`"
    );
    let pcap = unprivileged("pcap");
    assert_eq!(pcap.status.code(), Some(2));
    assert!(
        text(&pcap.stderr).trim().starts_with("whohas: capturing on eth0 needs CAP_NET_RAW"),
        "{}",
        text(&pcap.stderr)
    );

    ns.ip(&["link", "set", "eth0", "down"]);
    for via in ["packet", "pcap", "xdp"] {
        check(
            &["respond", "-i", "eth0", "-n", "VM2", "--via", via],
            2,
            "interface eth0 is down: bring it up with `ip link set eth0 up`",
        );
    }
}

#[test]
fn respond_resolve_and_send_by_name() {
    require_root!();
    let lan = Lan::pair();
    let mut bob = lan.host(2).ns.spawn_whohas(&["respond", "-n", "bob", "-i", "eth0", "--reply", "hi alice"]);
    assert!(bob.wait_for_stdout("bob answering on eth0", WAIT), "{}", bob.stderr());
    let alice = &lan.host(1).ns;
    let resolved = alice.whohas(&["resolve", "-n", "alice", "-i", "eth0", "bob"]);
    assert_eq!(text(&resolved.stdout).trim(), format!("bob is at {}", lan.host(2).mac_string()));
    let sent = alice.whohas(&["send", "-n", "alice", "-i", "eth0", "bob", "hello bob", "--datagram", "--wait", "5"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    assert_eq!(
        text(&sent.stdout).lines().collect::<Vec<_>>(),
        [format!("sent 9 bytes to bob ({})", lan.host(2).mac_string()), "answer from bob: hi alice".to_owned()]
    );
    assert!(bob.wait_for_stdout(&format!("received from {}: hello bob", lan.host(1).mac_string()), WAIT));
    let json = alice.whohas(&["resolve", "-n", "alice", "-i", "eth0", "bob", "--json"]);
    let first: serde_json::Value = serde_json::from_str(text(&json.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(
        (first["event"].as_str(), first["mac"].as_str()),
        (Some("resolved"), Some(&lan.host(2).mac_string()[..]))
    );
    assert_eq!(bob.terminate().code(), Some(0));
}

#[test]
fn resolve_reports_two_stations_answering_for_one_name() {
    require_root!();
    let lan = Lan::bridged(3);
    let mut twins: Vec<_> =
        [2, 3].iter().map(|&i| lan.host(i).ns.spawn_whohas(&["respond", "-n", "twin", "-i", "eth0"])).collect();
    for twin in &mut twins {
        assert!(twin.wait_for_stdout("twin answering on eth0", WAIT), "{}", twin.stderr());
    }
    let out = lan.host(1).ns.whohas(&["resolve", "-n", "me", "-i", "eth0", "twin", "--linger-ms", "500"]);
    let lines = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(lines.lines().next().unwrap().starts_with("twin is at 02:00:00:00:00:0"), "{lines}");
    assert!(lines.contains("(DUP: two stations claim it"), "{lines}");
}

/// The two struct-padding bytes after the name in a name-ARP frame.
fn name_arp_padding(frame: &[u8]) -> &[u8] {
    let len = u32::from_le_bytes(frame[14..18].try_into().unwrap()) as usize;
    &frame[24 + len..26 + len]
}

/// The original leaves its struct padding uninitialised: whohas must
/// interoperate whatever those bytes hold, so the C program is built with
/// them filled on purpose, with 0xA5 and with zero, and the capture checks
/// that the fill really went out.
#[test]
fn interoperates_with_the_original_c_program_both_ways_whatever_its_padding_holds() {
    require_root!();
    let scratch = Scratch::new("original");
    for fill in [0xa5u8, 0x00] {
        let original = support::build_original(&scratch, fill);
        let lan = Lan::pair();
        let mut capture =
            support::Tcpdump::start(&lan.host(1).ns, scratch.path(&format!("c-{fill:02x}.pcap")), "ether proto 0xfffe");

        // The C program as VM2, whohas as VM1.
        let mut c_vm2 = lan.host(2).ns.spawn(&original, &["vm2", "eth0", "VM2", "VM1"]);
        assert!(c_vm2.wait_for_stdout("sizeof(struct name_arp) = 12", WAIT), "{}", c_vm2.stderr());
        let vm1 = lan.host(1).ns.run(example("vm1"), &["eth0", "VM1", "VM2"]);
        assert!(
            vm1.status.success(),
            "whohas vm1 against C vm2 (padding {fill:#04x}): {}{}",
            text(&vm1.stdout),
            text(&vm1.stderr)
        );
        assert!(c_vm2.wait_for_stdout(&format!("received: {SECOND}"), WAIT), "{}", c_vm2.stdout());
        drop(c_vm2);

        // whohas as VM2, the C program as VM1.
        let mut vm2 = start_vm2(&lan, 2);
        let c_vm1 = lan.host(1).ns.run(&original, &["vm1", "eth0", "VM1", "VM2"]);
        let out = text(&c_vm1.stdout);
        assert!(c_vm1.status.success(), "C vm1 (padding {fill:#04x}) against whohas vm2: {out}{}", text(&c_vm1.stderr));
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                format!("peer is at {}", lan.host(2).mac_string()),
                format!("received: {ANSWER}"),
                format!("received: {ANSWER}")
            ]
        );
        assert!(vm2.wait_for_stdout(SECOND, WAIT));

        // Two requests and two answers; the C program's (its reply as VM2,
        // its request as VM1) carried the fill, whohas' carried zeros.
        assert!(capture.wait_for_frames(4, WAIT), "{:#?}", capture.lines());
        let frames = support::capture_frames(&capture.stop());
        assert_eq!(frames.len(), 4, "two requests, two answers");
        let paddings: Vec<&[u8]> = frames.iter().map(|frame| name_arp_padding(frame)).collect();
        assert_eq!(paddings, [&[0, 0][..], &[fill, fill], &[fill, fill], &[0, 0]], "padding {fill:#04x}");
    }
}

#[test]
fn respond_ignores_ipv4_ipv6_and_arp_traffic() {
    require_root!();
    let lan = Lan::pair();
    lan.add_ipv4();
    lan.add_ipv6();
    // No kernel filter: every frame reaches the node, which must sort them out.
    let mut vm2 = start_respond(&lan, 2, &["--all-frames"]);
    let a = &lan.host(1).ns;
    let ping4 = a.run("ping", &["-c", "20", "-i", "0.01", "-W", "2", "198.18.0.2"]);
    assert!(ping4.status.success(), "{}", text(&ping4.stdout));
    let ping6 = a.run("ping", &["-6", "-c", "20", "-i", "0.01", "-W", "2", "2001:db8::2"]);
    assert!(ping6.status.success(), "{}", text(&ping6.stdout));
    let vm1 = a.run(example("vm1"), &["eth0", "VM1", "VM2"]);
    assert!(vm1.status.success(), "{}", text(&vm1.stderr));
    vm2.terminate();
    let stats = vm2.stdout_lines.iter().find(|line| line.starts_with("stats:")).expect("respond prints its counters");
    // 40 echo requests at least (ARP and neighbour discovery come on top).
    assert!(stat(stats, "foreign") >= 40, "foreign frames counted: {stats}");
    assert_eq!(stat(stats, "malformed"), 0, "{stats}");
    assert_eq!(stat(stats, "data"), 2, "{stats}");
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
    let scratch = Scratch::new("flood");
    let garbage = garbage_capture(&scratch, 3_000);
    let mut vm2 = start_vm2(&lan, 2);
    let rss_before = rss_kib(vm2.pid());
    let flooder = &lan.host(3).ns;
    // Loop forever at top speed until killed.
    let mut flood = flooder.spawn("tcpreplay", &["-i", "eth0", "-t", "--loop", "0", garbage.to_str().unwrap()]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(flood.child.try_wait().unwrap().is_none(), "tcpreplay is flooding: {}", flood.stderr());
    assert_seed_conversation(&lan, &mut vm2);
    assert!(flood.child.try_wait().unwrap().is_none(), "the flood lasted the whole conversation");
    drop(flood);
    // One more pass of the garbage, paced so that none is lost on the way:
    // every malformed name-ARP frame in it must be counted. The seed
    // conversation after it is the barrier: vm2 reads its frames in order.
    let paced = flooder.whohas(&["inject", "-q", "-i", "eth0", "--pps", "5000", garbage.to_str().unwrap()]);
    assert!(paced.status.success(), "{}", text(&paced.stderr));
    let malformed_in_one_pass = support::capture_frames(&garbage)
        .iter()
        .filter(|frame| frame[12..14] == [0xff, 0xfe])
        .filter(|frame| {
            let body = whohas::wire::NameArpPacket::new_unchecked(&frame[14..]);
            whohas::wire::NameArpRepr::parse(&body).is_err()
        })
        .count() as u64;
    assert!(malformed_in_one_pass > 900, "the capture is mostly malformed name-ARP: {malformed_in_one_pass}");
    // Still answering after the flood, and still alive, in the same memory.
    assert_seed_conversation(&lan, &mut vm2);
    let rss_after = rss_kib(vm2.pid());
    assert!(rss_after <= rss_before + 256, "vm2 grew from {rss_before} KiB to {rss_after} KiB under the flood");
    vm2.terminate();
    let stats = vm2.stdout_lines.iter().find(|line| line.starts_with("stats:")).expect("vm2 prints its counters");
    assert!(
        stat(stats, "malformed") >= malformed_in_one_pass,
        "every malformed frame of the paced pass ({malformed_in_one_pass}) was seen and counted: {stats}"
    );
}

/// A capture `name` of data frames for `to` whose payloads are `payloads`,
/// a millisecond apart.
fn data_capture(scratch: &Scratch, name: &str, to: &str, payloads: &[&[u8]]) -> std::path::PathBuf {
    let path = scratch.path(name);
    let to: whohas::EthernetAddress = to.parse().unwrap();
    let frames: Vec<Vec<u8>> =
        payloads.iter().map(|payload| [&to.0[..], &[2, 0, 0, 0, 0, 1, 0xff, 0xfd], payload].concat()).collect();
    write_capture(&path, &frames);
    path
}

/// Reads everything `pipe` gives into a shared buffer, on a thread.
fn collect(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&bytes);
    let reader = std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut buffer) {
            sink.lock().unwrap().extend_from_slice(&buffer[..n]);
        }
    });
    (bytes, reader)
}

/// Runs `whohas respond ARGS` on host 2 while host 1 injects each capture
/// in turn at its pace (`inject`'s options), until respond's stdout is
/// `done`; returns that stdout, as bytes, and its stderr after SIGTERM.
fn respond_to_injection(
    lan: &Lan,
    args: &[&str],
    injections: &[(&std::path::Path, &[&str])],
    done: impl Fn(&[u8]) -> bool,
) -> (Vec<u8>, String) {
    let mut child =
        lan.host(2).ns.command(whohas()).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (stdout, out_reader) = collect(child.stdout.take().unwrap());
    let (stderr, err_reader) = collect(child.stderr.take().unwrap());
    let started = std::time::Instant::now();
    let banner = |bytes: &Arc<Mutex<Vec<u8>>>| text(&bytes.lock().unwrap()).contains("answering on eth0");
    while !(banner(&stdout) || banner(&stderr)) {
        assert!(started.elapsed() < WAIT, "respond did not start: {}", text(&stderr.lock().unwrap()));
        std::thread::sleep(Duration::from_millis(20));
    }
    for (capture, pace) in injections {
        let inject = lan.host(1).ns.whohas(&[&["inject", "-i", "eth0", capture.to_str().unwrap()], *pace].concat());
        assert!(inject.status.success(), "{}", text(&inject.stderr));
    }
    let started = std::time::Instant::now();
    while !done(&stdout.lock().unwrap()) {
        assert!(started.elapsed() < WAIT, "respond did not print everything: {}", text(&stdout.lock().unwrap()));
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "SIGTERM ends respond cleanly");
    out_reader.join().unwrap();
    err_reader.join().unwrap();
    let stdout = stdout.lock().unwrap().clone();
    let stderr = text(&stderr.lock().unwrap());
    (stdout, stderr)
}

#[test]
fn text_from_the_wire_never_reaches_the_terminal_raw() {
    require_root!();
    let lan = Lan::pair();
    let scratch = Scratch::new("hostile");
    let retitle: &[u8] = b"hi\x1b]0;pwned\x07\x1b[2Jend";
    let nuls = [0u8; 1500];
    // NUL, a control, an escape sequence, invalid UTF-8, C1's NEL, a bidi
    // override (RLO) and DEL.
    let mixed: &[u8] = b"\x00\x01\x1b[31mred\x9b\xc2\x85\xe2\x80\xae!\x7f";
    let capture = data_capture(&scratch, "hostile.pcap", &lan.host(2).mac_string(), &[retitle, &nuls, mixed]);
    let injections: &[(&std::path::Path, &[&str])] = &[(&capture, &["--multiplier", "10"])];

    let three_lines = |out: &[u8]| text(out).matches("received from").count() == 3;
    let (stdout, _) = respond_to_injection(&lan, &["respond", "-i", "eth0", "-n", "VM2"], injections, three_lines);
    let shown = text(&stdout);
    let received: Vec<&str> = shown.lines().filter(|line| line.starts_with("received from")).collect();
    let from = "received from 02:00:00:00:00:01: ";
    assert_eq!(
        received,
        [
            format!("{from}hi\\x1b]0;pwned\\x07\\x1b[2Jend"),
            format!("{from}{}", whohas::cli::output::text(&nuls)),
            format!("{from}\\x00\\x01\\x1b[31mred\\x9b\\xc2\\x85\\xe2\\x80\\xae!\\x7f"),
        ],
        "each message one line, escaped by the one rule"
    );
    assert!(received[1].ends_with("\\x00\\x00\\x00...(+988 bytes)"), "1500 NULs on one line, cut: {}", received[1]);

    let whole = retitle.len() + nuls.len() + mixed.len();
    let args = ["respond", "-i", "eth0", "-n", "VM2", "--raw"];
    let (raw, stderr) = respond_to_injection(&lan, &args, injections, |out: &[u8]| out.len() >= whole);
    assert_eq!(raw, [retitle, &nuls[..], mixed].concat(), "--raw delivers the exact bytes, nothing else");
    assert!(stderr.contains("stats: "), "the counters go to stderr with --raw: {stderr}");
}

/// Frames that come one at a time are read one per system call (see
/// hal-linux's device.rs); a burst that follows is read whole and in order.
#[test]
fn a_burst_after_frames_one_at_a_time_arrives_whole_and_in_order() {
    require_root!();
    let lan = Lan::pair();
    let scratch = Scratch::new("trickle");
    let to = lan.host(2).mac_string();
    let payloads: Vec<String> = (0..440).map(|i| format!("frame {i:03}")).collect();
    let payloads: Vec<&[u8]> = payloads.iter().map(|payload| payload.as_bytes()).collect();
    // 40 frames 5 ms apart (more than one trickle check), then 400 at once.
    let trickle = data_capture(&scratch, "trickle.pcap", &to, &payloads[..40]);
    let burst = data_capture(&scratch, "burst.pcap", &to, &payloads[40..]);
    let injections: &[(&std::path::Path, &[&str])] = &[(&trickle, &["--multiplier", "0.2"]), (&burst, &["--topspeed"])];
    let all = |out: &[u8]| text(out).matches("received from").count() == payloads.len();
    let (stdout, _) = respond_to_injection(&lan, &["respond", "-i", "eth0", "-n", "VM2"], injections, all);
    let from = "received from 02:00:00:00:00:01: ";
    let shown = text(&stdout);
    let received: Vec<&str> = shown.lines().filter_map(|line| line.strip_prefix(from)).collect();
    let sent: Vec<&str> = payloads.iter().map(|payload| std::str::from_utf8(payload).unwrap()).collect();
    assert_eq!(received, sent);
}

#[test]
fn a_deleted_interface_is_one_line_and_a_failure() {
    require_root!();
    for via in ["packet", "pcap", "xdp"] {
        let lan = Lan::pair();
        let mut vm2 = start_respond(&lan, 2, &["--via", via]);
        lan.host(2).ns.ip(&["link", "del", "eth0"]);
        let status =
            vm2.wait(WAIT).unwrap_or_else(|| panic!("--via {via}: respond exits when its interface goes away"));
        assert_eq!(status.code(), Some(2), "--via {via}: {}", vm2.stderr());
        let errors: Vec<&String> = vm2.stderr_lines.iter().filter(|line| line.starts_with("whohas: ")).collect();
        assert_eq!(
            errors,
            ["whohas: interface eth0 is gone (deleted, or moved to another network namespace)"],
            "--via {via}: one line, not a loop of errors: {}",
            vm2.stderr()
        );
    }
}

/// Through libpcap too, a responder answers again once its interface is
/// back up.
#[test]
fn a_pcap_responder_answers_again_after_its_interface_comes_back() {
    require_root!();
    let lan = Lan::pair();
    let mut vm2 = start_respond(&lan, 2, &["--via", "pcap"]);
    lan.host(2).ns.ip(&["link", "set", "eth0", "down"]);
    std::thread::sleep(Duration::from_millis(500));
    lan.host(2).ns.ip(&["link", "set", "eth0", "up"]);
    let vm1 = lan.host(1).ns.run(example("vm1"), &["eth0", "VM1", "VM2"]);
    let out = text(&vm1.stdout);
    assert!(vm1.status.success(), "{out}{}", text(&vm1.stderr));
    assert_eq!(out.matches(&format!("received from VM2: {ANSWER}")).count(), 2, "{out}");
    assert!(vm2.child.try_wait().unwrap().is_none(), "still running: {}", vm2.stderr());
    assert_eq!(vm2.terminate().code(), Some(0));
}

/// An interface that goes down and comes back is waited out: `respond`,
/// `receive` (in the middle of a file) and `chat` carry on, nothing
/// acknowledged is lost.
#[test]
fn stations_carry_on_when_their_interface_goes_down_and_comes_back() {
    require_root!();
    let lan = Lan::bridged(3);
    let (scratch, inbox) = (Scratch::new("flap"), Scratch::new("flap-inbox"));
    let mut vm2 = start_respond(&lan, 2, &[]);
    // The receiver acknowledges through AF_XDP, which says ENETDOWN in its
    // own way while the link is down.
    let dir = inbox.0.to_str().unwrap();
    let mut receiver =
        lan.host(3).ns.spawn_whohas(&["receive", "-v", "--via", "xdp", "-i", "eth0", "-n", "B", "--dir", dir]);
    assert!(receiver.wait_for_stdout("B answering on eth0", WAIT), "{}", receiver.stderr());
    assert!(receiver.wait_for_stderr("eth0: sending through AF_XDP", WAIT), "{}", receiver.stderr());
    let mut alice = support::start_chat(&lan, 1, "alice", &[]);
    let mut bob = support::start_chat(&lan, 2, "bob", &[]);
    assert!(alice.wait_for_stdout("bob joined", WAIT), "{:?}", alice.stdout_lines);

    // A 20 MiB file at 80 Mbit/s takes about 2 s: the receiver's link
    // flaps in the middle of it.
    lan.host(1).ns.run(
        "tc",
        &["qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "80mbit", "burst", "32kbit", "limit", "300000"],
    );
    let file = support::random_file(&scratch.path("flap.bin"), 20 << 20);
    let mut sender =
        lan.host(1).ns.spawn_whohas(&["send", "-i", "eth0", "-n", "A", "B", "--file", file.to_str().unwrap()]);
    support::wait_until_arriving(&inbox.0, WAIT);
    for host in [2, 3] {
        lan.host(host).ns.ip(&["link", "set", "eth0", "down"]);
    }
    std::thread::sleep(Duration::from_millis(1500));
    for host in [2, 3] {
        lan.host(host).ns.ip(&["link", "set", "eth0", "up"]);
    }

    let status = sender.wait(Duration::from_secs(60)).expect("the transfer ends");
    assert!(status.success(), "{}{}", sender.stdout(), sender.stderr());
    assert!(receiver.wait_for_stdout("received flap.bin from A: 20971520 bytes", WAIT), "{}", receiver.stdout());
    assert_eq!(
        std::fs::read(inbox.path("flap.bin")).unwrap(),
        std::fs::read(&file).unwrap(),
        "the file arrived intact"
    );
    // respond answers as before.
    let vm1 = lan.host(1).ns.run(example("vm1"), &["eth0", "VM1", "VM2"]);
    assert!(vm1.status.success(), "{}{}", text(&vm1.stdout), text(&vm1.stderr));
    // chat: a message across the flapped link is delivered.
    alice.type_line("@chat bob still here?");
    assert!(bob.wait_for_stdout("still here?", WAIT), "{:?}", bob.stdout_lines);
    assert!(alice.wait_for_stdout("[delivered", WAIT), "{:?}", alice.stdout_lines);
    for (name, process) in [("respond", &mut vm2), ("receive", &mut receiver)] {
        assert!(process.child.try_wait().unwrap().is_none(), "{name} is still running: {}", process.stderr());
        assert_eq!(process.terminate().code(), Some(0), "{name}: {}", process.stderr());
    }
}

#[test]
fn a_full_transmit_queue_puts_the_sender_to_sleep() {
    require_root!();
    let lan = Lan::pair();
    let scratch = Scratch::new("full");
    // A queue discipline that drains at 100 kbit/s and holds a few frames:
    // 1000 frames of 54 bytes take about 4 s to leave.
    lan.host(1).ns.run(
        "tc",
        &["qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "100kbit", "burst", "1600", "limit", "3000"],
    );
    let capture = scratch.path("frames.pcap");
    let synth = std::process::Command::new(whohas())
        .args(["synth", "-o", capture.to_str().unwrap(), "--frames", "1000", "--kind", "foreign"])
        .output()
        .unwrap();
    assert!(synth.status.success());
    // pcap_sendpacket goes through the queue discipline (AF_PACKET inject bypasses it).
    let mut inject = lan.host(1).ns.spawn_whohas(&[
        "inject",
        "-i",
        "eth0",
        capture.to_str().unwrap(),
        "--topspeed",
        "--via",
        "pcap",
    ]);
    let started = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    let before = support::cpu_time(inject.pid());
    std::thread::sleep(Duration::from_secs(1));
    let used = support::cpu_time(inject.pid()) - before;
    assert!(inject.child.try_wait().unwrap().is_none(), "still sending: the queue is the bottleneck");
    println!("inject into a full queue used {used:?} of CPU in 1 s");
    assert!(used <= Duration::from_millis(150), "{used:?} of CPU in 1 s: the sender spins instead of sleeping");
    let status = inject.wait(Duration::from_secs(30)).expect("inject finishes");
    assert!(status.success(), "{}", inject.stderr());
    assert!(inject.stdout().contains("sent 1000 packets"), "{}", inject.stdout());
    // 1000 frames of 54 bytes are 432 kbit: 4.3 s at 100 kbit/s, less the
    // burst and the queue's 3000 bytes still waiting when inject ends.
    // Unpaced (frames dropped), it would take milliseconds.
    assert!(started.elapsed() >= Duration::from_secs(3), "paced by the queue, not dropped: {:?}", started.elapsed());
}

/// Times a process was woken up (voluntary and involuntary context
/// switches), from /proc/PID/status.
fn wakeups(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .filter_map(|line| {
            line.strip_prefix("voluntary_ctxt_switches:").or(line.strip_prefix("nonvoluntary_ctxt_switches:"))
        })
        .map(|count| count.trim().parse::<u64>().unwrap())
        .sum()
}

/// An idle station has no deadline: it sleeps in the kernel until a frame
/// comes, and wakes for nothing else.
#[test]
fn idle_vm2_does_not_busy_loop() {
    require_root!();
    let lan = Lan::pair();
    let vm2 = start_vm2(&lan, 2);
    let before = wakeups(vm2.pid());
    std::thread::sleep(Duration::from_secs(3));
    let woke = wakeups(vm2.pid()) - before;
    println!("idle vm2 woke {woke} times in 3 s");
    // A polling loop would wake hundreds of times (thousands if spinning).
    assert!(woke <= 3, "idle vm2 woke {woke} times in 3 s");
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

/// `ARGS` for `unshare`: run `whohas WHOHAS_ARGS` in a UTS namespace whose
/// host name is `host`.
fn with_host_name<'a>(host: &'a str, whohas_path: &'a str, whohas_args: &[&'a str]) -> Vec<&'a str> {
    let script = r#"printf %s "$1" > /proc/sys/kernel/hostname && shift && exec "$@""#;
    let mut args = vec!["--uts", "sh", "-c", script, "sh", host, whohas_path];
    args.extend_from_slice(whohas_args);
    args
}

/// Without `-n` a station is named after its host, up to the first dot
/// (as Avahi names a host); a host name that gives no station name is a
/// one-line error.
#[test]
fn a_station_is_named_after_its_host_unless_told() {
    require_root!();
    let lan = Lan::pair();
    let program = whohas();
    let program = program.to_str().unwrap();
    let mut bob =
        lan.host(2).ns.spawn("unshare", &with_host_name("bob.example.org", program, &["respond", "-i", "eth0"]));
    assert!(bob.wait_for_stdout("bob answering on eth0", WAIT), "{}{}", bob.stdout(), bob.stderr());
    let alice = lan.host(1).ns.run("unshare", &with_host_name("alice", program, &["resolve", "-i", "eth0", "bob"]));
    assert!(alice.status.success(), "{}", text(&alice.stderr));
    assert_eq!(text(&alice.stdout).trim(), format!("bob is at {}", lan.host(2).mac_string()));
    // -n wins over the host name.
    let told = lan
        .host(1)
        .ns
        .run("unshare", &with_host_name("alice", program, &["resolve", "-i", "eth0", "-n", "carol", "bob"]));
    assert!(told.status.success(), "{}", text(&told.stderr));
    assert_eq!(bob.terminate().code(), Some(0));

    let nameless = lan.host(1).ns.run("unshare", &with_host_name(".lan", program, &["respond", "-i", "eth0"]));
    assert_eq!(nameless.status.code(), Some(2));
    assert_eq!(
        text(&nameless.stderr).trim(),
        "whohas: the host name \".lan\" gives no station name (1 to 64 bytes before its first dot): give one with -n NAME"
    );
}
