//! `whohas keygen PATH`: a key for keyed mode (32 random bytes, mode 0600,
//! never over an existing file), and reading one back for `--key-file`.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::report::Report;
use super::{Failure, Global};
use crate::auth::{KEY_LEN, Key};

/// `whohas keygen` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the key (not overwritten if it exists).
    pub path: PathBuf,
}

/// Runs `whohas keygen`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let mut key = [0u8; KEY_LEN];
    getrandom::fill(&mut key).map_err(|err| Failure::error(format!("no random source: {err}")))?;
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
    file.write_all(&key)
        .and_then(|()| file.sync_all())
        .map_err(|err| Failure::error(format!("writing {shown}: {err}")))?;
    Report::Key { path: shown.to_string(), bytes: KEY_LEN }.print(global.json)
}

/// Reads a key written by `whohas keygen`: exactly 32 bytes, readable by
/// its owner only.
pub fn read(path: &Path) -> Result<Key, Failure> {
    let shown = path.display();
    let mut file =
        std::fs::File::open(path).map_err(|err| Failure::error(format!("cannot read the key {shown}: {err}")))?;
    let mode = file
        .metadata()
        .map_err(|err| Failure::error(format!("cannot read the key {shown}: {err}")))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Failure::error(format!(
            "the key {shown} can be read by others (mode {:o}): run chmod 600 {shown}",
            mode & 0o777
        )));
    }
    let mut bytes = Vec::with_capacity(KEY_LEN + 1);
    Read::by_ref(&mut file)
        .take(KEY_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| Failure::error(format!("cannot read the key {shown}: {err}")))?;
    let key: [u8; KEY_LEN] = bytes.try_into().map_err(|bytes: Vec<u8>| {
        Failure::error(format!(
            "{shown} is not a key ({}{} bytes, a key is {KEY_LEN}): make one with whohas keygen",
            bytes.len(),
            if bytes.len() > KEY_LEN { " or more" } else { "" }
        ))
    })?;
    Ok(Key(key))
}
