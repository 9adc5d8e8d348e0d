//! Files over the reliable transfer, shared by `whohas send --file`,
//! `whohas receive` and chat: a [`Reception`] takes what is sent to a
//! station (messages, and files into an [`Inbox`]); an [`Outgoing`] file is offered
//! (name, size, SHA-256 in the stream's opening header) and fed into the
//! stream as its window allows; an [`Inbox`] writes incoming files under a
//! temporary name, checks them against their offer, and links them under
//! their own name, never over an existing file and never outside its
//! directory.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use super::Failure;
use super::report::{Report, WireBytes};
use crate::file_offer::{FileOffer, OfferError, hex, verdict};
use crate::transfer::{ConnId, Transfer, TransferEvent};
use crate::wire::Escaped;
use crate::{Instant, Name};

/// The size and SHA-256 of the file at `path`.
fn digest(path: &Path) -> Result<(u64, [u8; 32]), Failure> {
    let cannot = |err: io::Error| Failure::error(format!("cannot read {}: {err}", path.display()));
    let mut file = File::open(path).map_err(cannot)?;
    let (mut hasher, mut buffer, mut size) = (Sha256::new(), vec![0u8; 1 << 16], 0u64);
    loop {
        let n = file.read(&mut buffer).map_err(cannot)?;
        if n == 0 {
            return Ok((size, hasher.finalize().into()));
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
}

/// A file on its way out: offered on a stream of its own, then fed into it.
pub struct Outgoing {
    /// The stream carrying it.
    pub conn: ConnId,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 the receiver checks.
    pub sha256: [u8; 32],
    /// Its path, escaped for a terminal.
    pub shown: String,
    reader: File,
    chunk: Vec<u8>,
    pos: usize,
    len: usize,
    read: u64,
    finished: bool,
}

impl Outgoing {
    /// Hashes the file at `path` and offers it to `peer` on a new stream of
    /// `transfer`.
    pub fn offer<const NC: usize, const W: usize>(
        transfer: &mut Transfer<NC, W>,
        peer: &Name,
        path: &Path,
        now: Instant,
    ) -> Result<Outgoing, Failure> {
        if path.is_dir() {
            return Err(Failure::error(format!("{} is a directory; give a file", path.display())));
        }
        let (size, sha256) = digest(path)?;
        let name = path.file_name().map(|name| name.as_bytes().to_vec()).unwrap_or_default();
        let header = FileOffer { size, sha256, name }.encode()?;
        let reader =
            File::open(path).map_err(|err| Failure::error(format!("cannot read {}: {err}", path.display())))?;
        let conn = transfer.open(peer, &header, now)?;
        Ok(Outgoing {
            conn,
            size,
            sha256,
            shown: Escaped::new(path.as_os_str().as_bytes()).to_string(),
            reader,
            chunk: vec![0u8; 1 << 16],
            pos: 0,
            len: 0,
            read: 0,
            finished: false,
        })
    }

    /// Writes what the window takes; finishes the stream after the last
    /// byte. On an error the stream is aborted.
    pub fn feed<const NC: usize, const W: usize>(&mut self, transfer: &mut Transfer<NC, W>) -> Result<(), Failure> {
        let outcome = self.feed_unchecked(transfer);
        if outcome.is_err() {
            let _ = transfer.abort(self.conn);
        }
        outcome
    }

    fn feed_unchecked<const NC: usize, const W: usize>(
        &mut self,
        transfer: &mut Transfer<NC, W>,
    ) -> Result<(), Failure> {
        while !self.finished {
            if self.pos == self.len {
                let n = self
                    .reader
                    .read(&mut self.chunk)
                    .map_err(|err| Failure::error(format!("reading {}: {err}", self.shown)))?;
                self.read += n as u64;
                if n == 0 {
                    if self.read != self.size {
                        return Err(Failure::error(format!("{} changed while it was being sent", self.shown)));
                    }
                    transfer.finish(self.conn)?;
                    self.finished = true;
                    break;
                }
                (self.pos, self.len) = (0, n);
            }
            let taken = transfer.write(self.conn, &self.chunk[self.pos..self.len])?;
            self.pos += taken;
            if taken == 0 {
                break;
            }
        }
        Ok(())
    }
}

/// A file on its way in.
struct Incoming {
    from: Name,
    offer: FileOffer,
    /// Removed when dropped: a file not kept leaves nothing behind.
    file: BufWriter<NamedTempFile>,
    hasher: Sha256,
    received: u64,
    started: std::time::Instant,
}

/// A file that arrived whole and was kept.
#[derive(Debug)]
pub struct Saved {
    /// Who sent it.
    pub from: Name,
    /// The name it was offered under, escaped for a terminal.
    pub name: String,
    /// Its size.
    pub bytes: u64,
    /// Seconds from the offer to the last byte.
    pub seconds: f64,
    /// Its SHA-256, in hex.
    pub sha256: String,
    /// Where it was kept, escaped for a terminal.
    pub path: String,
}

/// What became of an incoming file.
#[derive(Debug)]
pub enum Arrival {
    /// Verified and kept.
    Saved(Saved),
    /// Not kept: the file's name (escaped), its sender, and why.
    Dropped {
        /// The offered name, escaped.
        name: String,
        /// Who sent it.
        from: Name,
        /// Why it was not kept.
        reason: String,
    },
}

/// Incoming files, written into one directory.
pub struct Inbox {
    dir: PathBuf,
    files: HashMap<ConnId, Incoming>,
}

impl Inbox {
    /// An inbox writing into `dir`, which must be a directory.
    pub fn new(dir: &Path) -> Result<Inbox, Failure> {
        match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => Ok(Inbox { dir: dir.to_owned(), files: HashMap::new() }),
            Ok(_) => Err(Failure::error(format!("{} is not a directory", dir.display()))),
            Err(err) => Err(Failure::error(format!("cannot use {}: {err}", dir.display()))),
        }
    }

    /// The directory files go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A file is offered on `conn`: accepted (a temporary file waits for
    /// it), or the status to refuse it with and why.
    pub fn offered(&mut self, conn: ConnId, from: &Name, header: &[u8]) -> Result<(), (u16, String)> {
        let offer = FileOffer::parse(header).map_err(|err| {
            let status = if err == OfferError::BadName { verdict::BAD_NAME } else { verdict::BAD_OFFER };
            (status, format!("{err} ({})", Escaped::new(header)))
        })?;
        let file =
            tempfile::Builder::new().prefix(".whohas-").suffix(".part").tempfile_in(&self.dir).map_err(|err| {
                log::warn!("cannot create a temporary file in {}: {err}", self.dir.display());
                (verdict::CANNOT_SAVE, format!("cannot create a file in {}: {err}", self.dir.display()))
            })?;
        let incoming = Incoming {
            from: from.clone(),
            offer,
            file: BufWriter::with_capacity(256 * 1024, file),
            hasher: Sha256::new(),
            received: 0,
            started: std::time::Instant::now(),
        };
        self.files.insert(conn, incoming);
        Ok(())
    }

    /// Bytes of `conn` arrived. More than offered, or a full disk, gives the
    /// file up at once and closes the stream with the verdict.
    pub fn received<const NC: usize, const W: usize>(
        &mut self,
        transfer: &mut Transfer<NC, W>,
        conn: ConnId,
        data: &[u8],
    ) {
        let Some(f) = self.files.get_mut(&conn) else { return };
        f.received += data.len() as u64;
        f.hasher.update(data);
        let status = if f.received > f.offer.size {
            verdict::HASH_MISMATCH
        } else if f.file.write_all(data).is_err() {
            verdict::CANNOT_SAVE
        } else {
            return;
        };
        self.failed(conn);
        let _ = transfer.close(conn, status);
    }

    /// The whole of `conn` is in: the file is verified and kept, or
    /// dropped; the stream is closed with the verdict. `None` if `conn` was
    /// not a file of this inbox.
    pub fn finished<const NC: usize, const W: usize>(
        &mut self,
        transfer: &mut Transfer<NC, W>,
        conn: ConnId,
    ) -> Option<Arrival> {
        let f = self.files.remove(&conn)?;
        let name = Escaped::new(&f.offer.name).to_string();
        let digest: [u8; 32] = f.hasher.finalize().into();
        let written = f.file.into_inner().map_err(|err| err.into_error()).and_then(|temp| {
            temp.as_file().sync_all()?;
            Ok(temp)
        });
        let (status, arrival) = if f.received != f.offer.size || digest != f.offer.sha256 {
            let reason = format!(
                "{} bytes with SHA-256 {} instead of {} bytes with {}",
                f.received,
                hex(&digest),
                f.offer.size,
                hex(&f.offer.sha256)
            );
            (verdict::HASH_MISMATCH, Arrival::Dropped { name, from: f.from.clone(), reason })
        } else {
            match written.and_then(|temp| save(temp, &self.dir, &f.offer.name)) {
                Ok(path) => (
                    verdict::OK,
                    Arrival::Saved(Saved {
                        from: f.from.clone(),
                        name,
                        bytes: f.received,
                        seconds: f.started.elapsed().as_secs_f64().max(1e-6),
                        sha256: hex(&digest),
                        path: Escaped::new(path.as_os_str().as_bytes()).to_string(),
                    }),
                ),
                Err(err) => (
                    verdict::CANNOT_SAVE,
                    Arrival::Dropped { name, from: f.from.clone(), reason: format!("cannot save it: {err}") },
                ),
            }
        };
        let _ = transfer.close(conn, status);
        Some(arrival)
    }

    /// `conn` failed: its file is not kept. Its name (escaped) and sender,
    /// if it was a file of this inbox.
    pub fn failed(&mut self, conn: ConnId) -> Option<(String, Name)> {
        // Dropped, its temporary file is removed (as are those of files
        // still on their way when the program stops).
        let f = self.files.remove(&conn)?;
        Some((Escaped::new(&f.offer.name).to_string(), f.from))
    }
}

/// Keeps `temp` in `dir` as `name`, or `name.1`, `name.2`… if taken: never
/// over an existing file (`persist_noclobber`), and durably (the directory
/// is synced).
fn save(mut temp: NamedTempFile, dir: &Path, name: &[u8]) -> io::Result<PathBuf> {
    for n in 0u32.. {
        let mut candidate = name.to_vec();
        if n > 0 {
            candidate.extend_from_slice(format!(".{n}").as_bytes());
        }
        let path = dir.join(std::ffi::OsStr::from_bytes(&candidate));
        match temp.persist_noclobber(&path) {
            Ok(_) => {
                File::open(dir)?.sync_all()?;
                return Ok(path);
            }
            Err(err) if err.error.kind() == io::ErrorKind::AlreadyExists => temp = err.file,
            Err(err) => return Err(err.error),
        }
    }
    Err(io::Error::other("no free name"))
}

/// What a station does with transfers to it, in `receive` and in `chat`
/// alike: offers from stations it does not accept are refused, messages
/// are reported, files go to the inbox (or are refused without one) and are
/// reported once verified.
pub struct Reception {
    /// Where files go, or why they are refused.
    inbox: Result<Inbox, &'static str>,
    accept: Vec<Name>,
    /// Files kept.
    pub files: u64,
    /// Messages received.
    pub messages: u64,
}

impl Reception {
    /// Files go to `inbox` (`Err`: they are refused, for that reason);
    /// only stations in `accept` may send (all if it is empty).
    pub fn new(inbox: Result<Inbox, &'static str>, accept: Vec<Name>) -> Reception {
        Reception { inbox, accept, files: 0, messages: 0 }
    }

    /// Handles an event of a transfer to this station; what to report of it.
    /// Events of transfers this station sends are left to the caller.
    pub fn handle<const NC: usize, const W: usize>(
        &mut self,
        transfer: &mut Transfer<NC, W>,
        event: &TransferEvent<'_>,
    ) -> Option<Report> {
        match *event {
            TransferEvent::Incoming { conn, ref from, mac, messages, header } => {
                let refusal = if !self.accept.is_empty() && !self.accept.contains(from) {
                    Some((verdict::REFUSED, None, "not in --accept".to_owned()))
                } else if messages {
                    None
                } else {
                    match &mut self.inbox {
                        Ok(inbox) => {
                            inbox.offered(conn, from, header).err().map(|(status, reason)| (status, None, reason))
                        }
                        Err(why) => Some((
                            verdict::REFUSED,
                            FileOffer::parse(header).ok().map(|offer| Escaped::new(&offer.name).to_string()),
                            (*why).to_owned(),
                        )),
                    }
                };
                let (status, file, reason) = refusal?;
                let _ = transfer.reject(conn, status);
                Some(Report::Refused { from: from.to_string(), mac: mac.to_string(), file, reason })
            }
            TransferEvent::Received { conn, data } => {
                if let Ok(inbox) = &mut self.inbox {
                    inbox.received(transfer, conn, data);
                }
                None
            }
            TransferEvent::Message { ref from, data, .. } => {
                self.messages += 1;
                Some(Report::Message { from: from.to_string(), payload: WireBytes::new(data) })
            }
            TransferEvent::Finished { conn } => match self.inbox.as_mut().ok()?.finished(transfer, conn)? {
                Arrival::Saved(f) => {
                    self.files += 1;
                    Some(Report::File {
                        mb_per_s: f.bytes as f64 / f.seconds / 1e6,
                        file: f.name,
                        from: f.from.to_string(),
                        bytes: f.bytes,
                        seconds: f.seconds,
                        sha256: f.sha256,
                        path: f.path,
                    })
                }
                Arrival::Dropped { name, from, reason } => {
                    Some(Report::Dropped { file: name, from: from.to_string(), reason })
                }
            },
            TransferEvent::Failed { conn, failure } => {
                let (file, from) = self.inbox.as_mut().ok()?.failed(conn)?;
                Some(Report::Failed { file, from: from.to_string(), reason: failure.to_string() })
            }
            _ => None,
        }
    }
}
