//! Files over the reliable transfer, shared by `whohas send --file`,
//! `whohas receive` and chat: a [`Reception`] takes what is sent to a
//! station (messages, and files into an [`Inbox`]); an [`Outgoing`] file is offered
//! (name and size in the stream's opening header), fed into the stream as
//! its window allows and hashed as it is read, its SHA-256 sent after it;
//! an [`Inbox`] writes incoming files under a temporary name, checks them
//! against their size and SHA-256, and links them under their own name,
//! never over an existing file and never outside its directory.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use super::Failure;
use super::report::{Report, WireBytes};
use crate::file_offer::{DIGEST_LEN, FileOffer, OfferError, hex, verdict};
use crate::transfer::{ConnId, Transfer, TransferEvent};
use crate::wire::Escaped;
use crate::{Instant, Name};

/// A file on its way out: offered on a stream of its own, then fed into it,
/// its SHA-256 last.
pub struct Outgoing {
    /// The stream carrying it.
    pub conn: ConnId,
    /// Its size in bytes.
    pub size: u64,
    /// Its path, escaped for a terminal.
    pub shown: String,
    reader: File,
    hasher: Sha256,
    /// What was read and is not yet in the stream: `chunk[pos..len]`; after
    /// the last byte of the file, its SHA-256.
    chunk: Vec<u8>,
    pos: usize,
    len: usize,
    read: u64,
    sha256: Option<[u8; DIGEST_LEN]>,
    finished: bool,
}

impl Outgoing {
    /// Offers the file at `path` to `peer` on a new stream of `transfer`.
    pub fn offer<const NC: usize, const W: usize>(
        transfer: &mut Transfer<NC, W>,
        peer: &Name,
        path: &Path,
        now: Instant,
    ) -> Result<Outgoing, Failure> {
        let cannot = |err: io::Error| Failure::error(format!("cannot read {}: {err}", path.display()));
        let reader = File::open(path).map_err(cannot)?;
        let meta = reader.metadata().map_err(cannot)?;
        if !meta.is_file() {
            // The offer states the size before the first byte is read.
            let what = if meta.is_dir() { "a directory" } else { "not a regular file" };
            return Err(Failure::error(format!("{} is {what}; give a file", path.display())));
        }
        let size = meta.len();
        let name = path.file_name().map(|name| name.as_bytes().to_vec()).unwrap_or_default();
        let header = FileOffer { size, sha256: None, name }.encode()?;
        let conn = transfer.open(peer, &header, now)?;
        Ok(Outgoing {
            conn,
            size,
            shown: Escaped::new(path.as_os_str().as_bytes()).to_string(),
            reader,
            hasher: Sha256::new(),
            chunk: vec![0u8; 1 << 16],
            pos: 0,
            len: 0,
            read: 0,
            sha256: None,
            finished: false,
        })
    }

