//! `whohas decode`: a capture one line per frame, in tshark's summary style
//! (number, relative time, source, destination, protocol, length, info);
//! with `--frame N`, frame N in detail (like `tshark -V`) with a hex dump.

use std::path::PathBuf;

use super::output::print_line;
use super::report::Report;
use super::{Failure, Global};
use crate::decode::{Decoder, detail};
use crate::pcap::CaptureReader;

/// `whohas decode` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The capture (pcap or pcapng, Ethernet).
    pub capture: PathBuf,
    /// Show frame N in detail, with a hex dump, instead of the summary.
    #[arg(short, long, value_name = "N")]
    pub frame: Option<u64>,
    /// The capture is of keyed stations: check each whohas frame's tag with
    /// this key and decode it without its trailer.
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

/// Runs `whohas decode`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let mut reader = CaptureReader::open(&args.capture)?;
    let mut decoder = match &args.key_file {
        Some(path) => Decoder::with_keys(super::keys::KeyFile::read(path)?.ring()),
        None => Decoder::new(),
    }
    .with_fcs_len(reader.fcs_len());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    while let Some(frame) = reader.next_frame()? {
        let summary = decoder.summarize(&frame);
        match args.frame {
            None if global.json => Report::Frame(summary).print(true)?,
            None => {
                use std::io::Write;
                writeln!(out, "{summary}").map_err(closed_or_failed)?;
            }
            Some(wanted) if wanted == summary.number => return print_line(detail(&frame, &summary).trim_end()),
            Some(_) => {}
        }
    }
    use std::io::Write;
    out.flush().map_err(closed_or_failed)?;
    match args.frame {
        Some(wanted) => Err(Failure::error(format!(
            "{} has only {} frames, not {wanted}",
            args.capture.display(),
            reader.frames_read()
        ))),
        None => Ok(()),
    }
}

/// A closed pipe (`whohas decode x.pcap | head`) ends the output quietly.
fn closed_or_failed(err: std::io::Error) -> Failure {
    match err.kind() {
        std::io::ErrorKind::BrokenPipe => Failure { status: super::Status::ClosedOutput, message: String::new() },
        _ => Failure::error(format!("cannot write to stdout: {err}")),
    }
}
