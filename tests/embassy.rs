//! whohas and embassy-net on each other's drivers (`whohas-embassy`), in
//! network namespaces (root only): a whohas node on embassy-net-tuntap's
//! driver, run by an embassy task, resolves, receives and chats with the
//! Linux `whohas`; embassy-net on whohas' AF_PACKET device answers ARP,
//! ping and UDP from the kernel of another namespace.

mod support;

use std::time::Duration;

use support::{Lan, cpu_time, example, require_root, text};

const WAIT: Duration = Duration::from_secs(10);
/// embassy-net-tuntap's MAC address.
const TUNTAP_MAC: &str = "02:03:04:05:06:07";

#[test]
fn a_node_on_embassy_net_tuntap_resolves_receives_and_chats_with_linux_whohas() {
    require_root!();
    // The tap on the bridge of a one-host LAN; Linux's whohas on host 1.
    let lan = Lan::bridged(1);
    let switch = lan.switch.as_ref().expect("a bridged LAN has a switch");
    switch.ip(&["tuntap", "add", "dev", "tap0", "mode", "tap"]);
    switch.ip(&["link", "set", "tap0", "master", "br0"]);
    switch.ip(&["link", "set", "tap0", "up"]);
    let linux = &lan.host(1).ns;
    let mut board = switch.spawn(example("tuntap_station"), &["tap0", "board"]);
    assert!(board.wait_for_stdout(r#"Claimed { name: "board" }"#, WAIT), "{:?}{}", board.stdout_lines, board.stderr());

    let resolve = linux.whohas(&["resolve", "-i", "eth0", "board"]);
    assert_eq!(text(&resolve.stdout).trim(), format!("board is at {TUNTAP_MAC}"), "{}", text(&resolve.stderr));
    let send = linux.whohas(&["send", "-i", "eth0", "-n", "linux", "board", "hi \u{7}embassy"]);
    assert!(send.status.success(), "{}{}", text(&send.stdout), text(&send.stderr));
    assert!(board.has_or_waits_for_stdout(r"message from linux: hi \x07embassy", WAIT), "{:?}", board.stdout_lines);

    let mut chat =
        linux.spawn_whohas_typing(&["chat", "-i", "eth0", "-n", "alice", "--keepalive", "1", "--expiry", "3"]);
    assert!(chat.wait_for_stdout("board joined", WAIT), "{:?}{}", chat.stdout_lines, chat.stderr());
    chat.type_line("@show_list");
    assert!(chat.wait_for_stdout("1 stations", WAIT), "{:?}", chat.stdout_lines);
    assert!(
        chat.stdout_lines.iter().any(|l| l.starts_with("board ") && l.contains(TUNTAP_MAC)),
        "{:?}",
        chat.stdout_lines
    );
    chat.type_line("@chat board hello board");
    assert!(chat.wait_for_stdout("[delivered to board]", WAIT), "{:?}", chat.stdout_lines);
    assert!(chat.has_or_waits_for_stdout("board: hello from embassy", WAIT), "{:?}", chat.stdout_lines);

    // The task sleeps until the driver wakes it or a timer is due: idle
    // (keep-alives once a second), it uses next to no CPU.
    let before = cpu_time(board.pid());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_time(board.pid()) - before;
    assert!(used < Duration::from_millis(200), "{used:?} of CPU in 2 s idle: polling in a loop?");

    board.terminate();
    assert!(chat.wait_for_stdout("board disappeared", WAIT), "{:?}", chat.stdout_lines);
    assert_eq!(chat.terminate().code(), Some(0));
}

#[test]
fn embassy_net_on_a_whohas_link_device_answers_arp_ping_and_udp() {
    require_root!();
    let lan = Lan::pair();
    let (station, peer) = (lan.host(1), lan.host(2));
    peer.ns.ip(&["addr", "add", &format!("{}/24", peer.ipv4), "dev", "eth0"]);
    // The kernel leaves UDP checksums to a veth's offload, which a packet
    // socket sees unfilled: have them computed.
    let offload = peer.ns.run("ethtool", &["-K", "eth0", "tx", "off"]);
    assert!(offload.status.success(), "{}", text(&offload.stderr));
    let address = station.ipv4.to_string();
    let mut stack = station.ns.spawn(example("net_over_link"), &["eth0", &format!("{address}/24")]);
    assert!(stack.wait_for_stdout("embassy-net at", WAIT), "{}", stack.stderr());

    let arping = peer.ns.run("arping", &["-c", "3", "-I", "eth0", &address]);
    let said = text(&arping.stdout).to_lowercase();
    assert!(said.contains("received 3 response(s)"), "{said}");
    assert_eq!(said.matches(&station.mac_string()).count(), 3, "{said}");
    let ping = peer.ns.run("ping", &["-c", "5", "-i", "0.2", &address]);
    assert!(text(&ping.stdout).contains("5 packets transmitted, 5 received"), "{}", text(&ping.stdout));
    let script = format!("exec 3<>/dev/udp/{address}/7; echo 'echo me, embassy' >&3; timeout 3 head -n 1 <&3");
    let echoed = peer.ns.run("bash", &["-c", &script]);
    assert_eq!(text(&echoed.stdout).trim(), "echo me, embassy", "{}", text(&echoed.stderr));
    assert!(stack.wait_for_stdout("echoed 17 bytes to", WAIT), "{:?}", stack.stdout_lines);
    stack.terminate();
}
