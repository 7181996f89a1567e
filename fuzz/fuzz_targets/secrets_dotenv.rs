//! `palisade_secrets`' `.env` source (`DotenvSource`, dotenvy's syntax: quotes, comments,
//! `export`, `${VAR}` substitution) and secret names (`check_name`) on arbitrary input: a
//! fetch returns `Ok` or `Err`, never panics; an error never quotes the file (it names the
//! path and at most a byte index, never a value); every name the file defines is either
//! refused by `check_name` or fetched back, one by one and all at once, to the same secret;
//! `Secret::lines` yields only trimmed, non-empty lines.
//!
//! Input: the `.env` file's bytes, written to a file in the temporary directory.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_secrets::{DotenvSource, Environment, SecretSource, SecretsError, check_name};
use secrecy::ExposeSecret;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
});

/// One file per fuzzing process, rewritten for each input.
static PATH: LazyLock<PathBuf> = LazyLock::new(|| {
    std::env::temp_dir().join(format!("palisade-fuzz-{}.env", std::process::id()))
});

fuzz_target!(|data: &[u8]| {
    std::fs::write(&*PATH, data).expect("the temporary file is writable");
    let source = DotenvSource::new(&*PATH, Environment::Development).expect("development");

    // The names the input could define: every `NAME=` prefix of a line (with or without
    // `export `), checked by `check_name` first.
    let text = String::from_utf8_lossy(data);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim_start().trim_start_matches("export ").split_once('='))
        .map(|(n, _)| n.trim())
        .take(16)
        .collect();

    RUNTIME.block_on(async {
        match source.fetch_many(&[]).await {
            Err(e) => {
                // The message is the path and a fixed phrase: nothing of the file.
                let msg = e.to_string();
                assert!(matches!(e, SecretsError::Unavailable { .. }), "{msg}");
                let what = msg
                    .split_once(&*PATH.display().to_string())
                    .map(|(_, rest)| rest)
                    .expect("the error names the path");
                assert!(
                    what == " (cannot be read)"
                        || (what.starts_with(" (a line does not parse, at byte ")
                            && what.ends_with(" of it)")),
                    "{what}"
                );
            }
            Ok(none) => {
                assert!(none.is_empty());
                let valid: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| check_name(n).is_ok())
                    .collect();
                let all = source
                    .fetch_many(&valid)
                    .await
                    .expect("the file parsed once");
                for name in &names {
                    match source.fetch(name).await {
                        Err(_) => assert!(check_name(name).is_err()),
                        Ok(None) => assert!(all.get(name).is_none()),
                        Ok(Some(secret)) => {
                            let same = all.get(name).expect("fetched alone, fetched together");
                            assert!(secret.same_as(same));
                            for line in secret.lines() {
                                let l = line.expose_secret();
                                assert!(!l.is_empty() && l.trim() == l);
                            }
                        }
                    }
                }
            }
        }
    });
});
