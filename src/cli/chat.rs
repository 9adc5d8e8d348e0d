//! `whohas chat`: a chat room on the segment. Presence shows who is around
//! (joined, left, disappeared, conflicts); `@chat NAME text` and
//! `@send NAME PATH` go over the reliable transfer with a delivered/failed
//! mark (a file's mark says the receiver verified its SHA-256); files sent
//! to this station are kept only with `--dir`. On a terminal a line
//! editor (history, Tab-completion of commands and station names) keeps the
//! line being typed intact while notifications print above it; otherwise
//! commands are read line by line from stdin and plain lines printed.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::{Context as LineContext, ExternalPrinter, Helper, Highlighter, Hinter, Validator};
use serde_json::{Value, json};

use super::device::{self, Device, Open, Via};
use super::files::{Arrival, Inbox, Outgoing};
use super::output::{Who, describe, event_json, print_json, print_line, text};
use super::{Failure, Global, Station, TransferArgs, signals};
use crate::file_offer::verdict;
use crate::host::SystemClock;
use crate::node::{Context, Event, Node};
use crate::presence::{Presence, PresenceConfig, PresenceEvent, PresenceState, Source};
use crate::runtime::Handler;
use crate::transfer::{ConnId, MAX_SEGMENT, MessageId, Transfer, TransferEvent};
use crate::{Duration, Instant, LinkDevice, Name};

/// `whohas chat` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Who this station is.
    #[command(flatten)]
    pub station: Station,
    /// Seconds between keep-alives.
    #[arg(long, default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub keepalive: u64,
    /// Seconds without a keep-alive after which a station is gone.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(2..=65535))]
    pub expiry: u64,
    /// Keep files other stations send with @send in this directory
    /// (without it, files are refused).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Transfer settings.
    #[command(flatten)]
    pub transfer: TransferArgs,
    /// How frames reach the interface.
    #[arg(long, value_enum, default_value_t)]
    pub via: Via,
}

/// The presence table of a chat: up to 256 stations.
pub type ChatPresence = Presence<256>;
/// The transfer of a chat: 32 connections at once (one per peer and
/// direction, closed after 30 s idle: a room of six where everyone talks
/// to everyone holds ten), 64 segments in flight each: about 3 MB.
pub type ChatTransfer = Transfer<32, 64>;

/// Names a chat keeps resolved, and resolves at once.
const CHAT_CACHE: usize = 64;
const CHAT_PENDING: usize = 8;

const COMMANDS: [&str; 5] = ["@chat", "@send", "@show_list", "@exit", "@help"];

const HELP: &str = "commands: @chat NAME text (send reliably) | @send NAME PATH (send a file) | @show_list (stations \
                    around) | @exit (say goodbye) | @help";

/// How often the loop looks for a typed line while nothing arrives.
const INPUT_POLL: Duration = Duration::from_millis(50);

/// Station names for Tab-completion, kept by the node's thread.
type Names = Arc<Mutex<Vec<String>>>;

#[derive(Helper, Hinter, Highlighter, Validator)]
struct Completion {
    names: Names,
    files: FilenameCompleter,
}

impl Completer for Completion {
    type Candidate = Pair;

    /// Commands first; then a station's name after `@chat` and `@send`;
    /// then a path after `@send NAME`.
    fn complete(&self, line: &str, pos: usize, context: &LineContext<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.rfind(' ').map_or(0, |space| space + 1);
        let word = &before[start..];
        let pair = |text: String| Pair { display: text.trim_end().to_owned(), replacement: text };
        let words = before[..start].split_whitespace().count();
        let command = before.split(' ').next().unwrap_or_default();
        let candidates = match (words, command) {
            (0, _) => COMMANDS.iter().filter(|c| c.starts_with(word)).map(|c| pair(format!("{c} "))).collect(),
            (1, "@chat" | "@send") => {
                let names = self.names.lock().map(|names| names.clone()).unwrap_or_default();
                names.into_iter().filter(|n| n.starts_with(word)).map(|n| pair(format!("{n} "))).collect()
            }
            (2, "@send") => return self.files.complete(line, pos, context),
            _ => Vec::new(),
        };
        Ok((start, candidates))
    }
}

