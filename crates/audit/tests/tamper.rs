//! Properties of verification: any single modification, deletion, insertion, swap or
//! duplication is reported at the right sequence number; truncation is reported against a
//! checkpoint; a chain across a key epoch verifies.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use palisade_audit::{
    Action, Actor, ChainKey, ChainKeys, ChainMac, Checkpoint, CheckpointSigner, Event, EventDraft,
    Fault, Head, Outcome, Reason, Resource, Sealer, SecretBox, verify, verify_with_checkpoints,
};
use palisade_rbac::TenantId;
use proptest::prelude::*;

fn key(epoch: u32, byte: u8) -> ChainKey {
    ChainKey::new(epoch, SecretBox::new(Box::new([byte; 32]))).unwrap()
}

fn tenant() -> TenantId {
    TenantId::new("tenant-1").unwrap()
}

fn draft(i: u64) -> EventDraft {
    let actions = [Action::READ, Action::UPDATE, Action::EXPORT, Action::LOGIN];
    let d = EventDraft::new(
        tenant(),
        Actor::parse(&format!("u-{}", i % 3)).unwrap(),
        actions[(i % 4) as usize].clone(),
        Resource::parse(&format!("lead:lead-{i}")).unwrap(),
    )
    .at(1_764_000_000_000 + i);
    d.with_reason(Reason::new(format!("case {i}")).unwrap())
}

/// A chain of `n` events under `sealer`, starting at genesis.
fn chain_with(sealer: &Sealer, n: u64) -> Vec<Event> {
    let mut head = Head::GENESIS;
    let mut out = Vec::new();
    for i in 0..n {
        for e in sealer.seal(&head, draft(i)).unwrap() {
            head = Head::after(&e);
            out.push(e);
        }
    }
    out
}

fn keys() -> ChainKeys {
    ChainKeys::new(key(1, 0x11))
}

fn chain(n: u64) -> Vec<Event> {
    chain_with(&Sealer::new(keys()), n)
}

fn first_bad(events: &[Event]) -> u64 {
    verify(&keys(), &tenant(), Head::GENESIS, events)
        .map(|h| panic!("tampered chain verified up to {}", h.seq))
        .unwrap_err()
        .seq
}

