//! IPv6 neighbour discovery against kernel hosts on an IPv6-only bridge (no
//! IPv4 anywhere, duplicate address detection off): `whohas resolve --ipv6`
//! checked against the kernel's own view of its MACs and against ndisc6,
//! with its frames read by tshark.

mod support;

use std::time::Duration;

use support::{Lan, Scratch, Tcpdump, poll_until, require_root, text};

/// The MAC address and the IPv6 addresses the kernel reports for `eth0`.
fn kernel_view(host: &support::Host) -> (String, Vec<String>) {
    let link = text(&host.ns.ip(&["-o", "link", "show", "eth0"]).stdout);
    let mac = link.split_whitespace().skip_while(|word| *word != "link/ether").nth(1).expect("link/ether");
    let addresses = text(&host.ns.ip(&["-o", "-6", "addr", "show", "dev", "eth0"]).stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().skip_while(|word| *word != "inet6").nth(1))
        .map(|cidr| cidr.split('/').next().unwrap().to_owned())
        .collect();
    (mac.to_owned(), addresses)
}

fn ipv6_only_lan(count: usize) -> Lan {
    let lan = Lan::bridged(count);
    lan.add_ipv6();
    for host in &lan.hosts {
        let v4 = text(&host.ns.ip(&["-o", "-4", "addr", "show", "dev", "eth0"]).stdout);
        assert!(v4.trim().is_empty(), "no IPv4 on the test LAN: {v4}");
    }
    lan
}

#[test]
fn resolve_ipv6_finds_each_kernel_host_by_global_and_link_local_address_as_ndisc6_does() {
    require_root!();
    let lan = ipv6_only_lan(4);
    let asker = &lan.host(1).ns;
    let scratch = Scratch::new("ipv6-resolve");
    let mut capture = Tcpdump::start(asker, scratch.path("ndp.pcap"), "");
    for host in &lan.hosts[1..] {
        let (mac, addresses) = kernel_view(host);
        assert_eq!(addresses.len(), 2, "a global and a link-local address: {addresses:?}");
        for address in &addresses {
            let out = asker.whohas(&["resolve", "-i", "eth0", "--ipv6", address]);
            assert_eq!(out.status.code(), Some(0), "{address}: {}", text(&out.stderr));
            assert_eq!(text(&out.stdout).trim(), format!("{address} is at {mac}"));
            let ndisc6 = asker.run("ndisc6", &["-1", "-q", address, "eth0"]);
            assert_eq!(text(&ndisc6.stdout).trim().to_lowercase(), mac, "ndisc6 {address}");
        }
    }
    capture.barrier(&lan.host(2).ns);
    let path = capture.stop();
    // whohas's solicitations and the kernels' advertisements, as tshark reads them.
    support::assert_decode_matches_tshark(&path, &[], &[]);
    let summary = text(&asker.run("tshark", &["-r", path.to_str().unwrap()]).stdout);
    assert!(summary.contains("Neighbor Solicitation for 2001:db8::2 from 02:00:00:00:00:01"), "{summary}");
    assert!(!summary.contains("Malformed") && !summary.contains("[incorrect"), "{summary}");
}

