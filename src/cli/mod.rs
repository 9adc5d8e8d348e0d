//! The `whohas` command line: one module per subcommand, each with its
//! clap arguments and a `run` function, over shared pieces for options,
//! output, devices and signals. A program that depends on this crate can run
//! any subcommand ([`run`]) or reuse a handler (the responder of
//! [`respond`], the exchange of [`send`]).

pub mod chat;
pub mod decode;
pub mod device;
pub mod files;
pub mod inject;
pub mod interfaces;
pub mod keys;
pub mod output;
pub mod pingpong;
pub mod receive;
pub mod replay;
pub mod report;
pub mod resolve;
pub mod respond;
pub mod scan;
pub mod send;
pub mod signals;
pub mod synth;

use std::process::ExitCode;

use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

pub use output::{Failure, Status};

use crate::transfer::{Transfer, TransferConfig};
use crate::{Config, Duration, Name};

/// Settings of the reliable transfer.
#[derive(Args, Debug, Clone)]
pub struct TransferArgs {
    /// Give a transfer up after this many seconds without a word from the
    /// peer.
    #[arg(long, default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub dead_after: u64,
}

impl TransferArgs {
    /// A transfer service with these settings, in a box (its windows are
    /// megabytes of fixed-size fields), seeded from the operating system's
    /// random source: connection ids and first sequence numbers must not
    /// repeat across restarts.
    /// Its segments fit `device`'s frames (keyed mode's are shorter); on a
    /// jumbo link its frames carry trains of segments up to the MTU.
    pub fn service<const CONNS: usize, const WINDOW: usize>(
        &self,
        device: &impl crate::LinkDevice,
    ) -> Box<Transfer<CONNS, WINDOW>> {
        use crate::wire::transfer::{payload_for_mtu, segment_for_mtu};
        let mtu = device.capabilities().mtu;
        let config = TransferConfig {
            dead_after: Duration::from_secs(self.dead_after),
            max_segment: segment_for_mtu(mtu),
            max_payload: payload_for_mtu(mtu),
            ..TransferConfig::default()
        };
        Box::new(Transfer::new(config, random_seed()))
    }
}

/// A seed from the operating system's random source (the clock and the
/// process id if it has none).
pub fn random_seed() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        since.as_nanos() as u64 ^ u64::from(std::process::id())
    })
}

/// Shown at the end of `whohas --help` and in the man page.
pub const EXIT_STATUS: &str = "\
Exit status:
  0    success
  1    nothing found, or the peer did not answer
  2    usage or environment error (bad interface, no privilege, bad file)
  130  interrupted in the middle of an operation (a server stopped by a
       signal exits 0)";

/// Find stations on an Ethernet segment by name, talk to them, scan the LAN
/// with ARP, and replay, inject and decode captures.
#[derive(Parser, Debug)]
#[command(name = "whohas", version, propagate_version = true, after_help = EXIT_STATUS)]
pub struct Cli {
    /// Options every subcommand takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Interface to use (default: the one carrying the default route).
    #[arg(short, long, global = true, value_name = "IF")]
    pub interface: Option<String>,
    /// Print tables and events as JSON, one object per line.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log more: -v info, -vv debug, -vvv trace (RUST_LOG overrides).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Log errors only, and print no progress.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// List interfaces with their MAC, MTU, state and IPv4 addresses.
    Interfaces,
    /// Answer name-ARP requests for a name, and print the messages received.
    Respond(respond::Args),
    /// Find a station's MAC address by its name.
    Resolve(resolve::Args),
    /// Send a message or a file to a station by name, reliably.
    Send(send::Args),
    /// Receive files and messages sent reliably, into a directory.
    Receive(receive::Args),
    /// Chat with the stations on the segment; see who is around.
    Chat(chat::Args),
    /// Find the hosts of an IPv4 subnet with ARP, like arp-scan.
    Scan(scan::Args),
    /// Run a station over a capture file and record its answers.
    Replay(replay::Args),
    /// Send the frames of a capture onto an interface, like tcpreplay.
    Inject(inject::Args),
    /// Print a capture one line per frame, like tshark.
    Decode(decode::Args),
    /// Write a key for keyed mode (--key-file).
    Keygen(keys::KeygenArgs),
    /// Change a group's key without downtime: add, promote, retire.
    Rotate(keys::RotateArgs),
    /// Measure the round-trip time of data frames.
    Pingpong(pingpong::Args),
    /// Write synthetic captures, for benchmarks, floods and tests.
    Synth(synth::Args),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: Shell,
    },
    /// Write the man pages (whohas.1 and one per subcommand).
    Manpage {
        /// Directory to write them to.
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
    },
}

