//! Beyond one segment: two stations in different IPv4 subnets, joined only
//! by a router, share an Ethernet segment through the kernel's VXLAN
//! overlay (`ip link add vx0 type vxlan ...`). whohas builds no overlay of
//! its own: on `vx0` it works unchanged, and keeps every frame within the
//! overlay's MTU (1450), so the underlay never fragments (root only).

mod support;

use std::time::Duration;

use support::{Namespace, Scratch, require_root, text};

const WAIT: Duration = Duration::from_secs(15);

/// Two hosts, 198.18.1.2/24 and 198.18.2.2/24, routed through a third
/// namespace; each has `vx0`, a VXLAN (VNI 42) to the other over the
/// routed path, with MAC 02:00:00:00:0f:0i.
struct Overlay {
    hosts: [Namespace; 2],
    _router: Namespace,
}

impl Overlay {
    fn new() -> Overlay {
        let router = Namespace::new("rt");
        let hosts = [Namespace::new("o1"), Namespace::new("o2")];
        router.run("sysctl", &["-qw", "net.ipv4.ip_forward=1"]);
        for (i, host) in hosts.iter().enumerate() {
            let net = i + 1;
            let port = format!("r{net}");
            support::cable(&router, &port, host, &support::host_mac(net).to_string());
            router.ip(&["addr", "add", &format!("198.18.{net}.1/24"), "dev", &port]);
            router.ip(&["link", "set", &port, "up"]);
            host.run("sysctl", &["-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
            host.ip(&["addr", "add", &format!("198.18.{net}.2/24"), "dev", "eth0"]);
            host.ip(&["link", "set", "eth0", "up"]);
            host.ip(&["route", "add", "default", "via", &format!("198.18.{net}.1")]);
        }
        for (i, host) in hosts.iter().enumerate() {
            let (local, remote) = (format!("198.18.{}.2", i + 1), format!("198.18.{}.2", 2 - i));
            let mac = format!("02:00:00:00:0f:0{}", i + 1);
            host.ip(&[
                "link", "add", "vx0", "address", &mac, "type", "vxlan", "id", "42", "local", &local, "remote", &remote,
                "dstport", "4789", "dev", "eth0",
            ]);
            host.ip(&["link", "set", "vx0", "up"]);
        }
        Overlay { hosts, _router: router }
    }

    fn host(&self, index: usize) -> &Namespace {
        &self.hosts[index - 1]
    }
}

/// The MTU of `vx0` as the kernel set it.
fn mtu(ns: &Namespace) -> usize {
    let out = text(&ns.ip(&["-o", "link", "show", "vx0"]).stdout);
    let after = out.split(" mtu ").nth(1).expect("mtu");
    after.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn resolve_send_and_chat_cross_a_routed_vxlan_overlay_within_its_mtu() {
    require_root!();
    let overlay = Overlay::new();
    let (one, two) = (overlay.host(1), overlay.host(2));
    assert_eq!(mtu(one), 1450, "VXLAN over a 1500-byte IPv4 path leaves 1450");
    // The overlay really crosses the router: the hosts' subnets differ.
    let ping = one.run("ping", &["-c", "1", "-W", "2", "198.18.2.2"]);
    assert!(ping.status.success(), "routed underlay: {}", text(&ping.stdout));

    let scratch = Scratch::new("overlay");
    let mut frames = support::Tcpdump::start_on(two, "vx0", scratch.path("vx0.pcap"), "");
    // tcpdump on the underlay counts IP fragments: there must be none.
    let mut fragments = two.spawn(
        "tcpdump",
        &["--immediate-mode", "-i", "eth0", "-n", "-l", "ip[6:2] & 0x3fff != 0 or (ip and ip[2:2] > 1500)"],
    );
    assert!(fragments.wait_for_stderr("listening on eth0", WAIT), "{}", fragments.stderr());

    let inbox = Scratch::new("overlay-inbox");
    let mut receiver = two.spawn_whohas(&["receive", "-i", "vx0", "-n", "far", "--dir", inbox.0.to_str().unwrap()]);
    assert!(receiver.wait_for_stdout("far answering on vx0", WAIT), "{}", receiver.stderr());
    let resolved = one.whohas(&["resolve", "-i", "vx0", "-n", "near", "far"]);
    assert!(resolved.status.success(), "{}", text(&resolved.stderr));
    assert_eq!(text(&resolved.stdout).trim(), "far is at 02:00:00:00:0f:02");

    let file = support::random_file(&scratch.path("across.bin"), 3 << 20);
    let sent = one.whohas(&["send", "-i", "vx0", "-n", "near", "far", "--file", file.to_str().unwrap()]);
    assert!(sent.status.success(), "{}{}", text(&sent.stdout), text(&sent.stderr));
    assert!(receiver.wait_for_stdout("received across.bin from near", WAIT), "{}", receiver.stdout());
    assert_eq!(std::fs::read(inbox.path("across.bin")).unwrap(), std::fs::read(&file).unwrap());
    receiver.terminate();

    let mut alice = start_chat(one, "alice");
    let mut bob = start_chat(two, "bob");
    assert!(alice.wait_for_stdout("bob joined", WAIT), "{:?}", alice.stdout_lines);
    alice.type_line("@chat bob hello across the router");
    assert!(bob.wait_for_stdout("hello across the router", WAIT), "{:?}", bob.stdout_lines);
    assert!(alice.wait_for_stdout("[delivered", WAIT), "{:?}", alice.stdout_lines);
    alice.type_line("@exit");
    bob.type_line("@exit");
    alice.wait(WAIT);
    bob.wait(WAIT);

    fragments.terminate();
    let fragmented: Vec<&String> = fragments.stdout_lines.iter().filter(|line| !line.trim().is_empty()).collect();
    assert!(fragmented.is_empty(), "the underlay fragmented: {fragmented:?}");
    // Every frame on the overlay, both ways, fits its MTU.
    frames.barrier(one);
    let captured = support::capture_frames(&frames.stop());
    assert!(captured.len() > 2000, "the file crossed: {} frames", captured.len());
    let longest = captured.iter().map(Vec::len).max().unwrap();
    assert!(longest <= 1450 + 14, "a {longest}-byte frame on a 1450-byte MTU");
    assert!(longest > 1400, "segments fill the MTU: {longest}");
}

/// `whohas chat` on `vx0` with short timers.
fn start_chat(ns: &Namespace, name: &str) -> support::Process {
    let args = ["chat", "-i", "vx0", "-n", name, "--keepalive", "1", "--expiry", "3"];
    let mut chat = ns.spawn_whohas_typing(&args);
    assert!(chat.wait_for_stdout(&format!("you are {name}"), WAIT), "{name}: {}", chat.stderr());
    chat
}