#[test]
fn resolve_ipv6_reports_a_duplicate_and_a_silent_address() {
    require_root!();
    let lan = ipv6_only_lan(4);
    for index in [3, 4] {
        let ns = &lan.host(index).ns;
        ns.ip(&["-6", "addr", "add", "2001:db8::99/64", "dev", "eth0", "nodad"]);
        // The kernel joins the address's solicited-node group in a work
        // item of its own, even with nodad: on a busy machine, a
        // solicitation sent before that goes unanswered.
        let joined = || text(&ns.ip(&["-6", "maddr", "show", "dev", "eth0"]).stdout).contains("ff02::1:ff00:99");
        assert!(poll_until(Duration::from_secs(5), joined), "h{index} never joined ff02::1:ff00:99");
    }
    let asker = &lan.host(1).ns;
    let out = asker.whohas(&["resolve", "-i", "eth0", "--ipv6", "2001:db8::99", "--linger-ms", "1000"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    let (first, other) = if lines[0].ends_with("02:00:00:00:00:03") { ("03", "04") } else { ("04", "03") };
    assert_eq!(
        lines,
        [
            format!("2001:db8::99 is at 02:00:00:00:00:{first}"),
            format!(
                "2001:db8::99 is also at 02:00:00:00:00:{other} (DUP: keeping the first answer, 02:00:00:00:00:{first})"
            )
        ]
    );

    let started = std::time::Instant::now();
    let silent =
        asker.whohas(&["resolve", "-i", "eth0", "--ipv6", "2001:db8::77", "--attempts", "2", "--interval-ms", "200"]);
    assert_eq!(silent.status.code(), Some(1));
    assert_eq!(
        text(&silent.stderr).trim(),
        "whohas: no answer from 2001:db8::77 on eth0 after 2 requests 200 ms apart: is it running on the same \
         Ethernet segment?"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let bad = asker.whohas(&["resolve", "-i", "eth0", "--ipv6", "VM2"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(text(&bad.stderr).trim(), "whohas: \"VM2\" is not an IPv6 address (like 2001:db8::2 or fe80::1)");
}

/// `(address, mac)` rows of a `scan --csv`, in its order.
fn csv_rows(stdout: &[u8]) -> Vec<(String, String)> {
    text(stdout)
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields[0].to_owned(), fields[1].to_owned())
        })
        .collect()
}

#[test]
fn scan_ipv6_finds_every_address_of_every_host_grouped_by_mac_as_the_kernel_knows_them() {
    require_root!();
    let lan = ipv6_only_lan(6);
    // A host with a second address in the prefix (it answers an echo from
    // one of them only: the other is found from its MLD report) and one in
    // a second prefix, which the scanning host has too: one row per address.
    for address in ["2001:db8::66/64", "2001:db8:1::66/64"] {
        lan.host(6).ns.ip(&["-6", "addr", "add", address, "dev", "eth0", "nodad"]);
    }
    let scanner = &lan.host(1).ns;
    scanner.ip(&["-6", "addr", "add", "2001:db8:1::1/64", "dev", "eth0", "nodad"]);
    let scratch = Scratch::new("ipv6-scan");
    let mut capture = Tcpdump::start(scanner, scratch.path("scan.pcap"), "");
    let out = scanner.whohas(&["scan", "-i", "eth0", "--ipv6", "--pps", "5000", "--csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    capture.barrier(&lan.host(2).ns);
    // The scan's echoes, solicitations and the hosts' answers as tshark reads them.
    support::assert_decode_matches_tshark(&capture.stop(), &[], &[]);
    let rows = csv_rows(&out.stdout);
    // Grouped by MAC, the link-local address first.
    let mut expected = Vec::new();
    for host in &lan.hosts[1..] {
        let (mac, mut addresses) = kernel_view(host);
        addresses.sort_by_key(|a| (!a.starts_with("fe80:"), a.parse::<std::net::Ipv6Addr>().unwrap()));
        expected.extend(addresses.into_iter().map(|address| (address, mac.clone())));
    }
    assert_eq!(rows, expected);
    let summary = text(&out.stderr);
    assert!(
        summary.starts_with("12 addresses of 5 hosts found on eth0 (IPv6, asked from fe80::ff:fe00:1, "),
        "{summary}"
    );
    assert!(summary.contains(" 2001:db8::1") && summary.contains(" 2001:db8:1::1"), "{summary}");

    // A kernel host's own neighbour table, filled by pinging all nodes,
    // agrees with every link-local row.
    let kernel = &lan.host(2).ns;
    let ping = kernel.run("ping", &["-6", "-c", "2", "-i", "0.2", "ff02::1%eth0"]);
    assert!(ping.status.success(), "{}", text(&ping.stderr));
    let neighbours = text(&kernel.ip(&["-6", "neigh", "show", "dev", "eth0"]).stdout);
    let mut checked = 0;
    for line in neighbours.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(mac) = words.iter().position(|w| *w == "lladdr").map(|i| words[i + 1]) else { continue };
        if let Some((_, ours)) = rows.iter().find(|(address, _)| address == words[0]) {
            assert_eq!(ours, mac, "{line}");
            checked += 1;
        }
    }
    assert!(checked >= 4, "the kernel knew {checked} of our rows: {neighbours}");

    // JSON: one `host` line per address, as docs/JSON.md describes it.
    let json = scanner.whohas(&["scan", "-i", "eth0", "--ipv6", "--pps", "5000", "--json"]);
    let events = support::json::Described::load().check_all(&text(&json.stdout));
    assert_eq!(events, vec!["host"; 12]);
}

#[test]
fn scan_ipv6_of_a_prefix_asks_from_an_address_in_it_instead_of_sweeping() {
    require_root!();
    let lan = ipv6_only_lan(4);
    let scanner = &lan.host(1).ns;
    // The scanning host has no address in the prefix: whohas takes the one
    // SLAAC would give it, and answers the hosts' solicitations for it.
    scanner.ip(&["-6", "addr", "del", "2001:db8::1/64", "dev", "eth0"]);
    let out = scanner.whohas(&["scan", "-i", "eth0", "--ipv6", "2001:db8::/64", "--pps", "5000", "--csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "2001:db8::/64 is not swept (2^64 or more addresses): asking ff02::1 from 2001:db8::ff:fe00:1, which its \
             hosts answer from their address in it"
        ),
        "{stderr}"
    );
    let rows = csv_rows(&out.stdout);
    for host in &lan.hosts[1..] {
        let (mac, addresses) = kernel_view(host);
        for address in addresses {
            assert!(rows.contains(&(address.clone(), mac.clone())), "{address} at {mac} missing: {rows:?}");
        }
    }
    assert_eq!(rows.len(), 6);

    let wrong = scanner.whohas(&["scan", "-i", "eth0", "--ipv6", "198.18.0.0/24"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert_eq!(text(&wrong.stderr).trim(), "whohas: --ipv6 takes an IPv6 prefix like 2001:db8::/64, not an IPv4 range");
}

#[test]
fn scan_all_lists_both_families() {
    require_root!();
    let lan = Lan::bridged(3);
    lan.add_ipv4();
    lan.add_ipv6();
    let out = lan.host(1).ns.whohas(&["scan", "-i", "eth0", "--all", "--pps", "5000"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    let starts: Vec<&str> = lines.iter().map(|line| line.split_whitespace().next().unwrap_or("")).collect();
    assert_eq!(
        starts,
        ["IP", "198.18.0.2", "198.18.0.3", "IP", "fe80::ff:fe00:2", "2001:db8::2", "fe80::ff:fe00:3", "2001:db8::3"],
        "{lines:#?}"
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("2 hosts found in 198.18.0.1-198.18.0.254") && stderr.contains("4 addresses of 2 hosts"));
}
