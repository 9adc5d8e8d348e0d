//! The ARP scanner and responder against kernel hosts on a bridge, checked
//! with the kernel's own view (`ip link`, `ip neigh`) and iputils' arping.

mod support;

use std::time::Duration;

use support::{Lan, require_root, text};

/// The MAC address the kernel reports for `eth0` of a host.
fn kernel_mac(host: &support::Host) -> String {
    let out = host.ns.ip(&["-o", "link", "show", "eth0"]);
    let line = text(&out.stdout);
    line.split_whitespace().skip_while(|word| *word != "link/ether").nth(1).expect("link/ether").to_owned()
}

#[test]
fn scan_finds_every_live_host_with_its_mac_and_no_others() {
    require_root!();
    let lan = Lan::bridged(21);
    lan.add_ipv4();
    let scanner = &lan.host(1).ns;
    for args in [&["--pps", "5000"][..], &["--pps", "5000", "--via", "pcap"], &["--pps", "5000", "--fixed-wait"]] {
        let mut full = vec!["scan", "-i", "eth0", "198.18.0.0/24", "--csv"];
        full.extend_from_slice(args);
        let out = scanner.whohas(&full);
        assert_eq!(out.status.code(), Some(0), "scan {args:?}: {}", text(&out.stderr));
        let rows: Vec<(String, String)> = text(&out.stdout)
            .lines()
            .skip(1)
            .map(|line| {
                let fields: Vec<&str> = line.split(',').collect();
                (fields[0].to_owned(), fields[1].to_owned())
            })
            .collect();
        let expected: Vec<(String, String)> =
            lan.hosts[1..].iter().map(|host| (host.ipv4.to_string(), kernel_mac(host))).collect();
        assert_eq!(rows, expected, "scan {args:?}");
        assert!(text(&out.stderr).starts_with("20 hosts found in 198.18.0.1-198.18.0.254 (254 addresses) on eth0"));
    }
}

