//! IPv6 neighbour discovery against kernel hosts on an IPv6-only bridge (no
//! IPv4 anywhere, duplicate address detection off): `whohas resolve --ipv6`
//! checked against the kernel's own view of its MACs and against ndisc6,
//! with its frames read by tshark.

mod support;

use std::time::Duration;

use support::{Lan, Scratch, Tcpdump, require_root, text};

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
        lan.host(index).ns.ip(&["-6", "addr", "add", "2001:db8::99/64", "dev", "eth0", "nodad"]);
    }
    let asker = &lan.host(1).ns;
    let out = asker.whohas(&["resolve", "-i", "eth0", "--ipv6", "2001:db8::99", "--linger-ms", "300"]);
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
