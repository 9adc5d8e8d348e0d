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

use super::device::{self, Device, Open, Via};
use super::files::{Inbox, Outgoing, Reception};
use super::output::{print_line, text};
use super::report::{Listed, Report};
use super::{Failure, Global, Station, TransferArgs, signals};
use crate::file_offer::verdict;
use crate::host::{SystemClock, WaitMode};
use crate::node::Node;
use crate::presence::{Presence, PresenceConfig, PresenceEvent, PresenceState, Source};
use crate::runtime::{Context, Handler};
use crate::service::Either;
use crate::station::Event;
use crate::storage::{ChatPresence, ChatTransfer, HostResources};
use crate::transfer::{ConnId, MAX_SEGMENT, MessageId, TransferEvent};
use crate::{Duration, Instant, Name};

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
    #[arg(long, default_value_t = 45, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(2..=65535))]
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

/// The services a chat hosts: presence, and the transfer.
type Hosted<'p, 't> = (&'p mut ChatPresence, &'t mut ChatTransfer);

struct Chat {
    lines: Receiver<Option<String>>,
    out: Output,
    json: bool,
    names: Names,
    /// What other stations send: messages, and files (kept only with --dir).
    reception: Reception,
    /// Messages on their way: to whom, and how long.
    sent: HashMap<MessageId, (Name, usize)>,
    /// Messages that will not arrive, reported with their connection's
    /// failure that follows.
    undelivered: Vec<(ConnId, Name)>,
    /// Files on their way, and to whom.
    sending: HashMap<ConnId, (Name, Outgoing)>,
    /// `@exit` was given: stop once the goodbye is out.
    exiting: bool,
    failure: Option<Failure>,
}

impl Chat {
    /// Shows a report: a JSON line, or a line of the room (a message as
    /// `NAME: text`, the outcome of a transfer as a mark in brackets).
    fn say(&mut self, report: &Report) -> Result<(), Failure> {
        if self.json {
            return report.print(true);
        }
        let line = match report {
            Report::Message { from, payload } => format!("{from}: {}", payload.line()),
            Report::Delivered { to, file: None, .. } => format!("[delivered to {to}]"),
            Report::Claimed { .. } => format!("{report}; @help lists the commands"),
            mark if mark.is_mark() => format!("[{report}]"),
            other => other.to_string(),
        };
        self.out.line(&line)
    }

    fn refresh_names(&self, presence: &ChatPresence) {
        if let Ok(mut names) = self.names.lock() {
            *names = presence.table().iter().map(|peer| peer.name.to_string()).collect();
            names.sort();
            names.dedup();
        }
    }

    /// Shows a presence event; a taken name ends the chat.
    fn presence_event(&mut self, event: PresenceEvent) -> Result<(), Failure> {
        if let PresenceEvent::NameTaken { name, by } = &event {
            return Err(Failure::error(format!("the name {name} is taken by {by}: choose another with -n")));
        }
        self.say(&event.into())
    }

    /// Shows what a transfer event means: for what this station sends, a
    /// mark; for what it receives, what its reception makes of it.
    fn transfer_event(&mut self, transfer: &mut ChatTransfer, event: TransferEvent<'_>) -> Result<(), Failure> {
        let outgoing = match event {
            TransferEvent::Closed { conn, status } => self.sending.remove(&conn).map(|(to, file)| match status {
                verdict::OK => Report::Delivered {
                    to: to.to_string(),
                    mac: None,
                    file: Some(file.shown),
                    bytes: file.size,
                    seconds: None,
                    mb_per_s: None,
                    retransmits: None,
                    timeouts: None,
                    spurious: None,
                    sha256: None,
                },
                code => not_sent(&to, &file, verdict::describe(code)),
            }),
            TransferEvent::Failed { conn, failure } => {
                if let Some((to, file)) = self.sending.remove(&conn) {
                    return self.say(&not_sent(&to, &file, verdict::explain(failure)));
                }
                // Messages the failure took with it (reported just before).
                let (undelivered, others): (Vec<_>, Vec<_>) =
                    std::mem::take(&mut self.undelivered).into_iter().partition(|(c, _)| *c == conn);
                self.undelivered = others;
                for (_, to) in undelivered {
                    let reason = verdict::explain(failure);
                    self.say(&Report::Undelivered { to: to.to_string(), file: None, reason })?;
                }
                None
            }
            TransferEvent::Delivered { id } => self.sent.remove(&id).map(|(to, len)| Report::Delivered {
                to: to.to_string(),
                mac: None,
                file: None,
                bytes: len as u64,
                seconds: None,
                mb_per_s: None,
                retransmits: None,
                timeouts: None,
                spurious: None,
                sha256: None,
            }),
            TransferEvent::Undelivered { id } => {
                if let Some((to, _)) = self.sent.remove(&id) {
                    self.undelivered.push((id.conn, to));
                }
                None
            }
            _ => None,
        };
        match outgoing.or_else(|| self.reception.handle(transfer, &event)) {
            Some(report) => self.say(&report),
            None => Ok(()),
        }
    }

