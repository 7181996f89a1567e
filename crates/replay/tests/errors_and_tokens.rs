//! The small public pieces every store builds on: which errors are store failures (refuse the
//! request) rather than decisions, lease tokens that never print their bytes, and the argument
//! checks and TTL rounding the stores share.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use palisade_replay::{LeaseToken, ReplayError, check_arguments, check_namespace, ttl_millis};

#[test]
fn only_an_undecided_store_is_a_store_failure() {
    let failures = [
        ReplayError::StoreUnavailable {
            reason: "connection refused".into(),
        },
        ReplayError::StoreTimeout { millis: 250 },
        ReplayError::StoreFull { cap: 10 },
    ];
    for e in &failures {
        assert!(e.is_store_failure(), "{e:?}");
    }
    let decisions = [
        ReplayError::Replayed,
        ReplayError::InProgress,
        ReplayError::TimestampOutsideTolerance {
            skew_secs: 301,
            tolerance_secs: 300,
        },
        ReplayError::SequenceTooOld { seq: 1, lowest: 2 },
        ReplayError::SequenceReplayed { seq: 3 },
        ReplayError::InvalidConfig { reason: "zero TTL" },
    ];
    for e in &decisions {
        assert!(!e.is_store_failure(), "{e:?}");
    }
}

#[test]
fn a_lease_token_keeps_its_bytes_and_never_prints_them() {
    let bytes = [0xAB; 16];
    let token = LeaseToken::from_bytes(bytes);
    assert_eq!(token.as_bytes(), &bytes);
    assert_eq!(LeaseToken::from_bytes(*token.as_bytes()), token);
    assert_eq!(format!("{token:?}"), "LeaseToken(..)");
    let random = LeaseToken::random().unwrap();
    assert_eq!(format!("{random:?}"), "LeaseToken(..)");
    assert_ne!(random, LeaseToken::random().unwrap());
}

#[test]
fn ttls_round_up_to_whole_milliseconds() {
    assert_eq!(ttl_millis(Duration::from_secs(300)), 300_000);
    assert_eq!(ttl_millis(Duration::from_micros(1_001)), 2);
    // A positive TTL never rounds down to "already expired".
    assert_eq!(ttl_millis(Duration::from_nanos(1)), 1);
    assert_eq!(ttl_millis(Duration::MAX), i64::MAX);
}

#[test]
fn store_arguments_are_checked() {
    check_arguments("ns", Duration::from_millis(1)).unwrap();
    check_namespace("ns").unwrap();
    assert!(matches!(
        check_arguments("", Duration::from_secs(1)),
        Err(ReplayError::InvalidConfig {
            reason: "empty namespace"
        })
    ));
    assert!(matches!(
        check_arguments("ns", Duration::ZERO),
        Err(ReplayError::InvalidConfig { reason: "zero TTL" })
    ));
    assert!(matches!(
        check_namespace(""),
        Err(ReplayError::InvalidConfig { .. })
    ));
}