/// Where output goes: above the prompt of the line editor, or stdout.
enum Output {
    Editor(Box<dyn ExternalPrinter + Send>),
    Plain,
}

impl Output {
    fn line(&mut self, line: &str) -> Result<(), Failure> {
        match self {
            Output::Editor(printer) => {
                printer.print(format!("{line}\n")).map_err(|err| Failure::error(format!("cannot print: {err}")))
            }
            Output::Plain => print_line(line),
        }
    }
}

/// Reads lines on a thread of its own; `None` at the end (EOF, Ctrl-C, Ctrl-D).
fn read_lines(names: Names) -> Result<(Receiver<Option<String>>, Output), Failure> {
    let (tx, rx) = mpsc::channel();
    if !std::io::stdin().is_terminal() {
        std::thread::spawn(move || {
            signals::keep_away();
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.send(Some(line)).is_err() {
                    return;
                }
            }
            let _ = tx.send(None);
        });
        return Ok((rx, Output::Plain));
    }
    let cannot = |err: ReadlineError| Failure::error(format!("cannot use the terminal: {err}"));
    let mut editor: rustyline::Editor<Completion, rustyline::history::DefaultHistory> =
        rustyline::Editor::new().map_err(cannot)?;
    editor.set_helper(Some(Completion { names, files: FilenameCompleter::new() }));
    let printer = editor.create_external_printer().map_err(cannot)?;
    std::thread::spawn(move || {
        signals::keep_away();
        // Ctrl-C, Ctrl-D or a broken terminal end the input.
        while let Ok(line) = editor.readline("> ") {
            let _ = editor.add_history_entry(line.as_str());
            if tx.send(Some(line)).is_err() {
                return;
            }
        }
        let _ = tx.send(None);
    });
    Ok((rx, Output::Editor(Box::new(printer))))
}

struct Chat {
    lines: Receiver<Option<String>>,
    out: Output,
    json: bool,
    names: Names,
    /// Messages on their way, and to whom.
    sent: HashMap<MessageId, Name>,
    /// Messages that will not arrive, reported with their connection's
    /// failure that follows.
    undelivered: Vec<(ConnId, Name)>,
    /// Files on their way, and to whom.
    sending: HashMap<ConnId, (Name, Outgoing)>,
    /// Where files sent to this station go, if anywhere.
    inbox: Option<Inbox>,
    /// `@exit` was given: stop once the goodbye is out.
    exiting: bool,
    failure: Option<Failure>,
}

impl Chat {
    fn say(&mut self, line: impl std::fmt::Display, json: Value) -> Result<(), Failure> {
        if self.json { print_json(&json) } else { self.out.line(&line.to_string()) }
    }

    fn refresh_names(&self, presence: &ChatPresence) {
        if let Ok(mut names) = self.names.lock() {
            *names = presence.table().iter().map(|peer| peer.name.to_string()).collect();
            names.sort();
            names.dedup();
        }
    }

    /// Prints a presence event; a taken name ends the chat.
    fn presence_event(&mut self, event: PresenceEvent) -> Result<(), Failure> {
        if let PresenceEvent::NameTaken { name, by } = &event {
            return Err(Failure::error(format!("the name {name} is taken by {by}: choose another with -n")));
        }
        let claimed = matches!(event, PresenceEvent::Claimed { .. });
        let event = Event::Presence(event);
        let line = describe(&event);
        let line = if claimed { format!("{line}; @help lists the commands") } else { line };
        self.say(line, event_json(&event))
    }

