//! `whohas chat` in network namespaces, driven through stdin as a script
//! would: stations see each other join, chat with delivered marks, send
//! files, list the room, refuse a taken name, notice a crash and a goodbye
//! (root only).

mod support;

use std::time::Duration;

use support::{Lan, Process, Scratch, require_root, start_chat};

const WAIT: Duration = Duration::from_secs(10);

fn chat(lan: &Lan, host: usize, name: &str) -> Process {
    start_chat(lan, host, name, &[])
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

/// Asks `station` for the room until it lists `count` stations, up to
/// `timeout`.
fn lists(station: &mut Process, count: usize, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        station.type_line("@show_list");
        if station.wait_for_stdout(" stations", Duration::from_secs(1))
            && station.stdout_lines.last().is_some_and(|line| *line == format!("{count} stations"))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn six_stations_list_each_other_chat_in_every_pair_and_send_a_file() {
    require_root!();
    let lan = Lan::bridged(7);
    let inbox = Scratch::new("chat-inbox");
    let names: Vec<String> = (1..=6).map(|i| format!("s{i}")).collect();
    let mut room: Vec<Process> = names
        .iter()
        .enumerate()
        .map(|(i, name)| match i {
            1 => start_chat(&lan, i + 1, name, &["--dir", inbox.0.to_str().unwrap()]),
            _ => chat(&lan, i + 1, name),
        })
        .collect();
    for (station, name) in room.iter_mut().zip(&names) {
        assert!(lists(station, 5, WAIT), "{name} lists the five others: {:?}", station.stdout_lines);
    }

    for (i, from) in names.iter().enumerate() {
        for to in names.iter().filter(|to| *to != from) {
            room[i].type_line(&format!("@chat {to} hello {to}, this is {from}"));
        }
    }
    for (j, to) in names.iter().enumerate() {
        for from in names.iter().filter(|from| *from != to) {
            let line = format!("{from}: hello {to}, this is {from}");
            assert!(room[j].has_or_waits_for_stdout(&line, WAIT), "{line}: {:?}", room[j].stdout_lines);
        }
    }
    for (i, from) in names.iter().enumerate() {
        for to in names.iter().filter(|to| *to != from) {
            let mark = format!("[delivered to {to}]");
            assert!(room[i].has_or_waits_for_stdout(&mark, WAIT), "{from}: {mark}: {:?}", room[i].stdout_lines);
        }
    }

    // A file: verified at both ends; refused by a station without --dir.
    let outbox = Scratch::new("chat-outbox");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(outbox.path("notes.bin"), &content).unwrap();
    let path = outbox.path("notes.bin");
    room[0].type_line(&format!("@send s2 {}", path.display()));
    assert!(room[0].wait_for_stdout("[delivered ", WAIT), "{:?}", room[0].stdout_lines);
    let mark = room[0].stdout_lines.last().unwrap().clone();
    assert!(mark.contains("notes.bin to s2: 300000 bytes, sha256 verified"), "{mark}");
    assert!(room[1].has_or_waits_for_stdout("[received notes.bin from s1: 300000 bytes", WAIT));
    assert_eq!(std::fs::read(inbox.path("notes.bin")).unwrap(), content);
    room[0].type_line(&format!("@send s3 {}", path.display()));
    assert!(room[0].wait_for_stdout("[NOT delivered ", WAIT), "{:?}", room[0].stdout_lines);
    // The mark says why once, on one line.
    let mark = room[0].stdout_lines.last().unwrap();
    assert!(mark.starts_with("[NOT delivered ") && mark.ends_with(" to s3: refused by the receiver]"), "{mark}");
    let refused = format!("refused a file from s1 ({}): start chat with --dir", lan.host(1).mac_string());
    assert!(room[2].has_or_waits_for_stdout(&refused, WAIT), "{:?}", room[2].stdout_lines);
    room[0].type_line("@send s2 /nonexistent/file");
    assert!(room[0].wait_for_stdout("cannot send: cannot read /nonexistent/file", WAIT));

    // A goodbye is seen at once; a crash after the expiry (3 s).
    room[5].type_line("@exit");
    for (i, station) in room.iter_mut().enumerate().take(5) {
        assert!(
            station.has_or_waits_for_stdout("s6 left", Duration::from_secs(1)),
            "s{}: {:?}",
            i + 1,
            station.stdout_lines
        );
    }
    assert!(room[5].wait(WAIT).expect("s6 exits").success());
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(room[4].pid() as i32), nix::sys::signal::Signal::SIGKILL)
        .unwrap();
    for (i, station) in room.iter_mut().enumerate().take(4) {
        let gone = station.has_or_waits_for_stdout("s5 disappeared", Duration::from_secs(8));
        assert!(gone, "s{}: {:?}", i + 1, station.stdout_lines);
    }

    // A seventh station wanting s1's name is refused; s1 keeps it.
    let mut impostor = lan.host(7).ns.spawn_whohas_typing(&["chat", "-i", "eth0", "-n", "s1"]);
    assert_eq!(impostor.wait(WAIT).expect("the impostor gives up").code(), Some(2), "{}", impostor.stderr());
    room[1].type_line("@chat s1 still you?");
    assert!(room[0].wait_for_stdout("s2: still you?", WAIT), "{:?}", room[0].stdout_lines);

    // A late joiner lists everyone within 2 s of starting.
    let started = std::time::Instant::now();
    let mut late = chat(&lan, 7, "late");
    let left = Duration::from_secs(2).saturating_sub(started.elapsed());
    assert!(lists(&mut late, 4, left), "within 2 s: {:?}", late.stdout_lines);
}