    /// The SHA-256 sent after the file, once all of it was read.
    pub fn sha256(&self) -> Option<[u8; DIGEST_LEN]> {
        self.sha256
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
                if self.sha256.is_some() {
                    transfer.finish(self.conn)?;
                    self.finished = true;
                    break;
                }
                let n = self
                    .reader
                    .read(&mut self.chunk)
                    .map_err(|err| Failure::error(format!("reading {}: {err}", self.shown)))?;
                self.read += n as u64;
                if self.read > self.size || (n == 0 && self.read != self.size) {
                    return Err(Failure::error(format!("{} changed while it was being sent", self.shown)));
                }
                if n == 0 {
                    let digest: [u8; DIGEST_LEN] = std::mem::take(&mut self.hasher).finalize().into();
                    self.chunk[..DIGEST_LEN].copy_from_slice(&digest);
                    self.sha256 = Some(digest);
                    (self.pos, self.len) = (0, DIGEST_LEN);
                    continue;
                }
                self.hasher.update(&self.chunk[..n]);
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
    /// Bytes of the file received (never more than offered).
    received: u64,
    /// The SHA-256 that follows the file (a kind 2 offer), as far as it
    /// has arrived.
    trailer: Vec<u8>,
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
            trailer: Vec::with_capacity(DIGEST_LEN),
            started: std::time::Instant::now(),
        };
        self.files.insert(conn, incoming);
        Ok(())
    }

    /// Bytes of `conn` arrived: the file's, then (a kind 2 offer) its
    /// SHA-256. More than that, or a full disk, gives the file up at once
    /// and closes the stream with the verdict.
    pub fn received<const NC: usize, const W: usize>(
        &mut self,
        transfer: &mut Transfer<NC, W>,
        conn: ConnId,
        data: &[u8],
    ) {
        let Some(f) = self.files.get_mut(&conn) else { return };
        let left = usize::try_from(f.offer.size - f.received).unwrap_or(usize::MAX);
        let (content, after) = data.split_at(data.len().min(left));
        f.received += content.len() as u64;
        f.hasher.update(content);
        let room = if f.offer.sha256.is_none() { DIGEST_LEN - f.trailer.len() } else { 0 };
        let status = if after.len() > room {
            verdict::HASH_MISMATCH
        } else if f.file.write_all(content).is_err() {
            verdict::CANNOT_SAVE
        } else {
            f.trailer.extend_from_slice(after);
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
        let expected = f.offer.sha256.or_else(|| f.trailer.as_slice().try_into().ok());
        let (status, arrival) = if f.received != f.offer.size || expected != Some(digest) {
            let reason = format!(
                "{} bytes with SHA-256 {} instead of {} bytes with {}",
                f.received,
                hex(&digest),
                f.offer.size,
                expected.map_or_else(|| "their SHA-256 after them".to_owned(), |d| format!("SHA-256 {}", hex(&d)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::TransferConfig;

    const CONTENT: &[u8] = b"hello\n";

    fn sha256(data: &[u8]) -> [u8; DIGEST_LEN] {
        Sha256::digest(data).into()
    }

    /// Offers `offer` to an inbox in a fresh directory, hands it `stream`
    /// in pieces of `piece` bytes, and says what became of the file (`None`:
    /// given up before the end).
    fn arrive(offer: FileOffer, stream: &[u8], piece: usize) -> Option<Arrival> {
        let dir = tempfile::tempdir().unwrap();
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let mut transfer = Transfer::<1, 4>::new(TransferConfig::default(), 1);
        let from = Name::try_from("VM1").unwrap();
        let conn = transfer.open(&from, b"", Instant::ZERO).unwrap();
        inbox.offered(conn, &from, &offer.encode().unwrap()).unwrap();
        for data in stream.chunks(piece) {
            inbox.received(&mut transfer, conn, data);
        }
        inbox.finished(&mut transfer, conn)
    }

    fn saved(arrival: Option<Arrival>) -> Option<String> {
        match arrival {
            Some(Arrival::Saved(saved)) => Some(saved.sha256),
            _ => None,
        }
    }

    #[test]
    fn a_file_is_kept_when_the_sha256_after_it_matches_however_it_is_cut() {
        let offer = FileOffer { size: CONTENT.len() as u64, sha256: None, name: b"hello.txt".to_vec() };
        let stream = [CONTENT, &sha256(CONTENT)[..]].concat();
        for piece in [1, 5, 6, 7, 37, 38] {
            assert_eq!(saved(arrive(offer.clone(), &stream, piece)), Some(hex(&sha256(CONTENT))), "{piece}");
        }
        let mut wrong = stream.clone();
        wrong[CONTENT.len() + 3] ^= 1;
        assert!(matches!(arrive(offer.clone(), &wrong, 8), Some(Arrival::Dropped { .. })));
        let Some(Arrival::Dropped { reason, .. }) = arrive(offer.clone(), &stream[..stream.len() - 1], 8) else {
            panic!("a file without its whole SHA-256 is kept");
        };
        assert!(reason.ends_with("instead of 6 bytes with their SHA-256 after them"), "{reason}");
        let longer = [&stream[..], b"x"].concat();
        assert!(arrive(offer, &longer, 8).is_none(), "more than offered gives the file up");
    }

    #[test]
    fn a_file_that_shrinks_after_its_offer_is_not_sent_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        fs::write(&path, [7u8; 100]).unwrap();
        let mut transfer = Transfer::<1, 16>::new(TransferConfig::default(), 1);
        let mut file = Outgoing::offer(&mut transfer, &Name::try_from("VM2").unwrap(), &path, Instant::ZERO).unwrap();
        assert_eq!(file.size, 100);
        fs::write(&path, [7u8; 50]).unwrap();
        let err = file.feed(&mut transfer).unwrap_err();
        assert!(format!("{err:?}").contains("changed while it was being sent"), "{err:?}");
        assert_eq!(file.sha256(), None, "no SHA-256 for a file not read whole");
    }

    #[test]
    fn only_a_regular_file_is_offered() {
        let mut transfer = Transfer::<1, 16>::new(TransferConfig::default(), 1);
        let peer = Name::try_from("VM2").unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (path, what) in [(dir.path(), "is a directory"), (Path::new("/dev/null"), "is not a regular file")] {
            let Err(err) = Outgoing::offer(&mut transfer, &peer, path, Instant::ZERO) else {
                panic!("{} offered", path.display());
            };
            assert!(format!("{err:?}").contains(what), "{err:?}");
        }
    }

    #[test]
    fn an_offer_carrying_the_sha256_is_still_taken() {
        let offer = FileOffer { size: CONTENT.len() as u64, sha256: Some(sha256(CONTENT)), name: b"a".to_vec() };
        assert_eq!(saved(arrive(offer.clone(), CONTENT, 4)), Some(hex(&sha256(CONTENT))));
        let other = FileOffer { sha256: Some([0; DIGEST_LEN]), ..offer.clone() };
        assert!(matches!(arrive(other, CONTENT, 4), Some(Arrival::Dropped { .. })));
        assert!(arrive(offer, &[CONTENT, b"x"].concat(), 4).is_none(), "more than offered gives the file up");
    }
}
