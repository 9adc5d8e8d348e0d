//! `whohas receive`: accepts reliable transfers. Files go to a directory:
//! written under a temporary name, checked against the size and SHA-256 the
//! sender offered, then linked under their own name (never over an existing
//! file, never outside the directory) and the sender told the verdict.
//! Messages are printed. One line per file or message; until SIGINT/SIGTERM.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use super::device::{self, Device, Open, Via};
use super::output::{Who, describe, json_bytes, print_json, print_line, text};
use super::{Failure, Global, ReceiverTransfer, Station, TransferArgs, signals};
use crate::file_offer::{FileOffer, OfferError, hex, verdict};
use crate::host::SystemClock;
use crate::node::{Context, Event, Node};
use crate::runtime::Handler;
use crate::transfer::{ConnId, Transfer, TransferEvent};
use crate::wire::Escaped;
use crate::{EthernetAddress, Instant, LinkDevice, Name};

/// `whohas receive` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Who this station is.
    #[command(flatten)]
    pub station: Station,
    /// Where received files go.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Accept transfers only from these stations.
    #[arg(long, value_delimiter = ',', value_name = "NAME[,NAME...]")]
    pub accept: Vec<Name>,
    /// Transfer settings.
    #[command(flatten)]
    pub transfer: TransferArgs,
    /// How frames reach the interface.
    #[arg(long, value_enum, default_value_t)]
    pub via: Via,
}

/// A file on its way in.
struct Incoming {
    from: Name,
    offer: FileOffer,
    temp: PathBuf,
    file: BufWriter<File>,
    hasher: Sha256,
    received: u64,
    started: std::time::Instant,
}

