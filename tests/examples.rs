//! The examples run: the demo shows the seed conversation, and every example
//! answers `--help`.

mod support;

#[test]
fn demo_shows_the_seed_conversation_with_one_request() {
    let output = std::process::Command::new(support::example("demo")).output().expect("run demo");
    assert!(output.status.success());
    let out = String::from_utf8(output.stdout).unwrap();
    for line in [
        "name-ARP who has \"VM2\"?",
        "name-ARP \"VM2\" is at 02:00:00:00:00:02",
        "[VM2] received from 02:00:00:00:00:01: Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!",
        "[VM1] received from VM2: Nice to meet you!",
        "[VM2] received from 02:00:00:00:00:01: I'm Glad to meet you again.",
        "6 frames crossed the segment, 1 of them a name-ARP request.",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn every_example_explains_its_usage() {
    for name in ["demo", "vm1", "vm2", "node", "replay", "inject", "decode"] {
        let output = std::process::Command::new(support::example(name)).arg("--help").output().expect("run example");
        assert!(output.status.success(), "{name} --help: {}", String::from_utf8_lossy(&output.stderr));
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage:"), "{name} --help");
    }
}
