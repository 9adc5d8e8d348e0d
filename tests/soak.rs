//! A soak with churn (root only): keyed `whohas chat` stations on a bridge
//! that loses frames each way; half of them join, leave with @exit, are
//! killed with -9 and restart under the same name, the other half stay up
//! throughout, while random pairs exchange messages and files. Checked: no live station is ever taken for gone, every
//! acknowledged message arrives exactly once and none twice, every file
//! acknowledged arrives intact, no station stops answering its keyboard,
//! and resident memory stays flat.
//!
//! Short by default, for the test suite; `bench/soak.sh` runs the issue's
//! 20 stations for 10 minutes. Knobs (environment): `SOAK_STATIONS`,
//! `SOAK_SECONDS`, `SOAK_LOSS` (percent, each way), `SOAK_KEEPALIVE` and
//! `SOAK_EXPIRY` (seconds), `SOAK_KEYED` (0 for plain), `SOAK_SEED`.
//! It prints one `soak:` line of figures.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::{Lan, Process, Scratch, require_root, text, whohas};
use whohas::rng::Rng;

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// One run of a station's process, from when it held its name.
struct Life {
    process: Option<Process>,
    started: Instant,
    ended: Option<Instant>,
    /// Its stdout lines, when each was read.
    lines: Vec<(Instant, String)>,
    /// Resident memory samples, KiB.
    rss: Vec<(Instant, u64)>,
    /// A `@show_list` typed and not answered yet: by when it must be.
    list_due: Option<Instant>,
}

struct Station {
    name: String,
    inbox: PathBuf,
    lives: Vec<Life>,
    /// When a stopped station starts again.
    restart_at: Option<Instant>,
}

impl Station {
    fn live(&mut self) -> Option<&mut Life> {
        self.lives.last_mut().filter(|life| life.ended.is_none())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Pending,
    Delivered,
    NotDelivered,
    /// The sender stopped first.
    Unknown,
}

/// A message or a file sent from one station to another.
struct Sent {
    from: usize,
    to: usize,
    /// The sender's life that sent it.
    life: usize,
    /// The message's unique text, or the file's name.
    token: String,
    file: Option<PathBuf>,
    outcome: Outcome,
}

struct Soak {
    lan: Lan,
    stations: Vec<Station>,
    sent: Vec<Sent>,
    rng: Rng,
    args: Vec<String>,
    expiry: Duration,
    /// (observer, station, when) of every "disappeared".
    disappearances: Vec<(usize, usize, Instant)>,
    stuck: Vec<String>,
    kills: u64,
    exits: u64,
}

impl Soak {
    fn start(&mut self, index: usize) {
        let name = self.stations[index].name.clone();
        let inbox = self.stations[index].inbox.to_str().unwrap().to_owned();
        let mut args: Vec<&str> = vec!["chat", "-i", "eth0", "-n", &name, "--dir", &inbox];
        args.extend(self.args.iter().map(String::as_str));
        let mut process = self.lan.host(index + 1).ns.spawn_whohas_typing(&args);
        // Claiming a name takes three unanswered probes, some lost.
        let claimed = process.wait_for_stdout(&format!("you are {name}"), Duration::from_secs(20));
        assert!(claimed, "{name} did not start: {} {}", process.stdout(), process.stderr());
        let started = Instant::now();
        let lines = process.stdout_lines.drain(..).map(|line| (started, line)).collect();
        let life = Life { process: Some(process), started, ended: None, lines, rss: Vec::new(), list_due: None };
        self.stations[index].lives.push(life);
        self.stations[index].restart_at = None;
    }

    fn stop(&mut self, index: usize, kill: bool) {
        let now = Instant::now();
        let pause = Duration::from_millis(500 + self.rng.below(2 * self.expiry.as_millis() as u64));
        let life = self.stations[index].live().expect("a live station");
        let mut process = life.process.take().unwrap();
        if kill {
            process.signal(nix::sys::signal::Signal::SIGKILL);
        } else {
            process.type_line("@exit");
            let status = process.wait(Duration::from_secs(10));
            assert!(status.is_some_and(|s| s.success()), "@exit: {:?} {}", status, process.stderr());
        }
        life.lines.extend(process.stdout_lines.drain(..).map(|line| (now, line)));
        life.ended = Some(now);
        let (from, life_index) = (index, self.stations[index].lives.len() - 1);
        for sent in self.sent.iter_mut().filter(|s| s.from == from && s.life == life_index) {
            if sent.outcome == Outcome::Pending {
                sent.outcome = Outcome::Unknown;
            }
        }
        self.stations[index].restart_at = Some(now + pause);
        if kill { self.kills += 1 } else { self.exits += 1 }
    }

