//! End-to-end tests of `palisade phone normalize`: output, exit codes (0 valid, 1 invalid,
//! 2 usage error).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Output};

fn normalize(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["phone", "normalize"])
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn valid_numbers_print_e164_and_exit_0() {
    for (args, want) in [
        (&["+1 (415) 555-0123"][..], "+14155550123\n"),
        (&["(415) 555-0123", "--region", "US"], "+14155550123\n"),
        (&["001 415 555 0123", "--region", "gb"], "+14155550123\n"),
        (&["--region", "FR", "06 12 34 56 78"], "+33612345678\n"),
        (&["٠٥٥١ ٢٣ ٤٥ ٦٧", "--region", "DZ"], "+213551234567\n"),
        (&["+44 20 7031 3000 ext. 12"], "+442070313000\n"),
    ] {
        let o = normalize(args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(stdout(&o), want, "{args:?}");
    }
}

#[test]
fn invalid_numbers_print_the_reason_and_exit_1() {
    for (args, want) in [
        (
            &["+1 555 234 5678"][..],
            "invalid: not a valid number in the numbering plan\n",
        ),
        (
            &["+1 650 253 000"],
            "invalid: too short for the numbering plan\n",
        ),
        (
            &["+210 3456 56789"],
            "invalid: invalid country calling code\n",
        ),
        (&["not a phone"], "invalid: not a phone number\n"),
        // A national number without --region cannot be placed.
        (
            &["(415) 555-0123"],
            "invalid: invalid country calling code\n",
        ),
        (&["-5"], "invalid: not a phone number\n"),
    ] {
        let o = normalize(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(stdout(&o), want, "{args:?}");
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["+14155550123", "--region", "ZZ"],
        &["+14155550123", "--region"],
        &["a", "b"],
    ] {
        let o = normalize(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
}
