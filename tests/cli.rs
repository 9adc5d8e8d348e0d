//! The `whohas` program without a network: every subcommand explains itself,
//! usage and file errors are one line with the documented exit status, the
//! man pages are in sync, and the examples run.

mod support;

use std::process::{Command, Output};

use support::{Scratch, example, repo, text, whohas};

const SUBCOMMANDS: [&str; 16] = [
    "interfaces",
    "respond",
    "resolve",
    "send",
    "receive",
    "chat",
    "scan",
    "replay",
    "inject",
    "decode",
    "pingpong",
    "keygen",
    "rotate",
    "synth",
    "completions",
    "manpage",
];

fn run(args: &[&str]) -> Output {
    Command::new(whohas()).args(args).output().expect("run whohas")
}

/// Asserts a one-line error on stderr (after `whohas: `) and an exit status.
fn assert_fails(args: &[&str], status: i32, message: &str) {
    let out = run(args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(status), "whohas {args:?}: {stderr}");
    assert_eq!(stderr.lines().collect::<Vec<_>>(), [format!("whohas: {message}")], "whohas {args:?}");
}

#[test]
fn every_subcommand_explains_its_usage_and_the_exit_statuses() {
    let top = run(&["--help"]);
    assert!(top.status.success());
    let help = text(&top.stdout);
    for sub in SUBCOMMANDS {
        assert!(help.contains(&format!("  {sub} ")), "{sub} is listed: {help}");
        let out = run(&[sub, "--help"]);
        assert!(out.status.success(), "{sub} --help: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Usage: whohas"), "{sub} --help");
    }
    for status in ["0    success", "1    nothing found", "2    usage or environment error", "130  interrupted"] {
        assert!(help.contains(status), "exit status {status:?} documented: {help}");
    }
    for sub in ["echo", "ping"] {
        assert!(run(&["pingpong", sub, "--help"]).status.success());
    }
}

