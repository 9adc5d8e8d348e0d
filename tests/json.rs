//! `--json` against `docs/JSON.md`: every report the program can print is
//! described there, and every line the streaming subcommands print on a
//! real segment (`respond`, `receive`, `resolve`, `send`, `scan`, `chat`,
//! `pingpong`) names a described event and has exactly its keys and types.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::json::Described;
use support::{Lan, Scratch, random_file, require_root, text};
use whohas::cli::report::Report;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn every_report_is_described_and_every_description_is_a_report() {
    let described = Described::load();
    let mut reported = BTreeSet::new();
    for report in Report::examples() {
        let line = report.to_json();
        reported.insert(described.check(&line).unwrap_or_else(|wrong| panic!("{wrong}")));
    }
    let documented: BTreeSet<String> = described.events().cloned().collect();
    assert_eq!(documented, reported, "docs/JSON.md and Report::examples() name the same events");
}

#[test]
fn streaming_subcommands_print_only_described_events() {
    require_root!();
    let described = Described::load();
    let lan = Lan::bridged(4);
    lan.add_ipv4();
    let scratch = Scratch::new("json");
    let (inbox, chat_inbox) = (scratch.path("inbox"), scratch.path("chat-inbox"));
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::create_dir_all(&chat_inbox).unwrap();
    let file = random_file(&scratch.path("notes.bin"), 100_000);

    // Host 2 receives (and echoes pings), host 3 answers data frames, host
    // 3 and 4 chat.
    let inbox_arg = inbox.to_str().unwrap();
    let mut receiver = lan.host(2).ns.spawn_whohas(&["receive", "-i", "eth0", "-n", "B", "--dir", inbox_arg, "--json"]);
    let mut echo = lan.host(2).ns.spawn_whohas(&["pingpong", "-i", "eth0", "echo", "--json"]);
    let mut responder = lan.host(3).ns.spawn_whohas(&["respond", "-i", "eth0", "-n", "C", "--reply", "hi", "--json"]);
    for process in [&mut receiver, &mut echo, &mut responder] {
        assert!(process.wait_for_stdout("\"event\":\"listening\"", WAIT), "{}", process.stderr());
    }
    let chat_dir = chat_inbox.to_str().unwrap();
    let mut alice = support::start_chat(&lan, 3, "alice", &["--json"]);
    let mut bob = support::start_chat(&lan, 4, "bob", &["--json", "--dir", chat_dir]);

    let a = &lan.host(1).ns;
    let mut printed = Vec::new();
    for args in [
        vec!["resolve", "-i", "eth0", "-n", "A", "B", "--json"],
        vec!["send", "-i", "eth0", "-n", "A", "B", "hello B", "--json"],
        vec!["send", "-i", "eth0", "-n", "A", "B", "--file", file.to_str().unwrap(), "--json"],
        vec!["send", "-i", "eth0", "-n", "A", "C", "--datagram", "hello C", "--wait", "2", "--json"],
        vec!["scan", "-i", "eth0", "--pps", "5000", "--json"],
        vec!["pingpong", "-i", "eth0", "ping", "--count", "20", "--json"],
    ] {
        let out = a.whohas(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        printed.push((args[0], text(&out.stdout)));
    }

    alice.type_line("@chat bob hello bob");
    alice.type_line(&format!("@send bob {}", file.display()));
    assert!(alice.wait_for_stdout("\"file\":", WAIT), "{:?}", alice.stdout_lines);
    assert!(bob.wait_for_stdout("\"event\":\"file\"", WAIT), "{:?}", bob.stdout_lines);
    alice.type_line("@show_list");
    assert!(alice.wait_for_stdout("\"event\":\"list\"", WAIT), "{:?}", alice.stdout_lines);
    bob.type_line("@exit");
    assert!(bob.wait(WAIT).expect("bob exits").success());
    assert!(alice.wait_for_stdout("\"event\":\"left\"", WAIT), "{:?}", alice.stdout_lines);
    for process in [&mut alice, &mut receiver, &mut echo, &mut responder] {
        assert_eq!(process.terminate().code(), Some(0), "{}", process.stderr());
    }
    printed.extend([
        ("receive", receiver.stdout()),
        ("pingpong echo", echo.stdout()),
        ("respond", responder.stdout()),
        ("chat alice", alice.stdout()),
        ("chat bob", bob.stdout()),
    ]);
    let mut seen = BTreeSet::new();
    for (command, output) in &printed {
        assert!(!output.trim().is_empty(), "{command} printed nothing");
        seen.extend(described.check_all(output));
    }
    for event in ["listening", "joining", "claimed", "joined", "left", "goodbye", "resolved", "message", "file"] {
        assert!(seen.contains(event), "no {event} event in {printed:#?}");
    }
    for event in ["delivered", "sent", "answer", "replied", "host", "data", "stats", "rtt", "echoed", "list"] {
        assert!(seen.contains(event), "no {event} event in {printed:#?}");
    }
    // The same event has the same keys wherever it is printed.
    let message_keys = |output: &str| -> Vec<Vec<String>> {
        output
            .lines()
            .filter(|line| line.contains("\"event\":\"message\""))
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                value.as_object().unwrap().keys().cloned().collect()
            })
            .collect()
    };
    let (received, chatted) = (message_keys(&receiver.stdout()), message_keys(&bob.stdout()));
    assert!(!received.is_empty() && !chatted.is_empty(), "both printed a message");
    assert_eq!(received[0], chatted[0], "receive and chat print a message with the same keys");
}
