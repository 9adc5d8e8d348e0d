//! Key files of keyed mode: `whohas keygen PATH` writes one (32 random
//! bytes, mode 0600, never over an existing file), `whohas rotate` changes
//! the group's key in three steps, and `--key-file` reads one back.
//!
//! A key file holds one key, or two while the group rotates: the first
//! signs, and frames signed with either are accepted. A station reads its
//! key file again at SIGHUP, so a rotation needs no restart.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::report::Report;
use super::{Failure, Global};
use crate::auth::{KEY_LEN, Key, KeyRing};

/// `whohas keygen` arguments.
#[derive(clap::Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the key (not overwritten if it exists).
    pub path: PathBuf,
}

/// A step of a key rotation.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Add a new key beside the one in use: accepted, not yet signing.
    Add,
    /// Sign with the new key; the old one is still accepted.
    Promote,
    /// Drop the old key.
    Retire,
}

/// `whohas rotate` arguments.
#[derive(clap::Args, Debug)]
pub struct RotateArgs {
    /// The step: add, then (once every station has the new key) promote,
    /// then (once every station signs with it) retire. Copy the file to
    /// every station after each step and send them SIGHUP.
    pub step: Step,
    /// The key file to change (rewritten in place, mode 0600).
    pub path: PathBuf,
}

/// The keys of a key file: the one that signs, and during a rotation the
/// other one, also accepted.
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// Where it was read from (read again at SIGHUP).
    pub path: PathBuf,
    /// The key that signs.
    pub signing: Key,
    /// The other key of a rotation, also accepted.
    pub also: Option<Key>,
}

impl KeyFile {
    /// Reads a key file written by `whohas keygen` or `whohas rotate`: one
    /// or two keys (32 or 64 bytes), readable by its owner only.
    pub fn read(path: &Path) -> Result<KeyFile, Failure> {
        let shown = path.display();
        let cannot = |err: std::io::Error| Failure::error(format!("cannot read the key {shown}: {err}"));
        let mut file = std::fs::File::open(path).map_err(cannot)?;
        let mode = file.metadata().map_err(cannot)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Failure::error(format!(
                "the key {shown} can be read by others (mode {:o}): run chmod 600 {shown}",
                mode & 0o777
            )));
        }
        let mut bytes = Vec::with_capacity(2 * KEY_LEN + 1);
        Read::by_ref(&mut file).take(2 * KEY_LEN as u64 + 1).read_to_end(&mut bytes).map_err(cannot)?;
        let key = |at: usize| Key(bytes[at..at + KEY_LEN].try_into().unwrap_or_else(|_| unreachable!()));
        let (signing, also) = match bytes.len() {
            KEY_LEN => (key(0), None),
            len if len == 2 * KEY_LEN => (key(0), Some(key(KEY_LEN))),
            len => {
                return Err(Failure::error(format!(
                    "{shown} is not a key file ({len}{} bytes; one key is {KEY_LEN}, two are {}): make one with whohas keygen",
                    if len > 2 * KEY_LEN { " or more" } else { "" },
                    2 * KEY_LEN
                )));
            }
        };
        if also.as_ref() == Some(&signing) {
            return Err(Failure::error(format!(
                "{shown} holds the same key twice: run whohas rotate retire {shown} to keep one"
            )));
        }
        Ok(KeyFile { path: path.to_owned(), signing, also })
    }

    /// The keys, to sign and check frames with.
    pub fn ring(&self) -> KeyRing {
        KeyRing::new(&self.signing, self.also.as_ref())
    }

    /// What the file holds, as a report of `change`.
    pub fn report(&self, change: &'static str) -> Report {
        Report::Keys {
            path: self.path.display().to_string(),
            change,
            signing: fingerprint(&self.signing),
            also: self.also.as_ref().map(fingerprint),
        }
    }

    /// Rewrites the file with its keys, atomically (a station reading it at
    /// SIGHUP sees the old file or the new one, never a part).
    fn write(&self) -> Result<(), Failure> {
        let shown = self.path.display();
        let failed = |err: std::io::Error| Failure::error(format!("cannot rewrite {shown}: {err}"));
        let dir = self.path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
        // tempfile creates the file with mode 0600.
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
        file.write_all(&self.signing.0).map_err(failed)?;
        if let Some(also) = &self.also {
            file.write_all(&also.0).map_err(failed)?;
        }
        file.as_file().sync_all().map_err(failed)?;
        file.persist(&self.path).map_err(|err| failed(err.error))?;
        Ok(())
    }
}

/// A key's fingerprint, to compare key files across stations without
/// showing the key: the first 4 bytes of its SHA-256, in hex.
pub fn fingerprint(key: &Key) -> String {
    Sha256::digest(key.0)[..4].iter().map(|byte| format!("{byte:02x}")).collect()
}

/// 32 random bytes from the operating system.
fn random_key() -> Result<Key, Failure> {
    let mut key = [0u8; KEY_LEN];
    getrandom::fill(&mut key).map_err(|err| Failure::error(format!("no random source: {err}")))?;
    Ok(Key(key))
}

/// Runs `whohas keygen`.
pub fn keygen(global: &Global, args: &KeygenArgs) -> Result<(), Failure> {
    let key = random_key()?;
    let shown = args.path.display();
    let mut file =
        OpenOptions::new().write(true).create_new(true).mode(0o600).open(&args.path).map_err(|err| {
            match err.kind() {
                std::io::ErrorKind::AlreadyExists => {
                    Failure::error(format!("{shown} exists and was not overwritten: remove it or choose another path"))
                }
                _ => Failure::error(format!("cannot create {shown}: {err}")),
            }
        })?;
    file.write_all(&key.0)
        .and_then(|()| file.sync_all())
        .map_err(|err| Failure::error(format!("writing {shown}: {err}")))?;
    Report::Key { path: shown.to_string(), bytes: KEY_LEN, fingerprint: fingerprint(&key) }.print(global.json)
}

/// Runs `whohas rotate`.
pub fn rotate(global: &Global, args: &RotateArgs) -> Result<(), Failure> {
    let mut file = KeyFile::read(&args.path)?;
    let shown = args.path.display();
    let change = match (args.step, file.also.take()) {
        (Step::Add, None) => {
            file.also = Some(random_key()?);
            "added"
        }
        (Step::Add, Some(_)) => {
            return Err(Failure::error(format!(
                "{shown} holds two keys already (a rotation is under way): promote or retire first"
            )));
        }
        (Step::Promote, Some(new)) => {
            file.also = Some(std::mem::replace(&mut file.signing, new));
            "promoted"
        }
        (Step::Retire, Some(_)) => "retired",
        (Step::Promote | Step::Retire, None) => {
            return Err(Failure::error(format!(
                "{shown} holds one key (no rotation under way): start one with whohas rotate add {shown}"
            )));
        }
    };
    file.write()?;
    file.report(change).print(global.json)
}