#[test]
fn scan_defaults_to_the_interface_subnet_and_reports_by_exit_status() {
    require_root!();
    let lan = Lan::bridged(3);
    lan.add_ipv4();
    let ns = &lan.host(1).ns;
    let table = ns.whohas(&["scan", "-i", "eth0", "--pps", "5000"]);
    assert_eq!(table.status.code(), Some(0), "{}", text(&table.stderr));
    let lines: Vec<String> = text(&table.stdout).lines().map(str::to_owned).collect();
    assert!(lines[0].starts_with("IP ") && lines[0].trim_end().ends_with("RTT"));
    assert!(lines[1].starts_with("198.18.0.2       02:00:00:00:00:02") && lines[1].ends_with(" ms"), "{lines:?}");
    assert!(lines[2].starts_with("198.18.0.3       02:00:00:00:00:03"), "{lines:?}");

    let json = ns.whohas(&["scan", "-i", "eth0", "--pps", "5000", "--json"]);
    let rows: Vec<serde_json::Value> =
        text(&json.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(rows.len(), 2, "one JSON object per line");
    assert_eq!((rows[0]["address"].as_str(), rows[0]["mac"].as_str()), (Some("198.18.0.2"), Some("02:00:00:00:00:02")));
    assert!(rows[0]["rtt_ms"].as_f64().is_some());

    let empty = ns.whohas(&["scan", "-i", "eth0", "198.18.1.0/29", "--pps", "5000"]);
    assert_eq!(empty.status.code(), Some(1), "no host: exit 1");
    assert!(text(&empty.stderr).starts_with("0 hosts found"));
    assert!(
        text(&empty.stderr).trim_end().ends_with("whohas: no host answered in 198.18.1.1-198.18.1.6"),
        "{}",
        text(&empty.stderr)
    );

    let bad = ns.whohas(&["scan", "-i", "nosuch0"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(text(&bad.stderr).trim(), "whohas: no interface named \"nosuch0\"; available: lo, eth0");
    let no_ip = lan.host(2).ns.ip(&["addr", "flush", "dev", "eth0"]);
    assert!(no_ip.status.success());
    let unnumbered = lan.host(2).ns.whohas(&["scan", "-i", "eth0"]);
    assert_eq!(
        text(&unnumbered.stderr).trim(),
        "whohas: interface eth0 has no IPv4 address; give a range like 198.18.0.0/24"
    );
}

#[test]
fn scan_flags_an_address_answered_by_two_stations() {
    require_root!();
    let lan = Lan::bridged(3);
    lan.add_ipv4();
    // Host 3 claims host 2's address as well.
    lan.host(3).ns.ip(&["addr", "add", "198.18.0.2/24", "dev", "eth0"]);
    let out = lan.host(1).ns.whohas(&["scan", "-i", "eth0", "198.18.0.2", "--pps", "1000"]);
    let table = text(&out.stdout);
    assert!(table.contains("(DUP: "), "{table}");
    assert!(text(&out.stderr).contains("1 duplicate answers"), "{}", text(&out.stderr));
}

#[test]
fn responder_is_resolved_by_arping_and_the_kernel() {
    require_root!();
    let lan = Lan::bridged(2);
    lan.add_ipv4();
    let mut responder = lan.host(2).ns.spawn_whohas(&["scan", "-i", "eth0", "--respond", "198.18.0.50"]);
    assert!(
        responder.wait_for_stdout("answering ARP for 198.18.0.50", Duration::from_secs(10)),
        "{}",
        responder.stderr()
    );
    let asker = &lan.host(1).ns;
    let arping = asker.run("arping", &["-c", "3", "-w", "5", "-I", "eth0", "198.18.0.50"]);
    let out = text(&arping.stdout);
    assert!(arping.status.success(), "{out}");
    assert!(out.contains("reply from 198.18.0.50 [02:00:00:00:00:02]"), "{out}");
    assert!(out.contains("Received 3 response(s)"), "{out}");

    // The kernel's own resolution: an IP packet to the address needs ARP.
    let _ = asker.run("ping", &["-c", "1", "-W", "1", "198.18.0.50"]);
    let neigh = text(&asker.ip(&["neigh", "show", "198.18.0.50", "dev", "eth0"]).stdout);
    assert!(neigh.starts_with("198.18.0.50 lladdr 02:00:00:00:00:02 "), "{neigh}");
    assert!(neigh.contains("REACHABLE") || neigh.contains("STALE") || neigh.contains("DELAY"), "{neigh}");
    assert!(responder.wait_for_stdout("answered who-has 198.18.0.50 from 02:00:00:00:00:01", Duration::from_secs(5)));
}

#[test]
fn a_scanning_station_answers_arp_while_it_scans() {
    require_root!();
    let lan = Lan::bridged(3);
    lan.add_ipv4();
    let scratch = support::Scratch::new("scan-respond");
    let mut requests = support::Tcpdump::start(&lan.host(3).ns, scratch.path("arp.pcap"), "arp");
    // A slow scan (about 2.5 s for the /24) that answers for 198.18.0.60 meanwhile.
    let mut scan = lan.host(1).ns.spawn_whohas(&[
        "scan",
        "-i",
        "eth0",
        "198.18.0.0/24",
        "--pps",
        "100",
        "--respond",
        "198.18.0.60",
    ]);
    // The scan is under way once its requests reach another host.
    assert!(requests.wait_for("Request who-has", Duration::from_secs(10)), "{:?}", requests.lines());
    let arping = lan.host(2).ns.run("arping", &["-c", "2", "-w", "3", "-I", "eth0", "198.18.0.60"]);
    let out = text(&arping.stdout);
    assert!(arping.status.success(), "{out}");
    assert!(out.contains("reply from 198.18.0.60 [02:00:00:00:00:01]"), "{out}");
    assert!(scan.child.try_wait().unwrap().is_none(), "the scan was still running when it answered");
    let status = scan.wait(Duration::from_secs(20)).expect("the scan ends");
    assert!(status.success(), "{}", scan.stderr());
    assert!(scan.stdout().contains("answered who-has 198.18.0.60 from 02:00:00:00:00:02"), "{}", scan.stdout());
    assert!(scan.stdout().contains("198.18.0.3       02:00:00:00:00:03"), "and found the hosts: {}", scan.stdout());
}