    /// Reads what each live station printed and settles what it tells.
    fn read(&mut self) {
        let now = Instant::now();
        for index in 0..self.stations.len() {
            let life_index = self.stations[index].lives.len().wrapping_sub(1);
            let Some(life) = self.stations[index].live() else { continue };
            let process = life.process.as_mut().unwrap();
            process.take_stdout();
            let new: Vec<String> = process.stdout_lines.drain(..).collect();
            for line in &new {
                if line.ends_with(" stations") {
                    life.list_due = None;
                }
            }
            if let Some(due) = life.list_due.filter(|due| *due < now) {
                self.stuck.push(format!("{} ({due:?})", self.stations[index].name));
                self.stations[index].live().unwrap().list_due = None;
            }
            for line in &new {
                self.settle(index, life_index, line, now);
            }
            self.stations[index].live().unwrap().lines.extend(new.into_iter().map(|line| (now, line)));
        }
    }

    fn settle(&mut self, index: usize, life: usize, line: &str, now: Instant) {
        if let Some(name) = line.strip_suffix(" disappeared") {
            if let Some(gone) = self.stations.iter().position(|s| s.name == name) {
                self.disappearances.push((index, gone, now));
            }
            return;
        }
        let names: Vec<String> = self.stations.iter().map(|s| s.name.clone()).collect();
        for sent in self.sent.iter_mut().filter(|s| s.from == index && s.life == life && s.outcome == Outcome::Pending)
        {
            let to = &names[sent.to];
            // A file is shown by the path it was sent from.
            let what = match &sent.file {
                None => format!("to {to}"),
                Some(path) => format!("{} to {to}", path.display()),
            };
            if line == format!("[delivered {what}]") || line.starts_with(&format!("[delivered {what}:")) {
                sent.outcome = Outcome::Delivered;
                return;
            }
            if line.starts_with(&format!("[NOT delivered {what}:")) {
                sent.outcome = Outcome::NotDelivered;
                return;
            }
        }
    }

    fn live_indices(&mut self) -> Vec<usize> {
        (0..self.stations.len()).filter(|&i| self.stations[i].live().is_some()).collect()
    }

    fn act(&mut self, files: &Scratch) {
        let live = self.live_indices();
        if live.len() < 2 {
            return;
        }
        let from = live[self.rng.below(live.len() as u64) as usize];
        let to = live[self.rng.below(live.len() as u64) as usize];
        let roll = self.rng.below(100);
        let life = self.stations[from].lives.len() - 1;
        let id = self.sent.len();
        let to_name = self.stations[to].name.clone();
        let busy = |soak: &Soak, file: bool| {
            soak.sent
                .iter()
                .any(|s| s.from == from && s.to == to && s.outcome == Outcome::Pending && s.file.is_some() == file)
        };
        if roll < 70 && from != to && !busy(self, false) {
            let token = format!("msg{id}.");
            let process = self.stations[from].live().unwrap().process.as_mut().unwrap();
            process.type_line(&format!("@chat {to_name} {token} hello"));
            self.sent.push(Sent { from, to, life, token, file: None, outcome: Outcome::Pending });
        } else if roll < 80 && from != to && !busy(self, true) {
            let token = format!("file{id}.bin");
            let size = 16 * 1024 + self.rng.below(240 * 1024) as usize;
            let path = support::random_file(&files.path(&token), size);
            let process = self.stations[from].live().unwrap().process.as_mut().unwrap();
            process.type_line(&format!("@send {to_name} {}", path.display()));
            self.sent.push(Sent { from, to, life, token, file: Some(path), outcome: Outcome::Pending });
        } else if roll < 83 && from % 2 == 1 {
            // Odd stations churn; even ones stay up the whole run, so that
            // their memory and their presence are watched end to end.
            let kill = self.rng.chance(50);
            self.stop(from, kill);
        } else if roll < 87 {
            let due = Instant::now() + Duration::from_secs(5);
            let life = self.stations[from].live().unwrap();
            if life.list_due.is_none() {
                life.list_due = Some(due);
                life.process.as_mut().unwrap().type_line("@show_list");
            }
        }
    }