/// Saves `temp` in `dir` as `name`, or `name.1`, `name.2`… if taken:
/// linked, so an existing file is never replaced, then `temp` removed.
fn save(temp: &Path, dir: &Path, name: &[u8]) -> io::Result<PathBuf> {
    for n in 0u32.. {
        let mut candidate = name.to_vec();
        if n > 0 {
            candidate.extend_from_slice(format!(".{n}").as_bytes());
        }
        let path = dir.join(std::ffi::OsStr::from_bytes(&candidate));
        match fs::hard_link(temp, &path) {
            Ok(()) => {
                fs::remove_file(temp)?;
                File::open(dir)?.sync_all()?;
                return Ok(path);
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::other("no free name"))
}

/// The receiving application.
struct Receiver<'a> {
    dir: &'a Path,
    accept: &'a [Name],
    json: bool,
    files: HashMap<ConnId, Incoming>,
    saved: u64,
    messages: u64,
    failure: Option<Failure>,
}

impl Receiver<'_> {
    fn say(&self, line: impl std::fmt::Display, value: serde_json::Value) -> Result<(), Failure> {
        if self.json { print_json(&value) } else { print_line(line) }
    }

    /// A transfer is offered: accept it (a file gets a temporary file) or
    /// return the status to refuse it with.
    fn offered(
        &mut self,
        conn: ConnId,
        from: &Name,
        mac: EthernetAddress,
        messages: bool,
        header: &[u8],
    ) -> Result<u16, Failure> {
        let who = Who(Some(from), mac);
        if !self.accept.is_empty() && !self.accept.contains(from) {
            self.say(
                format_args!("refused a transfer from {who}: not in --accept"),
                json!({ "event": "refused", "from": from.to_string(), "reason": "not accepted" }),
            )?;
            return Ok(verdict::REFUSED);
        }
        if messages {
            return Ok(verdict::OK);
        }
        let offer = match FileOffer::parse(header) {
            Ok(offer) => offer,
            Err(err) => {
                self.say(
                    format_args!("refused a transfer from {who}: {err} ({})", text(header)),
                    json!({ "event": "refused", "from": from.to_string(), "reason": err.to_string() }),
                )?;
                return Ok(if err == OfferError::BadName { verdict::BAD_NAME } else { verdict::BAD_OFFER });
            }
        };
        let temp = self.dir.join(format!(".whohas-{}-{}.part", std::process::id(), conn));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => {
                let incoming = Incoming {
                    from: from.clone(),
                    offer,
                    temp,
                    file: BufWriter::with_capacity(256 * 1024, file),
                    hasher: Sha256::new(),
                    received: 0,
                    started: std::time::Instant::now(),
                };
                self.files.insert(conn, incoming);
                Ok(verdict::OK)
            }
            Err(err) => {
                log::warn!("cannot create {}: {err}", temp.display());
                Ok(verdict::CANNOT_SAVE)
            }
        }
    }

    /// The whole file is in: verify and keep it, or drop it; the verdict.
    fn finished(&mut self, conn: ConnId) -> Result<u16, Failure> {
        let Some(mut f) = self.files.remove(&conn) else { return Ok(verdict::OK) };
        let name = Escaped::new(&f.offer.name).to_string();
        let digest: [u8; 32] = std::mem::take(&mut f.hasher).finalize().into();
        let written = f.file.flush().and_then(|()| f.file.get_ref().sync_all());
        if f.received != f.offer.size || digest != f.offer.sha256 {
            let _ = fs::remove_file(&f.temp);
            self.say(
                format_args!(
                    "dropped {name} from {}: {} bytes with SHA-256 {} instead of {} bytes with {}",
                    f.from,
                    f.received,
                    hex(&digest),
                    f.offer.size,
                    hex(&f.offer.sha256)
                ),
                json!({ "event": "dropped", "file": name, "from": f.from.to_string(), "reason": "hash mismatch" }),
            )?;
            return Ok(verdict::HASH_MISMATCH);
        }
        let saved = written.and_then(|()| save(&f.temp, self.dir, &f.offer.name));
        let path = match saved {
            Ok(path) => path,
            Err(err) => {
                let _ = fs::remove_file(&f.temp);
                self.say(
                    format_args!("cannot save {name} from {}: {err}", f.from),
                    json!({ "event": "dropped", "file": name, "from": f.from.to_string(), "reason": err.to_string() }),
                )?;
                return Ok(verdict::CANNOT_SAVE);
            }
        };
        self.saved += 1;
        let seconds = f.started.elapsed().as_secs_f64().max(1e-6);
        let rate = f.received as f64 / seconds / 1e6;
        let shown = Escaped::new(path.as_os_str().as_bytes());
        self.say(
            format_args!(
                "received {name} from {}: {} bytes in {seconds:.3} s, {rate:.1} MB/s, sha256 {} -> {shown}",
                f.from,
                f.received,
                hex(&digest)
            ),
            json!({
                "event": "file", "file": name, "from": f.from.to_string(), "bytes": f.received, "seconds": seconds,
                "mb_per_s": rate, "sha256": hex(&digest), "path": shown.to_string(),
            }),
        )?;
        Ok(verdict::OK)
    }

    fn handle<const NC: usize, const W: usize>(
        &mut self,
        transfer: &mut Transfer<NC, W>,
        event: TransferEvent<'_>,
    ) -> Result<(), Failure> {
        match event {
            TransferEvent::Incoming { conn, from, mac, messages, header } => {
                let status = self.offered(conn, &from, mac, messages, header)?;
                if status != verdict::OK {
                    let _ = transfer.reject(conn, status);
                }
            }
            TransferEvent::Received { conn, data } => {
                if let Some(f) = self.files.get_mut(&conn) {
                    f.received += data.len() as u64;
                    f.hasher.update(data);
                    if f.received > f.offer.size || f.file.write_all(data).is_err() {
                        // More than offered, or the disk is full: give up now.
                        let f = self.files.remove(&conn).expect("just found");
                        let _ = fs::remove_file(&f.temp);
                        let _ = transfer.close(
                            conn,
                            if f.received > f.offer.size { verdict::HASH_MISMATCH } else { verdict::CANNOT_SAVE },
                        );
                    }
                }
            }
            TransferEvent::Message { from, data, .. } => {
                self.messages += 1;
                self.say(
                    format_args!("message from {from}: {}", text(data)),
                    json!({ "event": "message", "from": from.to_string(), "payload": json_bytes(data) }),
                )?;
            }
            TransferEvent::Finished { conn } => {
                let status = self.finished(conn)?;
                let _ = transfer.close(conn, status);
            }
            TransferEvent::Failed { conn, failure } => {
                if let Some(f) = self.files.remove(&conn) {
                    let _ = fs::remove_file(&f.temp);
                    let name = Escaped::new(&f.offer.name).to_string();
                    self.say(
                        format_args!("transfer of {name} from {} failed: {failure}; nothing was kept", f.from),
                        json!({ "event": "failed", "file": name, "from": f.from.to_string(), "reason": failure.to_string() }),
                    )?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl<'t, D, const NC: usize, const W: usize, const C: usize, const P: usize, const Q: usize>
    Handler<D, &'t mut Transfer<NC, W>, C, P, Q> for Receiver<'_>
where
    D: LinkDevice,
{
    fn on_event(&mut self, ctx: &mut Context<'_, D, &'t mut Transfer<NC, W>, C, P, Q>, event: Event<'_>) {
        let outcome = match event {
            Event::Transfer(event) => self.handle(ctx.services(), event),
            Event::Answered { .. } => Ok(()),
            other => self.say(describe(&other), super::output::event_json(&other)),
        };
        if let Err(failure) = outcome {
            self.failure.get_or_insert(failure);
            ctx.stop();
        }
    }

    fn on_poll(&mut self, ctx: &mut Context<'_, D, &'t mut Transfer<NC, W>, C, P, Q>) -> Option<Instant> {
        if signals::received() {
            ctx.stop();
        }
        None
    }
}

impl Drop for Receiver<'_> {
    /// Files still on their way when the program stops are not kept.
    fn drop(&mut self) {
        for f in self.files.values() {
            let _ = fs::remove_file(&f.temp);
        }
    }
}

/// Runs `whohas receive`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    match fs::metadata(&args.dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(Failure::error(format!("{} is not a directory", args.dir.display()))),
        Err(err) => return Err(Failure::error(format!("cannot use {}: {err}", args.dir.display()))),
    }
    let interface = device::interface(global)?;
    let device = device::open(&interface, args.via, &Open::default())?;
    let mut transfer: Box<ReceiverTransfer> = args.transfer.service();
    let mut node: Node<Device, &mut ReceiverTransfer> =
        Node::with_services(device, args.station.name.clone(), args.station.config(), &mut transfer);
    let (name, mac) = (node.name().clone(), node.mac_address());
    let mut receiver = Receiver {
        dir: &args.dir,
        accept: &args.accept,
        json: global.json,
        files: HashMap::new(),
        saved: 0,
        messages: 0,
        failure: None,
    };
    receiver.say(
        format_args!("{name} receiving on {} ({mac}) into {}", interface.name, args.dir.display()),
        json!({ "event": "listening", "name": name.to_string(), "interface": interface.name, "mac": mac.to_string() }),
    )?;
    let outcome = node.run(&mut SystemClock::default(), &mut receiver);
    if let Some(failure) = receiver.failure.take() {
        return Err(failure);
    }
    outcome?;
    let stats = *node.services().stats();
    receiver.say(
        format_args!(
            "stats: {} files saved, {} messages; {} frames in, {} out, {} checksum failures",
            receiver.saved, receiver.messages, stats.frames_received, stats.frames_sent, stats.rx_checksum
        ),
        json!({ "event": "stats", "files": receiver.saved, "messages": receiver.messages, "frames_in": stats.frames_received, "frames_out": stats.frames_sent }),
    )
}