/// Changes one field of `e`, chosen by `which`.
fn modify(e: &mut Event, which: u8) {
    match which % 10 {
        0 => e.time_ms ^= 1,
        1 => e.reason = Some(Reason::new("another reason").unwrap()),
        2 => e.reason = None,
        3 => e.resource = Resource::parse("lead:lead-x").unwrap(),
        4 => e.action = Action::DELETE,
        5 => e.actor = Actor::parse("u-mallory").unwrap(),
        6 => e.outcome = Outcome::Denied,
        7 => e.seq += 1,
        8 => e.prev = ChainMac::from_bytes([0xee; 32]),
        _ => e.mac = ChainMac::from_bytes([0xee; 32]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn an_intact_chain_verifies(n in 0u64..40) {
        let events = chain(n);
        let head = verify(&keys(), &tenant(), Head::GENESIS, &events).unwrap();
        prop_assert_eq!(head.seq, n);
    }

    #[test]
    fn a_modification_is_reported_at_its_seq(n in 1u64..30, i in any::<prop::sample::Index>(), which in any::<u8>()) {
        let mut events = chain(n);
        let i = i.index(events.len());
        modify(&mut events[i], which);
        prop_assert_eq!(first_bad(&events), i as u64 + 1);
    }

    #[test]
    fn a_deletion_is_reported_at_the_missing_seq(n in 2u64..30, i in any::<prop::sample::Index>()) {
        let mut events = chain(n);
        let i = i.index(events.len() - 1); // deleting the last event is a truncation
        events.remove(i);
        prop_assert_eq!(first_bad(&events), i as u64 + 1);
    }

    #[test]
    fn a_forged_insertion_is_reported_at_its_position(n in 0u64..30, i in any::<prop::sample::Index>()) {
        let mut events = chain(n);
        let i = i.index(events.len() + 1);
        // The attacker builds a well-formed event at that place, with the right seq and prev,
        // but without the chain key.
        let attacker = Sealer::new(ChainKeys::new(key(1, 0x66)));
        let head = if i == 0 { Head::GENESIS } else { Head::after(&events[i - 1]) };
        let forged = attacker.seal(&head, draft(99)).unwrap().pop().unwrap();
        events.insert(i, forged);
        prop_assert_eq!(first_bad(&events), i as u64 + 1);
    }

    #[test]
    fn a_swap_is_reported_at_the_first_position(n in 2u64..30, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let mut events = chain(n);
        let (a, b) = (a.index(events.len()), b.index(events.len()));
        prop_assume!(a != b);
        events.swap(a, b);
        prop_assert_eq!(first_bad(&events), a.min(b) as u64 + 1);
    }

    #[test]
    fn a_duplication_is_reported_right_after_the_original(n in 1u64..30, i in any::<prop::sample::Index>(), gap in 0usize..3) {
        let mut events = chain(n);
        let i = i.index(events.len());
        let at = (i + 1 + gap).min(events.len());
        let copy = events[i].clone();
        events.insert(at, copy);
        prop_assert_eq!(first_bad(&events), at as u64 + 1);
    }

    #[test]
    fn truncation_is_reported_against_a_checkpoint(n in 1u64..30, keep in any::<prop::sample::Index>()) {
        let events = chain(n);
        let signer = CheckpointSigner::from_seed(&SecretBox::new(Box::new([7; 32])));
        let cp = signer.sign(&tenant(), &Head::after(events.last().unwrap()), 0);
        let keep = keep.index(events.len()); // 0..n-1 events left
        let err = verify_with_checkpoints(&keys(), &tenant(), None, &events[..keep], std::slice::from_ref(&cp)).unwrap_err();
        prop_assert_eq!(err.seq, keep as u64 + 1);
        prop_assert_eq!(err.fault, Fault::Truncated { checkpoint_seq: n });
        // Without the checkpoint the shortened chain is indistinguishable from a young one.
        prop_assert!(verify(&keys(), &tenant(), Head::GENESIS, &events[..keep]).is_ok());
        prop_assert!(verify_with_checkpoints(&keys(), &tenant(), None, &events, &[cp]).is_ok());
    }

    #[test]
    fn a_chain_across_a_key_epoch_verifies(before in 0u64..15, after in 1u64..15) {
        let old = Sealer::new(keys());
        let new = Sealer::new(keys().rotate(key(2, 0x22)).unwrap());
        let mut events = chain_with(&old, before);
        let mut head = events.last().map_or(Head::GENESIS, Head::after);
        for i in 0..after {
            for e in new.seal(&head, draft(100 + i)).unwrap() {
                head = Head::after(&e);
                events.push(e);
            }
        }
        let both = keys().rotate(key(2, 0x22)).unwrap();
        let end = verify(&both, &tenant(), Head::GENESIS, &events).unwrap();
        // A chain that starts in epoch 2 needs no key-epoch event.
        let extra = u64::from(before > 0);
        prop_assert_eq!(end.seq, before + after + extra);
        prop_assert_eq!(end.epoch, Some(2));
        if before > 0 {
            let change = &events[before as usize];
            prop_assert_eq!(&change.action, &Action::KEY_EPOCH);
            prop_assert_eq!(change.epoch, 1);
            // Without the new key the chain is valid up to the key-epoch event only.
            let err = verify(&keys(), &tenant(), Head::GENESIS, &events).unwrap_err();
            prop_assert_eq!(err.seq, before + 2);
            prop_assert_eq!(err.fault, Fault::UnknownEpoch { epoch: 2 });
        }
    }
}

#[test]
fn events_of_another_tenant_or_epoch_are_refused() {
    let mut events = chain(3);
    events[1].tenant = TenantId::new("tenant-2").unwrap();
    let err = verify(&keys(), &tenant(), Head::GENESIS, &events).unwrap_err();
    assert_eq!((err.seq, err.fault), (2, Fault::TenantMismatch));
    assert_eq!(err.to_string(), "seq 2: event of another tenant");

    // An epoch change without a key-epoch event.
    let both = keys().rotate(key(2, 0x22)).unwrap();
    let mut events = chain(2);
    let e3 = Sealer::new(ChainKeys::new(key(2, 0x22)))
        .seal(
            &Head {
                epoch: None,
                ..Head::after(&events[1])
            },
            draft(3),
        )
        .unwrap()
        .pop()
        .unwrap();
    events.push(e3);
    let err = verify(&both, &tenant(), Head::GENESIS, &events).unwrap_err();
    assert_eq!(
        (err.seq, err.fault),
        (
            3,
            Fault::EpochMismatch {
                expected: 1,
                found: 2
            }
        )
    );
}

#[test]
fn a_purged_chain_needs_its_anchor() {
    let events = chain(10);
    let signer = CheckpointSigner::from_seed(&SecretBox::new(Box::new([7; 32])));
    let anchor = signer.sign(&tenant(), &Head::after(&events[5]), 0);
    let rest = &events[6..];
    assert_eq!(
        verify_with_checkpoints(&keys(), &tenant(), Some(&anchor), rest, &[])
            .unwrap()
            .seq,
        10
    );
    // Found among the checkpoints too (the CLI's case).
    verify_with_checkpoints(
        &keys(),
        &tenant(),
        None,
        rest,
        std::slice::from_ref(&anchor),
    )
    .unwrap();
    let err = verify_with_checkpoints(&keys(), &tenant(), None, rest, &[]).unwrap_err();
    assert_eq!((err.seq, err.fault), (1, Fault::NoAnchor { first: 7 }));
    // A checkpoint whose MAC differs from the stored event's: the log was rewritten.
    let mut other: Checkpoint = signer.sign(&tenant(), &Head::after(&events[8]), 0);
    other.mac = events[7].mac;
    let err = verify_with_checkpoints(&keys(), &tenant(), None, &events, &[other]).unwrap_err();
    assert_eq!((err.seq, err.fault), (9, Fault::CheckpointMismatch));
}

#[test]
fn a_checkpoint_verifies_only_as_signed_and_only_under_its_key() {
    let events = chain(4);
    let signer = CheckpointSigner::from_seed(&SecretBox::new(Box::new([7; 32])));
    let other = CheckpointSigner::from_seed(&SecretBox::new(Box::new([8; 32])));
    let cp = signer.sign(&tenant(), &Head::after(&events[3]), 1_764_000_000_000);
    cp.verify(&signer.public_key()).unwrap();
    // Checked against another key, or claiming another key.
    assert!(matches!(
        cp.verify(&other.public_key()),
        Err(palisade_audit::AuditError::BadSignature)
    ));
    let mut claimed = cp.clone();
    claimed.public_key = other.public_key();
    assert!(claimed.verify(&other.public_key()).is_err());
    // Every signed field changed after signing.
    let changes: [fn(&mut Checkpoint); 5] = [
        |c| c.seq += 1,
        |c| c.epoch += 1,
        |c| c.time_ms += 1,
        |c| c.mac = ChainMac::from_bytes([0; 32]),
        |c| c.tenant = TenantId::new("tenant-2").unwrap(),
    ];
    for (i, change) in changes.into_iter().enumerate() {
        let mut changed = cp.clone();
        change(&mut changed);
        assert!(
            matches!(
                changed.verify(&signer.public_key()),
                Err(palisade_audit::AuditError::BadSignature)
            ),
            "change {i}"
        );
    }
}

#[test]
fn a_checkpoint_line_may_be_exactly_the_maximum_length() {
    let events = chain(2);
    let signer = CheckpointSigner::from_seed(&SecretBox::new(Box::new([7; 32])));
    let cp = signer.sign(&tenant(), &Head::after(&events[1]), 0);
    let line = cp.to_json_line();
    // JSON allows whitespace after the value: pad to the limit, then one byte past it.
    let max = palisade_audit::MAX_LINE_LEN;
    let longest = format!("{line}{}", " ".repeat(max - line.len()));
    assert_eq!(Checkpoint::from_json_line(&longest).unwrap(), cp);
    let err = Checkpoint::from_json_line(&format!("{longest} ")).unwrap_err();
    assert!(err.to_string().contains("longer than"), "{err}");
}

#[test]
fn a_missing_anchor_is_reported_after_the_last_checkpoint_before_the_log() {
    let events = chain(10);
    let signer = CheckpointSigner::from_seed(&SecretBox::new(Box::new([7; 32])));
    let at = |i: usize| signer.sign(&tenant(), &Head::after(&events[i]), 0);
    // The log starts at seq 5; checkpoints at 2, 5 and 7, none at 4 to anchor it.
    let (two, five, seven) = (at(1), at(4), at(6));
    let err = verify_with_checkpoints(&keys(), &tenant(), None, &events[4..], &[seven, five, two])
        .unwrap_err();
    assert_eq!((err.seq, err.fault), (3, Fault::NoAnchor { first: 5 }));
}

#[test]
fn an_anchor_listed_among_the_checkpoints_does_not_count_as_truncation() {
    let events = chain(6);
    let signer = CheckpointSigner::from_seed(&SecretBox::new(Box::new([7; 32])));
    let anchor = signer.sign(&tenant(), &Head::after(&events[5]), 0);
    // Everything up to the anchor purged, nothing after it yet.
    let head = verify_with_checkpoints(
        &keys(),
        &tenant(),
        Some(&anchor),
        &[],
        std::slice::from_ref(&anchor),
    )
    .unwrap();
    assert_eq!(head, anchor.head());
}