    fn transfer_event(&mut self, transfer: &mut ChatTransfer, event: TransferEvent<'_>) -> Result<(), Failure> {
        match event {
            TransferEvent::Incoming { conn, from, messages: false, header, .. } => {
                let refusal = match &mut self.inbox {
                    Some(inbox) => inbox.offered(conn, &from, header).err(),
                    None => Some((verdict::REFUSED, "start chat with --dir DIR to accept files".to_owned())),
                };
                match refusal {
                    Some((status, reason)) => {
                        let _ = transfer.reject(conn, status);
                        self.say(
                            format_args!("refused a file from {from}: {reason}"),
                            json!({ "event": "refused", "from": from.to_string(), "reason": reason }),
                        )
                    }
                    None => Ok(()),
                }
            }
            TransferEvent::Received { conn, data } => {
                if let Some(inbox) = &mut self.inbox {
                    inbox.received(transfer, conn, data);
                }
                Ok(())
            }
            TransferEvent::Finished { conn } => {
                match self.inbox.as_mut().and_then(|inbox| inbox.finished(transfer, conn)) {
                    Some(Arrival::Saved(f)) => self.say(
                        format_args!(
                            "[received {} from {}: {} bytes, sha256 verified -> {}]",
                            f.name, f.from, f.bytes, f.path
                        ),
                        json!({
                            "event": "file", "file": f.name, "from": f.from.to_string(), "bytes": f.bytes,
                            "sha256": f.sha256, "path": f.path,
                        }),
                    ),
                    Some(Arrival::Dropped { name, from, reason }) => self.say(
                        format_args!("[dropped {name} from {from}: {reason}]"),
                        json!({ "event": "dropped", "file": name, "from": from.to_string(), "reason": reason }),
                    ),
                    None => Ok(()),
                }
            }
            TransferEvent::Closed { conn, status } => match self.sending.remove(&conn) {
                Some((to, file)) if status == verdict::OK => self.say(
                    format_args!("[delivered {} to {to}: {} bytes, sha256 verified]", file.shown, file.size),
                    json!({ "event": "delivered", "to": to.to_string(), "file": file.shown, "bytes": file.size }),
                ),
                Some((to, file)) => self.not_sent(&to, &file, &verdict::describe(status)),
                None => Ok(()),
            },
            TransferEvent::Failed { conn, failure } => {
                if let Some((to, file)) = self.sending.remove(&conn) {
                    return self.not_sent(&to, &file, &verdict::explain(failure));
                }
                // Messages the failure took with it (reported just before).
                let (undelivered, others): (Vec<_>, Vec<_>) =
                    std::mem::take(&mut self.undelivered).into_iter().partition(|(c, _)| *c == conn);
                self.undelivered = others;
                for (_, to) in undelivered {
                    self.say(
                        format_args!("[NOT delivered to {to}: {failure}]"),
                        json!({ "event": "undelivered", "to": to.to_string(), "reason": failure.to_string() }),
                    )?;
                }
                match self.inbox.as_mut().and_then(|inbox| inbox.failed(conn)) {
                    Some((name, from)) => self.say(
                        format_args!("[transfer of {name} from {from} failed: {failure}; nothing was kept]"),
                        json!({ "event": "failed", "file": name, "from": from.to_string(), "reason": failure.to_string() }),
                    ),
                    None => Ok(()),
                }
            }
            TransferEvent::Message { from, data, .. } => self.say(
                format_args!("{from}: {}", text(data)),
                json!({ "event": "message", "from": from.to_string(), "text": super::output::json_bytes(data) }),
            ),
            TransferEvent::Delivered { id } => match self.sent.remove(&id) {
                Some(to) => {
                    self.say(format_args!("[delivered to {to}]"), json!({ "event": "delivered", "to": to.to_string() }))
                }
                None => Ok(()),
            },
            TransferEvent::Undelivered { id } => {
                if let Some(to) = self.sent.remove(&id) {
                    self.undelivered.push((id.conn, to));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn not_sent(&mut self, to: &Name, file: &Outgoing, reason: &str) -> Result<(), Failure> {
        self.say(
            format_args!("[NOT delivered {} to {to}: {reason}]", file.shown),
            json!({ "event": "undelivered", "to": to.to_string(), "file": file.shown, "reason": reason }),
        )
    }

    /// `@send NAME PATH`: offers the file; it is fed in on every poll.
    fn send_file(&mut self, transfer: &mut ChatTransfer, to: Name, path: &Path, now: Instant) -> Result<(), Failure> {
        match Outgoing::offer(transfer, &to, path, now) {
            Ok(file) => {
                let line = format!("[sending {} to {to}: {} bytes]", file.shown, file.size);
                self.sending.insert(file.conn, (to, file));
                if self.json { Ok(()) } else { self.out.line(&line) }
            }
            Err(failure) => self.out.line(&format!("cannot send: {}", failure.message)),
        }
    }

    /// Says goodbye (once); files still on their way are aborted, so their
    /// receivers keep nothing half-sent.
    fn exit(&mut self, (presence, transfer): &mut (&mut ChatPresence, &mut ChatTransfer)) {
        if self.exiting {
            return;
        }
        for (conn, (to, file)) in self.sending.drain() {
            let _ = transfer.abort(conn);
            log::warn!("{} to {to} was not finished", file.shown);
        }
        presence.leave();
        self.exiting = true;
    }

    /// Feeds the files on their way as their windows allow.
    fn feed(&mut self, transfer: &mut ChatTransfer) -> Result<(), Failure> {
        let mut broken = Vec::new();
        for (conn, (_, file)) in &mut self.sending {
            if let Err(failure) = file.feed(transfer) {
                broken.push((*conn, failure.message));
            }
        }
        for (conn, failure) in broken {
            if let Some((to, file)) = self.sending.remove(&conn) {
                self.not_sent(&to, &file, &failure)?;
            }
        }
        Ok(())
    }

    fn show_list(&mut self, presence: &ChatPresence, now: Instant) -> Result<(), Failure> {
        let table = presence.table();
        let mut peers: Vec<_> = table.iter().collect();
        peers.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()).then(a.mac.cmp(&b.mac)));
        if self.json {
            let list: Vec<Value> = peers
                .iter()
                .map(|p| {
                    json!({
                        "name": p.name.to_string(), "mac": p.mac.to_string(),
                        "last_seen_s": (now - p.last_seen).total_millis() / 1000,
                        "state": state(table.is_contested(p), p.source),
                    })
                })
                .collect();
            return print_json(&json!({ "event": "list", "stations": list }));
        }
        let width = peers.iter().map(|p| p.name.to_string().chars().count()).max().unwrap_or(4).max(4);
        self.out.line(&format!("{:<width$}  {:<17}  {:>9}  STATE", "NAME", "MAC", "LAST SEEN"))?;
        for p in &peers {
            let seen = format!("{} s ago", (now - p.last_seen).total_millis() / 1000);
            let line = format!(
                "{:<width$}  {}  {seen:>9}  {}",
                p.name.to_string(),
                p.mac,
                state(table.is_contested(p), p.source)
            );
            self.out.line(&line)?;
        }
        self.out.line(&format!("{} stations", peers.len()))
    }

    fn command<D: LinkDevice, const C: usize, const P: usize, const Q: usize>(
        &mut self,
        ctx: &mut Context<'_, D, (&mut ChatPresence, &mut ChatTransfer), C, P, Q>,
        line: &str,
    ) -> Result<(), Failure> {
        let line = line.trim();
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        match command {
            "" => Ok(()),
            "@chat" => {
                let (to, message) = rest.trim_start().split_once(' ').unwrap_or((rest.trim(), ""));
                let Ok(to) = Name::try_from(to) else {
                    return self.out.line("usage: @chat NAME text");
                };
                if message.is_empty() || message.len() > MAX_SEGMENT {
                    return self.out.line(&format!("a message is 1 to {MAX_SEGMENT} bytes"));
                }
                let now = ctx.now();
                match ctx.services().1.send_message(&to, message.as_bytes(), now) {
                    Ok(id) => {
                        self.sent.insert(id, to);
                        Ok(())
                    }
                    Err(err) => self.out.line(&format!("cannot send to {to}: {err}")),
                }
            }
            "@send" => {
                let (to, path) = rest.trim_start().split_once(' ').unwrap_or((rest.trim(), ""));
                let (Ok(to), false) = (Name::try_from(to), path.trim().is_empty()) else {
                    return self.out.line("usage: @send NAME PATH");
                };
                let now = ctx.now();
                self.send_file(ctx.services().1, to, Path::new(path.trim()), now)
            }
            "@show_list" => {
                let now = ctx.now();
                self.show_list(ctx.services().0, now)
            }
            "@exit" => {
                self.exit(ctx.services());
                Ok(())
            }
            "@help" => self.out.line(HELP),
            _ => self.out.line(&format!("unknown command {}; {HELP}", text(command.as_bytes()))),
        }
    }
}

fn state(contested: bool, source: Source) -> &'static str {
    match (contested, source) {
        (true, _) => "DUP",
        (false, Source::Announced) => "present",
        (false, Source::Resolved) => "resolved (no presence)",
    }
}

impl<'p, 't, D, const C: usize, const P: usize, const Q: usize>
    Handler<D, (&'p mut ChatPresence, &'t mut ChatTransfer), C, P, Q> for Chat
where
    D: LinkDevice,
{
    fn on_event(
        &mut self,
        ctx: &mut Context<'_, D, (&'p mut ChatPresence, &'t mut ChatTransfer), C, P, Q>,
        event: Event<'_>,
    ) {
        let outcome = match event {
            Event::Presence(event) => {
                let outcome = self.presence_event(event);
                self.refresh_names(ctx.services().0);
                outcome
            }
            Event::Transfer(event) => self.transfer_event(ctx.services().1, event),
            Event::Answered { .. } | Event::Resolved { .. } | Event::ResolutionFailed { .. } => Ok(()),
            other => {
                let value = event_json(&other);
                self.say(describe(&other), value)
            }
        };
        if let Err(failure) = outcome {
            self.failure.get_or_insert(failure);
            ctx.stop();
        }
    }

    fn on_poll(
        &mut self,
        ctx: &mut Context<'_, D, (&'p mut ChatPresence, &'t mut ChatTransfer), C, P, Q>,
    ) -> Option<Instant> {
        if self.exiting && !ctx.services().0.is_leaving() {
            ctx.stop();
            return None;
        }
        if signals::received() {
            self.exit(ctx.services());
        }
        loop {
            match self.lines.try_recv() {
                Ok(Some(line)) => {
                    if let Err(failure) = self.command(ctx, &line) {
                        self.failure.get_or_insert(failure);
                        ctx.stop();
                    }
                }
                Ok(None) | Err(TryRecvError::Disconnected) => {
                    self.exit(ctx.services());
                    break;
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        if let Err(failure) = self.feed(ctx.services().1) {
            self.failure.get_or_insert(failure);
            ctx.stop();
        }
        Some(ctx.now() + INPUT_POLL)
    }
}

/// Runs `whohas chat`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let inbox = args.dir.as_deref().map(Inbox::new).transpose()?;
    let interface = device::interface(global)?;
    let device = device::open(&interface, args.via, &Open { key: args.station.key()?, ..Open::default() })?;
    let config = PresenceConfig {
        keepalive: Duration::from_secs(args.keepalive),
        expiry: Duration::from_secs(args.expiry),
        ..PresenceConfig::default()
    };
    let mut presence: Box<ChatPresence> = Box::new(Presence::new(config, super::random_seed()));
    let mut transfer: Box<ChatTransfer> = args.transfer.service(&device);
    let mut node: Node<Device, (&mut ChatPresence, &mut ChatTransfer), CHAT_CACHE, CHAT_PENDING> =
        Node::with_services(device, args.station.name()?, args.station.config(), (&mut presence, &mut transfer));
    let (name, mac) = (node.name().clone(), node.mac_address());
    node.services_mut().0.start();
    let names = Names::default();
    let (lines, out) = read_lines(names.clone())?;
    let mut chat = Chat {
        lines,
        out,
        json: global.json,
        names,
        sent: HashMap::new(),
        undelivered: Vec::new(),
        sending: HashMap::new(),
        inbox,
        exiting: false,
        failure: None,
    };
    chat.say(
        format_args!("{name} joining on {} ({mac}): checking the name is free", interface.name),
        json!({ "event": "joining", "name": name.to_string(), "interface": interface.name, "mac": mac.to_string() }),
    )?;
    let outcome = node.run(&mut SystemClock::default(), &mut chat);
    if let Some(failure) = chat.failure.take() {
        return Err(failure);
    }
    outcome?;
    let state = node.services().0.state();
    let stats = *node.services().0.stats();
    if state == PresenceState::Left {
        chat.say(
            format_args!(
                "{} said goodbye; {} presence frames in, {} out",
                Who(Some(&name), mac),
                stats.frames_received,
                stats.frames_sent
            ),
            json!({ "event": "goodbye", "frames_in": stats.frames_received, "frames_out": stats.frames_sent }),
        )?;
    }
    Ok(())
}