/// The identity and resolution settings of a station, for subcommands that
/// act as one.
#[derive(Args, Debug, Clone)]
pub struct Station {
    /// This station's name (1 to 64 bytes); without it, the host name up
    /// to its first dot, as Avahi names a host.
    #[arg(short, long)]
    pub name: Option<Name>,
    /// name-ARP requests before giving up on a peer.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..))]
    pub attempts: u8,
    /// Milliseconds between requests.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub interval_ms: u64,
    /// Keyed mode: authenticate every whohas frame with this pre-shared key
    /// (from `whohas keygen`); frames without a valid tag are dropped. The
    /// file is read again at SIGHUP (see `whohas rotate`).
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<std::path::PathBuf>,
}

impl Station {
    /// The station's name: `--name`, or else the host's.
    pub fn name(&self) -> Result<Name, Failure> {
        match &self.name {
            Some(name) => Ok(name.clone()),
            None => host_station_name(),
        }
    }

    /// The key file of keyed mode, if one was given.
    pub fn key(&self) -> Result<Option<keys::KeyFile>, Failure> {
        self.key_file.as_deref().map(keys::KeyFile::read).transpose()
    }

    /// The node configuration these settings give.
    pub fn config(&self) -> Config {
        Config {
            max_attempts: self.attempts,
            retry_interval: Duration::from_millis(self.interval_ms),
            ..Config::default()
        }
    }
}

/// The host name up to its first dot, as a station name.
fn host_station_name() -> Result<Name, Failure> {
    let host = nix::unistd::gethostname()
        .map_err(|err| Failure::error(format!("cannot read the host name ({err}): give a name with -n NAME")))?;
    let host = host.to_string_lossy();
    let label = host.split('.').next().unwrap_or_default();
    Name::try_from(label).map_err(|_| {
        Failure::error(format!(
            "the host name \"{}\" gives no station name (1 to 64 bytes before its first dot): give one with -n NAME",
            crate::wire::Escaped::new(host.as_bytes())
        ))
    })
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let global = &cli.global;
    match cli.command {
        Command::Interfaces => interfaces::run(global),
        Command::Respond(args) => respond::run(global, &args),
        Command::Resolve(args) => resolve::run(global, &args),
        Command::Send(args) => send::run(global, &args),
        Command::Receive(args) => receive::run(global, &args),
        Command::Chat(args) => chat::run(global, &args),
        Command::Scan(args) => scan::run(global, &args),
        Command::Replay(args) => replay::run(global, &args),
        Command::Inject(args) => inject::run(global, &args),
        Command::Decode(args) => decode::run(global, &args),
        Command::Pingpong(args) => pingpong::run(global, &args),
        Command::Keygen(args) => keys::keygen(global, &args),
        Command::Rotate(args) => keys::rotate(global, &args),
        Command::Synth(args) => synth::run(&args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "whohas", &mut std::io::stdout());
            Ok(())
        }
        Command::Manpage { dir } => write_manpages(&dir),
    }
}

/// Writes `whohas.1` and `whohas-SUBCOMMAND.1` into `dir`.
pub fn write_manpages(dir: &std::path::Path) -> Result<(), Failure> {
    let command = Cli::command();
    let write = |name: String, page: clap::Command| -> Result<(), Failure> {
        let mut bytes = Vec::new();
        clap_mangen::Man::new(page).render(&mut bytes)?;
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, bytes).map_err(|err| Failure::error(format!("cannot write {}: {err}", path.display())))
    };
    for sub in command.get_subcommands().filter(|sub| sub.get_name() != "help") {
        let name = format!("whohas-{}", sub.get_name());
        write(name.clone(), sub.clone().name(name))?;
    }
    write("whohas".to_owned(), command)
}

/// Sets up logging from `-v`/`-q` (or `RUST_LOG`).
fn init_logging(global: &Global) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level)).init();
}

/// The stack of the thread a command runs on: a node hosting the transfer
/// is megabytes of fixed-size fields, built in place.
const COMMAND_STACK: usize = 64 << 20;

/// The program: parses the command line, runs it, and turns the outcome
/// into an exit status with a one-line message on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.global);
    signals::install();
    // A signal must interrupt the command thread's wait, not this one's join.
    signals::keep_away();
    let command = std::thread::Builder::new().name("whohas".to_owned()).stack_size(COMMAND_STACK).spawn(move || {
        signals::receive_here();
        run(cli)
    });
    let outcome = match command.map(std::thread::JoinHandle::join) {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Err(Failure::error("internal error: the command panicked")),
        Err(err) => Err(Failure::error(format!("cannot start the command: {err}"))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("whohas"),
    }
}
