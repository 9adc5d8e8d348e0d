//! `whohas chat` in network namespaces, driven through stdin as a script
//! would: stations see each other join, chat with delivered marks, list the
//! room, refuse a taken name, notice a crash and a goodbye (root only).

mod support;

use std::time::Duration;

use support::{Lan, require_root};

const WAIT: Duration = Duration::from_secs(10);

fn chat(lan: &Lan, host: usize, name: &str) -> support::Process {
    let args = ["chat", "-i", "eth0", "-n", name, "--keepalive", "1", "--expiry", "3"];
    let mut chat = lan.host(host).ns.spawn_whohas_typing(&args);
    assert!(chat.wait_for_stdout(&format!("you are {name}"), WAIT), "{name} did not start: {}", chat.stderr());
    chat
}

#[test]
fn a_room_of_three_chats_lists_and_notices_who_leaves() {
    require_root!();
    let lan = Lan::bridged(4);
    let mut alice = chat(&lan, 1, "alice");
    let mut bob = chat(&lan, 2, "bob");
    assert!(alice.wait_for_stdout("bob joined", WAIT), "{:?}", alice.stdout_lines);
    assert!(bob.has_or_waits_for_stdout("alice joined", WAIT), "bob learns who was there: {:?}", bob.stdout_lines);

    alice.type_line("@chat bob hi bob \u{1b}]0;pwned\u{7}!");
    assert!(bob.wait_for_stdout("alice: hi bob \\x1b]0;pwned\\x07!", WAIT), "escaped: {:?}", bob.stdout_lines);
    assert!(alice.wait_for_stdout("[delivered to bob]", WAIT), "{:?}", alice.stdout_lines);

    alice.type_line("@chat nobody are you there?");
    assert!(alice.wait_for_stdout("[NOT delivered to nobody", Duration::from_secs(20)), "{:?}", alice.stdout_lines);

    // A third station wanting a name already taken gives up, and says why.
    let mut impostor = lan.host(3).ns.spawn_whohas_typing(&["chat", "-i", "eth0", "-n", "alice"]);
    let status = impostor.wait(WAIT).expect("the impostor gives up");
    let stderr = impostor.stderr();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("the name alice is taken by {}", lan.host(1).mac_string())), "{stderr}");
    assert!(!alice.has_or_waits_for_stdout("DUP", Duration::from_millis(500)), "a probe is not a conflict");

    let carol = chat(&lan, 4, "carol");
    assert!(alice.wait_for_stdout("carol joined", WAIT));
    alice.type_line("@show_list");
    assert!(alice.wait_for_stdout("2 stations", WAIT), "bob and carol, not the impostor: {:?}", alice.stdout_lines);
    let table: Vec<&String> = alice.stdout_lines.iter().filter(|l| l.contains("present")).collect();
    assert!(table.iter().any(|l| l.starts_with("bob ") && l.contains(&lan.host(2).mac_string())), "{table:?}");
    assert!(table.iter().any(|l| l.starts_with("carol ")), "{table:?}");

    bob.type_line("@exit");
    assert!(alice.wait_for_stdout("bob left", WAIT), "{:?}", alice.stdout_lines);
    assert!(bob.wait(WAIT).expect("bob exits").success());
    assert!(bob.stdout_lines.iter().any(|l| l.contains("said goodbye")) || bob.wait_for_stdout("said goodbye", WAIT));

    // A crash: no goodbye; gone after the expiry (3 s).
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(carol.pid() as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
    assert!(alice.wait_for_stdout("carol disappeared", Duration::from_secs(8)), "{:?}", alice.stdout_lines);

    // SIGTERM: a goodbye too, and status 0.
    assert_eq!(alice.terminate().code(), Some(0));
}
