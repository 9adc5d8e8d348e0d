//! Test support: throw-away network namespaces joined by veth pairs or a
//! bridge, the project's example binaries, and processes that die with the
//! test. Everything created here is removed on drop, even when a test fails.
//!
//! Addresses come from 198.18.0.0/15 (RFC 2544, benchmarking) and
//! 2001:db8::/32 (RFC 3849, documentation); nothing leaves the namespaces.
#![allow(dead_code, unused_macros, unused_imports)] // each test binary uses a different part

pub mod json;

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use whohas::EthernetAddress;

/// Returns early from a test, recorded as skipped ([`skip`]), unless
/// running as root.
macro_rules! require_root {
    () => {
        if !support::is_root() {
            support::skip("network namespace tests need root (CI runs them as root)");
            return;
        }
    };
}
pub(crate) use require_root;

/// Records that the calling test cannot run on this machine, and why.
///
/// Under `WHOHAS_REQUIRE_ALL` (CI sets it) that is a failure: no test may
/// pass without running. Otherwise the skip is printed and added to
/// `skipped-tests` in cargo's test scratch directory, which
/// `scripts/test.sh` lists at the end of its run, so that a skip shows in
/// the summary and not only on a hidden stderr.
pub fn skip(reason: &str) {
    let test = format!("{}::{}", env!("CARGO_CRATE_NAME"), std::thread::current().name().unwrap_or("?"));
    if std::env::var_os("WHOHAS_REQUIRE_ALL").is_some() {
        panic!("{test} cannot run here: {reason}; WHOHAS_REQUIRE_ALL is set, so every test must run");
    }
    eprintln!("skipped: {reason}");
    use std::io::Write;
    let list = Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests");
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(list) {
        let _ = writeln!(file, "{test}: {reason}");
    }
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs a command to completion, panicking with its output if it fails.
pub fn sh(program: &str, args: &[&str]) -> Output {
    let output = Command::new(program).args(args).output().unwrap_or_else(|err| panic!("{program}: {err}"));
    assert!(
        output.status.success(),
        "{program} {} failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A network namespace, deleted on drop.
pub struct Namespace {
    pub name: String,
}

impl Namespace {
    pub fn new(role: &str) -> Namespace {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!("wh{}-{}-{role}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        sh("ip", &["netns", "add", &name]);
        let ns = Namespace { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip ARGS` inside the namespace.
    pub fn ip(&self, args: &[&str]) -> Output {
        let mut full = vec!["-n", &self.name];
        full.extend_from_slice(args);
        sh("ip", &full)
    }

    /// A command that will run inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }

    /// Runs `program args` in the namespace to completion.
    pub fn run(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
        self.command(program).args(args).output().expect("ip netns exec")
    }

    /// Starts `program args` in the namespace with piped output.
    pub fn spawn(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Process {
        self.spawn_with_stdin(program, args, Stdio::null())
    }

    /// Starts `whohas args` in the namespace with its stdin a pipe the test
    /// writes to ([`Process::type_line`]).
    pub fn spawn_whohas_typing(&self, args: &[&str]) -> Process {
        self.spawn_with_stdin(whohas(), args, Stdio::piped())
    }

    fn spawn_with_stdin(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str], stdin: Stdio) -> Process {
        let child = self
            .command(program)
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ip netns exec");
        Process::new(child)
    }

    /// Runs `whohas args` in the namespace to completion.
    pub fn whohas(&self, args: &[&str]) -> Output {
        self.run(whohas(), args)
    }

    /// Starts `whohas args` in the namespace with piped output.
    pub fn spawn_whohas(&self, args: &[&str]) -> Process {
        self.spawn(whohas(), args)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

/// A veth pair from `port` in `switch` (a bridge's or a router's
/// namespace) to `eth0` in `host`, with MAC address `mac`.
pub fn cable(switch: &Namespace, port: &str, host: &Namespace, mac: &str) {
    let args =
        ["link", "add", port, "netns", &switch.name, "type", "veth", "peer", "name", "eth0", "netns", &host.name];
    sh("ip", &[&args[..], &["address", mac]].concat());
}

/// A host on a test LAN: a namespace with one interface, `eth0`.
pub struct Host {
    pub ns: Namespace,
    pub mac: EthernetAddress,
    pub ipv4: Ipv4Addr,
}

impl Host {
    pub fn mac_string(&self) -> String {
        self.mac.to_string()
    }
}

/// The MAC address of test host `index`: locally administered, unicast.
pub fn host_mac(index: usize) -> EthernetAddress {
    EthernetAddress([0x02, 0x00, 0x00, 0x00, (index >> 8) as u8, index as u8])
}

/// The IPv4 address of test host `index` in 198.18.0.0/24 (index 1..=254).
pub fn host_ipv4(index: usize) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 0, index as u8)
}

/// Hosts on one Ethernet segment. Hosts are numbered from 1; host `i` has
/// MAC `02:00:00:00:00:0i` and IPv4 `198.18.0.i/24`.
pub struct Lan {
    pub hosts: Vec<Host>,
    /// The namespace holding the bridge, when there is one.
    pub switch: Option<Namespace>,
}

impl Lan {
    /// Two hosts joined by one veth pair.
    pub fn pair() -> Lan {
        let a = Namespace::new("a");
        let b = Namespace::new("b");
        let (mac_a, mac_b) = (host_mac(1).to_string(), host_mac(2).to_string());
        sh(
            "ip",
            &[
                "link", "add", "eth0", "netns", &a.name, "address", &mac_a, "type", "veth", "peer", "name", "eth0",
                "netns", &b.name, "address", &mac_b,
            ],
        );
        let hosts = vec![Self::new_host(a, 1), Self::new_host(b, 2)];
        Lan { hosts, switch: None }
    }

    /// `count` hosts on a bridge, like machines on a switch.
    pub fn bridged(count: usize) -> Lan {
        let switch = Namespace::new("sw");
        // The switch is not a station: its bridge gets no IPv6 address.
        switch.run("sysctl", &["-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
        switch.run("sysctl", &["-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
        // No multicast snooping: the bridge would send IGMP and MLD of its
        // own, and it floods multicast (IPv6 neighbour solicitations) to
        // every port, as a plain switch does.
        switch.ip(&["link", "add", "br0", "type", "bridge", "mcast_snooping", "0"]);
        // No forwarding delay, and no STP frames on the wire.
        switch.ip(&["link", "set", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0"]);
        switch.ip(&["link", "set", "br0", "up"]);
        let mut hosts = Vec::new();
        for index in 1..=count {
            let ns = Namespace::new(&format!("h{index}"));
            let port = format!("p{index}");
            cable(&switch, &port, &ns, &host_mac(index).to_string());
            switch.ip(&["link", "set", &port, "master", "br0"]);
            switch.ip(&["link", "set", &port, "up"]);
            hosts.push(Self::new_host(ns, index));
        }
        Lan { hosts, switch: Some(switch) }
    }

    fn new_host(ns: Namespace, index: usize) -> Host {
        // No IPv6 autoconfiguration chatter unless a test asks for IPv6.
        ns.run("sysctl", &["-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
        ns.run("sysctl", &["-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
        ns.ip(&["link", "set", "eth0", "up"]);
        Host { ns, mac: host_mac(index), ipv4: host_ipv4(index) }
    }

    /// Drops `percent` % of the frames each host sends, at random, where
    /// they enter the bridge: loss on the wire, which no host sees happen
    /// (a host's own ingress hook would come after its packet sockets have
    /// their copy, and an egress drop is reported to the sender).
    pub fn lossy(&self, percent: u8) {
        let switch = self.switch.as_ref().expect("loss needs the bridge");
        for index in 1..=self.hosts.len() {
            let table = format!("loss{index}");
            let chain = format!("{{ type filter hook ingress device p{index} priority 0; }}");
            let rule = format!("numgen random mod 100 < {percent} drop");
            for args in [
                vec!["add", "table", "netdev", &table],
                vec!["add", "chain", "netdev", &table, "in", &chain],
                vec!["add", "rule", "netdev", &table, "in", &rule],
            ] {
                let out = switch.run("nft", &args);
                assert!(out.status.success(), "nft {args:?}: {}", text(&out.stderr));
            }
        }
    }

    /// Host `index` (1-based).
    pub fn host(&self, index: usize) -> &Host {
        &self.hosts[index - 1]
    }

    /// Gives every host its 198.18.0.i/24 address.
    pub fn add_ipv4(&self) {
        for host in &self.hosts {
            host.ns.ip(&["addr", "add", &format!("{}/24", host.ipv4), "dev", "eth0"]);
        }
    }

    /// Enables IPv6 and gives host i the address 2001:db8::i/64 (RFC 3849, documentation).
    pub fn add_ipv6(&self) {
        for (i, host) in self.hosts.iter().enumerate() {
            // No duplicate address detection delay before an address works
            // (the link-local one included: set before IPv6 comes up).
            host.ns.run("sysctl", &["-qw", "net.ipv6.conf.eth0.accept_dad=0"]);
            host.ns.run("sysctl", &["-qw", "net.ipv6.conf.all.disable_ipv6=0"]);
            host.ns.run("sysctl", &["-qw", "net.ipv6.conf.eth0.disable_ipv6=0"]);
            host.ns.ip(&["-6", "addr", "add", &format!("2001:db8::{}/64", i + 1), "dev", "eth0", "nodad"]);
        }
    }
}

/// A child process killed on drop, whose output lines arrive on channels.
pub struct Process {
    pub child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    pub stdout_lines: Vec<String>,
    pub stderr_lines: Vec<String>,
}

fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for_line(source: &mpsc::Receiver<String>, seen: &mut Vec<String>, needle: &str, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let Ok(line) = source.recv_timeout(left) else { return false };
        let found = line.contains(needle);
        seen.push(line);
        if found {
            return true;
        }
    }
}

impl Process {
    fn new(mut child: Child) -> Process {
        let stdout = lines(child.stdout.take().expect("piped stdout"));
        let stderr = lines(child.stderr.take().expect("piped stderr"));
        Process { child, stdout, stderr, stdout_lines: Vec::new(), stderr_lines: Vec::new() }
    }

    /// Writes `line` and a newline to the process's stdin.
    pub fn type_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().expect("spawned with spawn_whohas_typing");
        stdin.write_all(format!("{line}\n").as_bytes()).expect("write to stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Waits up to `timeout` for a stdout line containing `needle`.
    pub fn wait_for_stdout(&mut self, needle: &str, timeout: Duration) -> bool {
        wait_for_line(&self.stdout, &mut self.stdout_lines, needle, timeout)
    }

    /// Whether a stdout line seen so far contains `needle`, or one does
    /// within `timeout`.
    pub fn has_or_waits_for_stdout(&mut self, needle: &str, timeout: Duration) -> bool {
        self.stdout_lines.iter().any(|line| line.contains(needle)) || self.wait_for_stdout(needle, timeout)
    }

    /// Takes the stdout lines that arrived so far, without waiting: how
    /// many there were.
    pub fn take_stdout(&mut self) -> usize {
        let before = self.stdout_lines.len();
        self.stdout_lines.extend(self.stdout.try_iter());
        self.stdout_lines.len() - before
    }

    /// Waits up to `timeout` for a stderr line containing `needle`.
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) -> bool {
        wait_for_line(&self.stderr, &mut self.stderr_lines, needle, timeout)
    }

    /// The process id (`ip netns exec` execs the program, keeping the pid).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM, waits for exit, and collects the remaining output.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal(nix::sys::signal::Signal::SIGTERM)
    }

    /// Sends `signal`, waits for exit, and collects the remaining output.
    pub fn signal(&mut self, signal: nix::sys::signal::Signal) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, signal);
        let status = self.child.wait().expect("wait");
        self.drain();
        status
    }

    /// Waits for the process to exit on its own (up to `timeout`).
    pub fn wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.drain();
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    fn drain(&mut self) {
        // The reader threads finish once the pipes close.
        while let Ok(line) = self.stdout.recv_timeout(Duration::from_millis(500)) {
            self.stdout_lines.push(line);
        }
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(200)) {
            self.stderr_lines.push(line);
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout_lines.join("\n")
    }

    pub fn stderr(&self) -> String {
        self.stderr_lines.join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// tcpdump on a namespace's `eth0`, writing a capture file and printing a
/// line per frame, so that a test waits for the frames it expects instead
/// of sleeping.
pub struct Tcpdump {
    process: Process,
    pub path: PathBuf,
    interface: String,
}

/// Where [`Tcpdump::barrier`] sends its marker frame: nobody's address.
const BARRIER: &str = "02:00:00:00:ba:11";

impl Tcpdump {
    /// Starts capturing frames that match `filter` (every frame if it is
    /// empty; and the barrier's marker) into `path`; returns once tcpdump
    /// listens.
    pub fn start(ns: &Namespace, path: PathBuf, filter: &str) -> Tcpdump {
        Self::start_on(ns, "eth0", path, filter)
    }

    /// [`start`](Self::start) on `interface` instead of `eth0`.
    pub fn start_on(ns: &Namespace, interface: &str, path: PathBuf, filter: &str) -> Tcpdump {
        let file = path.to_str().unwrap().to_owned();
        let filter = if filter.is_empty() { String::new() } else { format!("({filter}) or ether dst {BARRIER}") };
        // Room for thousands of frames, so that tcpdump drops none of a
        // transfer at full speed: libpcap sizes its ring's slots by the
        // snap length (9216: a jumbo frame), and -B gives 64 MiB.
        let args = [
            "--immediate-mode",
            "-B",
            "65536",
            "-s",
            "9216",
            "-i",
            interface,
            "-n",
            "-e",
            "-l",
            "-U",
            "--print",
            "-w",
            &file,
            &filter,
        ];
        let mut process = ns.spawn("tcpdump", &args);
        assert!(
            process.wait_for_stderr(&format!("listening on {interface}"), Duration::from_secs(10)),
            "tcpdump did not start: {}",
            process.stderr()
        );
        Tcpdump { process, path, interface: interface.to_owned() }
    }

    /// Waits up to `timeout` until `count` frames were captured; false if
    /// fewer came.
    pub fn wait_for_frames(&mut self, count: usize, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while self.lines().len() < count {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.process.stdout.recv_timeout(left) {
                Ok(line) => self.process.stdout_lines.push(line),
                Err(_) => return false,
            }
        }
        true
    }

    /// Waits up to `timeout` for a frame whose tcpdump line contains
    /// `needle`.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> bool {
        self.process.has_or_waits_for_stdout(needle, timeout)
    }

    /// Sends a marker frame (a 0xFFFD data frame to nobody) from `peer`,
    /// a namespace on the other end of tcpdump's link, and waits until
    /// tcpdump has it: every frame that crossed the link before is then in
    /// the capture. The marker is the capture's last frame. (Not from
    /// tcpdump's own namespace: `inject` bypasses the queueing discipline,
    /// and with it the kernel's copy to local packet sockets.) Sent again
    /// each second until seen, 10 times at most: a lossy link may drop it,
    /// and a marker that was dropped is not in the capture either.
    pub fn barrier(&mut self, peer: &Namespace) {
        let marker = self.path.with_extension("barrier.pcap");
        let mut writer = whohas::pcap::PcapFileWriter::create(&marker).unwrap();
        let to: EthernetAddress = BARRIER.parse().unwrap();
        let frame = [&to.0[..], &[2, 0, 0, 0, 0xba, 0x12, 0xff, 0xfd], b"barrier"].concat();
        writer.write(std::time::Duration::ZERO, &frame);
        writer.flush().unwrap();
        for _ in 0..10 {
            let inject = peer.whohas(&["inject", "-q", "-i", &self.interface, marker.to_str().unwrap()]);
            assert!(inject.status.success(), "inject the barrier: {}", text(&inject.stderr));
            if self.wait_for(BARRIER, Duration::from_secs(1)) {
                return;
            }
        }
        panic!("tcpdump never saw the barrier: {:#?}", self.lines());
    }

    /// The lines printed so far, one per frame (without the hex dump
    /// tcpdump adds below a frame of an ethertype it does not know).
    pub fn lines(&self) -> Vec<String> {
        self.process.stdout_lines.iter().filter(|line| !line.starts_with(char::is_whitespace)).cloned().collect()
    }

    /// Stops tcpdump; the capture file is complete (tcpdump says the
    /// kernel dropped none of the frames it matched).
    pub fn stop(mut self) -> PathBuf {
        self.process.terminate();
        let said = self.process.stderr();
        assert!(said.lines().any(|line| line == "0 packets dropped by kernel"), "tcpdump lost frames: {said}");
        self.path.clone()
    }
}

/// The frames of a capture file, with their timestamps.
pub fn frames(path: &Path) -> Vec<(whohas::Instant, Vec<u8>)> {
    let mut reader = whohas::pcap::CaptureReader::open(path).unwrap();
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        frames.push((whohas::Instant::ZERO + whohas::Duration::from(frame.timestamp), frame.data.to_vec()));
    }
    frames
}

/// The frames of a capture file, without their timestamps.
pub fn capture_frames(path: &Path) -> Vec<Vec<u8>> {
    frames(path).into_iter().map(|(_, frame)| frame).collect()
}

/// A file of `len` random bytes at `path`.
pub fn random_file(path: &Path, len: usize) -> PathBuf {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).unwrap();
    std::fs::write(path, &bytes).unwrap();
    path.to_owned()
}

/// Asks `done` every 10 ms, up to `timeout`, until it says yes; whether it
/// did.
pub fn poll_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while !done() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Waits up to `timeout` until a file is arriving in `dir`: the receiver's
/// temporary file holds at least a megabyte.
pub fn wait_until_arriving(dir: &Path, timeout: Duration) {
    let arriving = || {
        std::fs::read_dir(dir).unwrap().flatten().any(|entry| entry.metadata().is_ok_and(|meta| meta.len() >= 1 << 20))
    };
    assert!(poll_until(timeout, arriving), "no file arriving in {}", dir.display());
}

/// A process's output as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A path in the repository.
pub fn repo(path: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("whohas-{label}-{}-{unique}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `frames` to a capture at `path`, 1 ms apart.
pub fn write_capture(path: &Path, frames: &[Vec<u8>]) {
    let mut writer = whohas::pcap::PcapFileWriter::create(path).unwrap();
    for (i, frame) in frames.iter().enumerate() {
        writer.write(Duration::from_millis(i as u64), frame);
    }
    writer.flush().unwrap();
}

/// A capture of `count` garbage frames from `whohas synth` in `scratch`.
pub fn garbage_capture(scratch: &Scratch, count: usize) -> PathBuf {
    let path = scratch.path("garbage.pcap");
    let out = Command::new(whohas())
        .args(["synth", "-o", path.to_str().unwrap(), "--frames", &count.to_string(), "--kind", "garbage"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    path
}

/// Path of the `whohas` program (cargo builds it for the tests).
pub fn whohas() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_whohas"))
}

/// Path of a built example binary (`cargo build --examples`, which
/// `scripts/test.sh` runs before the tests).
pub fn example(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().expect("current_exe");
    dir.pop(); // the test binary
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --examples` first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// CPU time (user + system) a process has used, from /proc/PID/stat.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("process stat");
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields overall.
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100) as u64;
    Duration::from_micros(ticks * 1_000_000 / hz)
}

/// The Ethernet frame carrying `repr` from `from` to `to` (the transfer's
/// ethertype), built with the project's own codec.
pub fn transfer_frame(
    from: EthernetAddress,
    to: EthernetAddress,
    repr: &whohas::wire::transfer::TransferRepr,
) -> Vec<u8> {
    let mut frame = to.0.to_vec();
    frame.extend_from_slice(&from.0);
    frame.extend_from_slice(&whohas::wire::EtherType::TRANSFER.0.to_be_bytes());
    let start = frame.len();
    frame.resize(start + repr.buffer_len(), 0);
    repr.emit(to, from, &mut frame[start..]);
    frame
}

/// Runs `decode --json` and `tshark` (with the whohas dissector) on
/// `capture` and asserts that every frame's source, destination, protocol,
/// length and Info columns are exactly the same (tshark with `-n`: decode
/// resolves no names).
/// `decode_args` and `tshark_args` go to each (a key, a preference).
pub fn assert_decode_matches_tshark(capture: &Path, decode_args: &[&str], tshark_args: &[&str]) {
    let mut args = vec!["decode", "--json", capture.to_str().unwrap()];
    args.extend_from_slice(decode_args);
    let ours = Command::new(whohas()).args(&args).output().unwrap();
    assert!(ours.status.success(), "decode {}: {}", capture.display(), text(&ours.stderr));
    let lua = format!("lua_script:{}", repo("tools/wireshark/whohas.lua").display());
    let mut args = tshark_args.to_vec();
    args.extend_from_slice(&["-n", "-X", &lua, "-r", capture.to_str().unwrap(), "-T", "fields"]);
    for field in ["_ws.col.Source", "_ws.col.Destination", "_ws.col.Protocol", "frame.len", "_ws.col.Info"] {
        args.extend_from_slice(&["-e", field]);
    }
    args.extend_from_slice(&["-E", "separator=\t", "-E", "occurrence=f"]);
    let theirs = sh("tshark", &args);
    let ours: Vec<String> = text(&ours.stdout)
        .lines()
        .map(|line| {
            let json: serde_json::Value = serde_json::from_str(line).unwrap();
            let column = |key: &str| match &json[key] {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            ["source", "destination", "protocol", "length", "info"].map(column).join("\t")
        })
        .collect();
    let theirs = text(&theirs.stdout);
    let theirs: Vec<&str> = theirs.lines().collect();
    assert!(!ours.is_empty(), "{} has frames", capture.display());
    for (number, (line, expected)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(line, expected, "{} frame {}: decode, then tshark", capture.display(), number + 1);
    }
    assert_eq!(ours.len(), theirs.len(), "frame count of {}", capture.display());
}

/// Builds the C re-creation of the original program with gcc into
/// `scratch`, its uninitialised struct padding filled with `fill` (the
/// original sends whatever its stack held there).
pub fn build_original(scratch: &Scratch, fill: u8) -> PathBuf {
    let binary = scratch.path(&format!("original-{fill:02x}"));
    let source = repo("tests/interop/original.c");
    let define = format!("-DPAD_FILL=0x{fill:02x}");
    sh("gcc", &["-O2", "-Wall", "-Werror", &define, "-o", binary.to_str().unwrap(), source.to_str().unwrap()]);
    binary
}

/// `whohas chat -n NAME` on `lan`'s host `index` with short timers
/// (keep-alive 1 s, expiry 3 s) and `extra` arguments, driven through its
/// stdin; returns once it holds its name.
pub fn start_chat(lan: &Lan, index: usize, name: &str, extra: &[&str]) -> Process {
    let mut args = vec!["chat", "-i", "eth0", "-n", name, "--keepalive", "1", "--expiry", "3"];
    args.extend_from_slice(extra);
    let mut chat = lan.host(index).ns.spawn_whohas_typing(&args);
    let ready = if extra.contains(&"--json") { "\"event\":\"claimed\"".to_owned() } else { format!("you are {name}") };
    assert!(chat.wait_for_stdout(&ready, Duration::from_secs(10)), "{name} did not start: {}", chat.stderr());
    chat
}
