//! The `whohas` program: every capability behind one command line (see
//! `whohas --help`, or `man whohas`).

fn main() -> std::process::ExitCode {
    whohas::cli::main()
}