    fn sample_memory(&mut self) {
        let now = Instant::now();
        for station in &mut self.stations {
            let Some(life) = station.live() else { continue };
            let pid = life.process.as_ref().unwrap().pid();
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let rss = status.lines().find_map(|l| l.strip_prefix("VmRSS:")?.trim().strip_suffix(" kB")?.parse().ok());
            if let Some(rss) = rss {
                life.rss.push((now, rss));
            }
        }
    }

    /// A "disappeared" is false when its station had been running, holding
    /// its name, for a whole expiry (and a second of slack) and still was.
    fn false_disappearances(&self) -> Vec<String> {
        let slack = self.expiry + Duration::from_secs(1);
        self.disappearances
            .iter()
            .filter(|(_, gone, when)| {
                self.stations[*gone]
                    .lives
                    .iter()
                    .any(|life| life.started + slack <= *when && life.ended.is_none_or(|ended| ended >= *when))
            })
            .map(|(observer, gone, _)| {
                format!("{} saw {} disappear", self.stations[*observer].name, self.stations[*gone].name)
            })
            .collect()
    }
}

fn median(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

#[test]
fn chat_stations_with_churn_and_loss_deliver_exactly_once_and_stay_up() {
    require_root!();
    let count = knob("SOAK_STATIONS", 8) as usize;
    let seconds = knob("SOAK_SECONDS", 60);
    let loss = knob("SOAK_LOSS", 10) as u8;
    let (keepalive, expiry) = (knob("SOAK_KEEPALIVE", 2), knob("SOAK_EXPIRY", 6));
    let keyed = knob("SOAK_KEYED", 1) != 0;
    let seed = knob("SOAK_SEED", 0x50a4);
    let scratch = Scratch::new("soak");
    let files = Scratch::new("soak-files");
    let mut args: Vec<String> = ["--keepalive", &keepalive.to_string(), "--expiry", &expiry.to_string()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["--attempts".into(), "10".into(), "--interval-ms".into(), "300".into()]);
    if keyed {
        let key = scratch.path("group.key");
        let out = std::process::Command::new(whohas()).args(["keygen", key.to_str().unwrap()]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        args.extend(["--key-file".into(), key.to_str().unwrap().to_owned()]);
    }
    let lan = Lan::bridged(count);
    lan.lossy(loss);
    let stations = (1..=count)
        .map(|i| {
            let inbox = scratch.path(&format!("inbox-s{i}"));
            std::fs::create_dir(&inbox).unwrap();
            Station { name: format!("s{i}"), inbox, lives: Vec::new(), restart_at: None }
        })
        .collect();
    let mut soak = Soak {
        lan,
        stations,
        sent: Vec::new(),
        rng: Rng::new(seed),
        args,
        expiry: Duration::from_secs(expiry),
        disappearances: Vec::new(),
        stuck: Vec::new(),
        kills: 0,
        exits: 0,
    };
    for index in 0..count {
        soak.start(index);
    }
    let begun = Instant::now();
    let end = begun + Duration::from_secs(seconds);
    let mut next_sample = begun;
    while Instant::now() < end {
        soak.read();
        let now = Instant::now();
        for index in 0..count {
            if soak.stations[index].restart_at.is_some_and(|at| at <= now) {
                soak.start(index);
            }
        }
        if now >= next_sample {
            soak.sample_memory();
            next_sample = now + Duration::from_secs(2);
        }
        soak.act(&files);
        std::thread::sleep(Duration::from_millis(150));
    }
    // Let what is in flight settle: a transfer gives up after 10 s.
    let settle = Instant::now() + Duration::from_secs(15);
    while Instant::now() < settle && soak.sent.iter().any(|s| s.outcome == Outcome::Pending) {
        soak.read();
        std::thread::sleep(Duration::from_millis(100));
    }
    soak.read();
    soak.sample_memory();
    let churned = (soak.exits, soak.kills);
    for index in soak.live_indices() {
        soak.stop(index, false);
    }

    // Exactly once: each message's text at its receiver, over all its lives.
    let said = |station: &Station, token: &str| {
        station.lives.iter().flat_map(|l| &l.lines).filter(|(_, line)| line.contains(token)).count()
    };
    let (mut delivered, mut twice, mut lost, mut elsewhere) = (0, Vec::new(), Vec::new(), Vec::new());
    let (mut files_ok, mut files_bad) = (0, Vec::new());
    for sent in &soak.sent {
        let receiver = &soak.stations[sent.to];
        match &sent.file {
            None => {
                let from = &soak.stations[sent.from].name;
                let arrived = said(receiver, &format!("{from}: {}", sent.token));
                if arrived > 1 {
                    twice.push(sent.token.clone());
                }
                if sent.outcome == Outcome::Delivered {
                    delivered += 1;
                    if arrived != 1 {
                        lost.push(sent.token.clone());
                    }
                }
                let others = soak.stations.iter().enumerate().filter(|(i, _)| *i != sent.to);
                if others.map(|(_, s)| said(s, &format!(": {}", sent.token))).sum::<usize>() > 0 {
                    elsewhere.push(sent.token.clone());
                }
            }
            Some(source) if sent.outcome == Outcome::Delivered => {
                let received = receiver
                    .inbox
                    .read_dir()
                    .unwrap()
                    .filter_map(|e| e.ok())
                    .find(|e| e.file_name().to_string_lossy() == sent.token);
                match received.map(|e| std::fs::read(e.path()).unwrap()) {
                    Some(bytes) if bytes == std::fs::read(source).unwrap() => files_ok += 1,
                    _ => files_bad.push(sent.token.clone()),
                }
            }
            Some(_) => {}
        }
    }
    let outcomes = |file: bool, outcome: Outcome| {
        soak.sent.iter().filter(|s| s.file.is_some() == file && s.outcome == outcome).count()
    };
    // Memory: the lives that lasted most of the run, first against last third.
    let mut growth_kib = Vec::new();
    for life in soak.stations.iter().flat_map(|s| &s.lives) {
        let Some(ended) = life.ended else { continue };
        if ended - life.started < Duration::from_secs(seconds) * 2 / 3 || life.rss.len() < 6 {
            continue;
        }
        let third = life.rss.len() / 3;
        let mut first: Vec<u64> = life.rss[..third].iter().map(|(_, kib)| *kib).collect();
        let mut last: Vec<u64> = life.rss[life.rss.len() - third..].iter().map(|(_, kib)| *kib).collect();
        growth_kib.push((median(&mut first), median(&mut last)));
    }
    let false_gone = soak.false_disappearances();
    let worst = growth_kib.iter().map(|(first, last)| *last as i64 - *first as i64).max().unwrap_or(0);
    println!(
        "soak: stations={count} seconds={seconds} loss={loss} keyed={keyed} keepalive={keepalive} expiry={expiry} \
         lives={} kills={} exits={} messages={} acked={} not_delivered={} unknown={} arrived_twice={} acked_not_arrived={} \
         files={} files_acked={} files_intact={files_ok} files_bad={} disappeared={} false_disappeared={} stuck={} \
         long_lives={} rss_first_kib={} rss_last_kib={} worst_growth_kib={worst}",
        soak.stations.iter().map(|s| s.lives.len()).sum::<usize>(),
        churned.1,
        churned.0,
        soak.sent.iter().filter(|s| s.file.is_none()).count(),
        delivered,
        outcomes(false, Outcome::NotDelivered),
        outcomes(false, Outcome::Unknown),
        twice.len(),
        lost.len(),
        soak.sent.iter().filter(|s| s.file.is_some()).count(),
        outcomes(true, Outcome::Delivered),
        files_bad.len(),
        soak.disappearances.len(),
        false_gone.len(),
        soak.stuck.len(),
        growth_kib.len(),
        growth_kib.iter().map(|(first, _)| first).max().unwrap_or(&0),
        growth_kib.iter().map(|(_, last)| last).max().unwrap_or(&0),
    );
    assert!(twice.is_empty(), "messages that arrived twice: {twice:?}");
    assert!(elsewhere.is_empty(), "messages shown at another station: {elsewhere:?}");
    assert!(lost.is_empty(), "acknowledged but never shown: {lost:?}");
    assert!(files_bad.is_empty(), "acknowledged files missing or altered: {files_bad:?}");
    assert!(false_gone.is_empty(), "live stations taken for gone: {false_gone:?}");
    assert!(soak.stuck.is_empty(), "stations that did not answer @show_list within 5 s: {:?}", soak.stuck);
    assert!(delivered > 0 && outcomes(true, Outcome::Delivered) > 0 && soak.kills > 0, "the soak did something");
    assert!(!growth_kib.is_empty(), "no station ran long enough to watch its memory");
    for (first, last) in &growth_kib {
        assert!(*last <= first + first / 10 + 1024, "resident memory grew from {first} to {last} KiB");
    }
}