#[test]
fn usage_errors_exit_2_with_clap_s_message() {
    for (args, expected) in [
        (&["respond", "-n", &"x".repeat(65)][..], "a name is 65 bytes long but names are limited to 64 bytes"),
        (&["respond", "-n", ""], "a name must have at least one byte"),
        (&["resolve", "-n", "a", ""], "a name must have at least one byte"),
        (&["scan", "198.18.0.0/33"], "expected an IPv4 range like 198.18.0.0/24, or a single address"),
        (&["scan", "nonsense"], "expected an IPv4 range like 198.18.0.0/24, or a single address"),
        (&["resolve", "-n", "a"], "the following required arguments were not provided"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(expected), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn bad_option_values_are_one_line_errors() {
    assert_fails(
        &["respond", "-n", "VM2", "--reply", "oops\\q"],
        2,
        "\"oops\\\\q\": unknown escape \\q; use \\n, \\r, \\t, \\0, \\\\ or \\xNN",
    );
    assert_fails(
        &["inject", "--pps", "0", &repo("tests/captures/seed004-arp.pcap").display().to_string()],
        2,
        "--multiplier, --pps and --mbps need a positive number",
    );
}

#[test]
fn bad_captures_get_one_line_errors() {
    let scratch = Scratch::new("bad");
    let good = std::fs::read(repo("tests/captures/seed000-vm1-vm2.pcap")).unwrap();
    let truncated = scratch.path("truncated.pcap");
    std::fs::write(&truncated, &good[..100]).unwrap();
    let raw_ip = scratch.path("rawip.pcap");
    let mut bytes = good.clone();
    bytes[20..24].copy_from_slice(&101u32.to_le_bytes()); // LINKTYPE_RAW
    std::fs::write(&raw_ip, bytes).unwrap();
    let text_file = repo("README.md");
    let missing = scratch.path("missing.pcap");
    let directory = scratch.path("");

    let cases: [(&std::path::Path, String); 5] = [
        (
            &truncated,
            format!("{} is truncated: it ends inside a frame record after 1 whole frames", truncated.display()),
        ),
        (&raw_ip, format!("{} has link type RAW; whohas needs Ethernet (EN10MB)", raw_ip.display())),
        (
            &text_file,
            format!(
                "{} is not a capture libpcap can read (unknown file format); give a pcap or pcapng file",
                text_file.display()
            ),
        ),
        (&missing, format!("{}: no such file; check the path", missing.display())),
        (&directory, format!("{} is a directory; give a capture file", directory.display())),
    ];
    let output = scratch.path("out.pcap");
    for (input, message) in &cases {
        let input = input.to_str().unwrap();
        for args in [
            vec!["decode", input],
            vec!["replay", input, "-n", "VM2", "--mac", "02:00:00:00:00:02", "-o", output.to_str().unwrap(), "-q"],
            vec!["inject", "-i", "lo", input],
        ] {
            assert_fails(&args, 2, message);
        }
    }
}

#[test]
fn unwritable_outputs_are_one_line_errors() {
    let input = repo("tests/captures/seed000-vm1-vm2.pcap");
    let nowhere = "/nonexistent-dir/out.pcap";
    let reason = "No such file or directory (os error 2)";
    assert_fails(
        &["replay", input.to_str().unwrap(), "-n", "VM2", "-o", nowhere],
        2,
        &format!("cannot write {nowhere}: {reason}"),
    );
    assert_fails(&["synth", "-o", nowhere], 2, &format!("cannot write {nowhere}: {reason}"));
    assert_fails(
        &["manpage", "--dir", "/nonexistent-dir"],
        2,
        &format!("cannot write /nonexistent-dir/whohas-interfaces.1: {reason}"),
    );
}

#[test]
fn the_man_pages_in_the_repository_are_in_sync() {
    let scratch = Scratch::new("man");
    let out = run(&["manpage", "--dir", scratch.0.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let checked_in = repo("docs/man");
    let mut generated: Vec<String> =
        std::fs::read_dir(&scratch.0).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    generated.sort();
    assert_eq!(generated.len(), SUBCOMMANDS.len() + 1, "{generated:?}");
    for name in &generated {
        let ours = std::fs::read(scratch.path(name)).unwrap();
        let theirs = std::fs::read(checked_in.join(name)).unwrap_or_default();
        assert!(ours == theirs, "docs/man/{name} is stale: run `cargo run -- manpage --dir docs/man`");
    }
    // Nor is any page left over from a subcommand that is gone.
    let mut checked_in: Vec<String> = std::fs::read_dir(&checked_in)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    checked_in.sort();
    assert_eq!(checked_in, generated, "docs/man holds pages of no subcommand: remove them");
    let page = std::fs::read_to_string(scratch.path("whohas.1")).unwrap();
    assert!(page.contains("130") && page.contains("usage or environment error"), "exit statuses in the man page");
}

#[test]
fn completions_are_generated_for_the_usual_shells() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        assert!(text(&out.stdout).contains("respond"), "{shell} completes subcommands");
    }
}

#[test]
fn synth_replay_and_decode_work_together_without_a_network() {
    let scratch = Scratch::new("offline");
    let capture = scratch.path("seed.pcap");
    let out = run(&["synth", "-o", capture.to_str().unwrap(), "--frames", "6", "--kind", "seed"]);
    assert_eq!(text(&out.stdout).trim(), format!("wrote 6 frames to {}", capture.display()));
    let answers = scratch.path("answers.pcap");
    let out = run(&["replay", capture.to_str().unwrap(), "-n", "VM2", "-o", answers.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(events.iter().filter(|e| e["event"] == "data").count(), 4);
    assert_eq!(events.last().unwrap()["frames_out"], 6);
    let decoded = run(&["decode", answers.to_str().unwrap(), "--json"]);
    let lines: Vec<serde_json::Value> =
        text(&decoded.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[1]["info"], "Message (18 bytes): Nice to meet you!\\x0a");
}

#[test]
fn a_closed_stdout_ends_decode_quietly() {
    let mut child = Command::new(whohas())
        .args(["decode", repo("tests/captures/seed004-arp.pcap").to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn demo_shows_the_seed_conversation_with_one_request() {
    let output = Command::new(example("demo")).output().expect("run demo");
    assert!(output.status.success());
    let out = String::from_utf8(output.stdout).unwrap();
    for line in [
        "name-ARP who has \"VM2\"?",
        "name-ARP \"VM2\" is at 02:00:00:00:00:02",
        "[VM2] received from 02:00:00:00:00:01: Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!",
        "[VM1] received from VM2 (02:00:00:00:00:02): Nice to meet you!",
        "[VM2] received from 02:00:00:00:00:01: I'm Glad to meet you again.",
        "6 frames crossed the segment, 1 of them a name-ARP request.",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn every_example_explains_its_usage() {
    for name in ["demo", "vm1", "vm2"] {
        let output = Command::new(example(name)).arg("--help").output().expect("run example");
        assert!(output.status.success(), "{name} --help: {}", text(&output.stderr));
        assert!(text(&output.stdout).contains("Usage:"), "{name} --help");
    }
}

#[test]
fn cargo_install_yields_the_whohas_program() {
    if std::env::var_os("WHOHAS_SKIP_INSTALL_TEST").is_some() {
        support::skip("WHOHAS_SKIP_INSTALL_TEST is set");
        return;
    }
    let scratch = Scratch::new("install");
    let out = Command::new(env!("CARGO"))
        .args(["install", "--quiet", "--offline", "--debug", "--path"])
        .arg(repo(""))
        .arg("--root")
        .arg(&scratch.0)
        .env("CARGO_TARGET_DIR", repo("target/install-test"))
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo install: {}", text(&out.stderr));
    let installed = scratch.path("bin/whohas");
    let version = Command::new(&installed).arg("--version").output().unwrap();
    assert_eq!(text(&version.stdout).trim(), format!("whohas {}", env!("CARGO_PKG_VERSION")));
}

/// `whohas rotate` on a key file: add, promote, retire, each step in its
/// turn (another is a one-line error that says what to do), the file kept
/// private and rewritten whole.
#[test]
fn rotate_adds_promotes_and_retires_a_key_in_that_order() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = support::Scratch::new("rotate-cli");
    let key = scratch.path("k");
    let path = key.to_str().unwrap();
    assert!(run(&["keygen", path]).status.success());
    let first = std::fs::read(&key).unwrap();
    assert_fails(
        &["rotate", "promote", path],
        2,
        &format!("{path} holds one key (no rotation under way): start one with whohas rotate add {path}"),
    );
    let added = run(&["--json", "rotate", "add", path]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let after_add = std::fs::read(&key).unwrap();
    assert_eq!((after_add.len(), &after_add[..32]), (64, &first[..]), "the old key still signs");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let event: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    assert_eq!(event["change"], "added");
    assert_fails(
        &["rotate", "add", path],
        2,
        &format!("{path} holds two keys already (a rotation is under way): promote or retire first"),
    );
    assert!(run(&["rotate", "promote", path]).status.success());
    let after_promote = std::fs::read(&key).unwrap();
    assert_eq!((&after_promote[..32], &after_promote[32..]), (&after_add[32..], &after_add[..32]), "swapped");
    let retired = run(&["rotate", "retire", path]);
    assert!(retired.status.success());
    assert_eq!(std::fs::read(&key).unwrap(), &after_add[32..], "only the new key is left");
    let said = text(&retired.stdout);
    assert!(
        said.starts_with(&format!("keys retired: {path} signs with ")) && said.ends_with(" and accepts no other key\n"),
        "{said}"
    );
    assert_fails(
        &["rotate", "retire", path],
        2,
        &format!("{path} holds one key (no rotation under way): start one with whohas rotate add {path}"),
    );
}

#[test]
fn keygen_writes_a_private_key_once_and_bad_key_files_are_one_line_errors() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = support::Scratch::new("keygen");
    let key = scratch.path("k");
    let out = run(&["keygen", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let meta = std::fs::metadata(&key).unwrap();
    assert_eq!((meta.len(), meta.permissions().mode() & 0o777), (32, 0o600));
    let first = std::fs::read(&key).unwrap();
    let out = run(&["keygen", key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("exists and was not overwritten"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&key).unwrap(), first, "the key is untouched");

    let short = scratch.path("short");
    std::fs::write(&short, [1u8; 31]).unwrap();
    std::fs::set_permissions(&short, std::fs::Permissions::from_mode(0o600)).unwrap();
    let open = scratch.path("open");
    std::fs::write(&open, [1u8; 32]).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    let twice = scratch.path("twice");
    std::fs::write(&twice, [1u8; 64]).unwrap();
    std::fs::set_permissions(&twice, std::fs::Permissions::from_mode(0o600)).unwrap();
    for (path, says) in [
        (&short, "is not a key file (31 bytes; one key is 32, two are 64)"),
        (&open, "can be read by others (mode 644)"),
        (&twice, "holds the same key twice"),
    ] {
        let out = run(&["resolve", "-i", "lo", "-n", "A", "B", "--key-file", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(says) && stderr.lines().count() == 1, "{stderr}");
    }
}