    /// `@send NAME PATH`: offers the file; it is fed in on every poll.
    fn send_file(&mut self, transfer: &mut ChatTransfer, to: Name, path: &Path, now: Instant) -> Result<(), Failure> {
        match Outgoing::offer(transfer, &to, path, now) {
            Ok(file) => {
                let sending = Report::Sending { to: to.to_string(), file: file.shown.clone(), bytes: file.size };
                self.sending.insert(file.conn, (to, file));
                self.say(&sending)
            }
            Err(failure) => self.out.line(&format!("cannot send: {}", failure.message)),
        }
    }

    /// Says goodbye (once); files still on their way are aborted, so their
    /// receivers keep nothing half-sent.
    fn exit(&mut self, (presence, transfer): &mut Hosted<'_, '_>) {
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
                self.say(&not_sent(&to, &file, failure))?;
            }
        }
        Ok(())
    }

    fn show_list(&mut self, presence: &ChatPresence, now: Instant) -> Result<(), Failure> {
        let table = presence.table();
        let mut peers: Vec<_> = table.iter().collect();
        peers.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()).then(a.mac.cmp(&b.mac)));
        let stations = peers
            .iter()
            .map(|p| Listed {
                name: p.name.to_string(),
                mac: p.mac.to_string(),
                last_seen_s: (now - p.last_seen).total_millis() / 1000,
                state: state(table.is_contested(p), p.source),
            })
            .collect();
        self.say(&Report::List { stations })
    }

    fn command(&mut self, ctx: &mut Context<'_, Device, Hosted<'_, '_>>, line: &str) -> Result<(), Failure> {
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
                        self.sent.insert(id, (to, message.len()));
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

/// A message or a file that did not arrive.
fn not_sent(to: &Name, file: &Outgoing, reason: String) -> Report {
    Report::Undelivered { to: to.to_string(), file: Some(file.shown.clone()), reason }
}

impl<'p, 't> Handler<Device, Hosted<'p, 't>> for Chat {
    fn on_event(
        &mut self,
        ctx: &mut Context<'_, Device, Hosted<'p, 't>>,
        event: Event<'_, Either<PresenceEvent, TransferEvent<'_>>>,
    ) {
        let outcome = match event {
            Event::Service(Either::Left(event)) => {
                let outcome = self.presence_event(event);
                self.refresh_names(ctx.services().0);
                outcome
            }
            Event::Service(Either::Right(event)) => self.transfer_event(ctx.services().1, event),
            Event::Answered { .. } | Event::Resolved { .. } | Event::ResolutionFailed { .. } => Ok(()),
            other => match other.node_event() {
                Ok(own) => {
                    let report = Report::of(own, &ctx.name().clone());
                    self.say(&report)
                }
                Err(_) => Ok(()),
            },
        };
        if let Err(failure) = outcome {
            self.failure.get_or_insert(failure);
            ctx.stop();
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, Device, Hosted<'p, 't>>) -> Option<Instant> {
        if self.exiting && !ctx.services().0.is_leaving() {
            ctx.stop();
            return None;
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
    let device =
        device::open(&interface, args.via, &Open { key: args.station.key()?, json: global.json, ..Open::default() })?;
    let config = PresenceConfig {
        keepalive: Duration::from_secs(args.keepalive),
        expiry: Duration::from_secs(args.expiry),
        ..PresenceConfig::default()
    };
    let mut presence: Box<ChatPresence> = Box::new(Presence::new(config, super::random_seed()));
    let mut transfer: Box<ChatTransfer> = args.transfer.service(&device);
    let mut resources = HostResources::new();
    let mut node: Node<Device, Hosted<'_, '_>> = Node::with_services(
        device,
        args.station.name()?,
        args.station.config(),
        &mut resources,
        (&mut presence, &mut transfer),
    );
    let (name, mac) = (node.name().clone(), node.mac_address());
    node.services_mut().0.start();
    let names = Names::default();
    let (lines, out) = read_lines(names.clone())?;
    let mut chat = Chat {
        lines,
        out,
        json: global.json,
        names,
        reception: Reception::new(inbox.ok_or("start chat with --dir DIR to accept files"), Vec::new()),
        sent: HashMap::new(),
        undelivered: Vec::new(),
        sending: HashMap::new(),
        exiting: false,
        failure: None,
    };
    chat.say(&Report::Joining { name: name.to_string(), interface: interface.name.clone(), mac: mac.to_string() })?;
    let mut outcome = node.run(&mut signals::clock(WaitMode::Block), &mut chat);
    if outcome.is_ok() && chat.failure.is_none() && !chat.exiting {
        // A signal ended the loop: say goodbye before leaving, on a clock
        // no signal stops (leaving ends by itself, after the last GOODBYE).
        chat.exit(node.services_mut());
        outcome = node.run(&mut SystemClock::new(WaitMode::Block), &mut chat);
    }
    if let Some(failure) = chat.failure.take() {
        return Err(failure);
    }
    outcome?;
    let state = node.services().0.state();
    let stats = *node.services().0.stats();
    if state == PresenceState::Left {
        chat.say(&Report::Goodbye {
            name: name.to_string(),
            mac: mac.to_string(),
            frames_in: stats.frames_received,
            frames_out: stats.frames_sent,
        })?;
    }
    Ok(())
}
