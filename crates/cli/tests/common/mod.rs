//! What every test of the `palisade` binary shares: running it, reading its output.
// Each test crate uses a part of these.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs the binary with `args`, `stdin` on its standard input, and each `(name, value)` of
/// `env` set (`Some`) or removed (`None`).
pub(crate) fn run(args: &[&str], stdin: &[u8], env: &[(&str, Option<&str>)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    let mut child = cmd.spawn().unwrap();
    // The command may exit (usage error) before reading its input: ignore a broken pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

/// Runs the binary with `args` and `stdin`, in the test's environment.
pub(crate) fn palisade(args: &[&str], stdin: &[u8]) -> Output {
    run(args, stdin, &[])
}

/// Standard output, as text.
pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error, as text.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
