//! Prints a capture one line per frame, in tshark's summary style: number,
//! relative time, source, destination, protocol, length, info. With
//! `-V N`, a detailed view of frame N with a hex dump.
//!
//! ```text
//! decode capture.pcap
//! decode capture.pcap -V 3
//! ```
//!
//! The Protocol and Info columns match `tshark -r capture.pcap` (for whohas'
//! own frames, with `-X lua_script:tools/wireshark/whohas.lua`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use whohas::pcap::CaptureReader;
use whohas::pcap::decode::{Decoder, detail};

#[derive(Parser)]
#[command(about = "Summarise a capture like tshark")]
struct Args {
    /// The capture (pcap or pcapng, Ethernet).
    capture: PathBuf,
    /// Show frame N in detail, with a hex dump, instead of the summary.
    #[arg(short = 'V', long = "verbose", value_name = "N")]
    frame: Option<u64>,
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut reader = CaptureReader::open(&args.capture)?;
    let mut decoder = Decoder::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    while let Some(frame) = reader.next_frame()? {
        let summary = decoder.summarize(&frame);
        match args.frame {
            None => writeln!(out, "{summary}")?,
            Some(wanted) if wanted == summary.number => {
                write!(out, "{}", detail(&frame, &summary))?;
                return Ok(out.flush()?);
            }
            Some(_) => {}
        }
    }
    if let Some(wanted) = args.frame {
        return Err(format!("{} has only {} frames, not {wanted}", args.capture.display(), reader.frames_read()).into());
    }
    Ok(out.flush()?)
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`decode x.pcap | head`) is not an error.
        Err(err)
            if err.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("decode: {err}");
            ExitCode::FAILURE
        }
    }
}
