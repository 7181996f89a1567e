//! The `palisade` binary: see the `palisade_cli` library for the commands.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

fn main() -> std::process::ExitCode {
    palisade_cli::run()
}
