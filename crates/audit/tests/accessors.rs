//! The crate's small surface: names, the sealer's policy, key parsing and `Debug` forms. Each
//! test pins a result that the mutation run (`scripts/mutants.sh palisade-audit`, see
//! `docs/mutants.md`) showed no other test checked.
#![allow(clippy::unwrap_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use palisade_audit::{
    Action, Actor, AuditError, AuditSink, ChainKey, ChainKeys, CheckpointSigner, Event, EventDraft,
    FsyncPolicy, Head, JsonlSink, MAX_ID_LEN, MAX_NAME_LEN, MemorySink, Outcome, Reason,
    ReasonPolicy, Resource, ResourceId, Sealer, public_key_from_hex, read_events, testing,
};
use palisade_pii::Masked;

/// RFC 8032 §7.1, test 1: the secret seed and its public key.
const RFC8032_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const RFC8032_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

fn keys() -> ChainKeys {
    ChainKeys::new(ChainKey::from_hex(1, &"11".repeat(32)).unwrap())
}

#[test]
fn an_action_displays_as_its_name() {
    let action = Action::new("lead.export").unwrap();
    assert_eq!(action.to_string(), "lead.export");
    assert_eq!(format!("{}", Action::EXPORT), Action::EXPORT.as_str());
}

#[test]
fn names_of_exactly_the_maximum_length_are_accepted() {
    let longest = format!("a{}", "b".repeat(MAX_NAME_LEN - 1));
    assert_eq!(Action::new(&longest).unwrap().as_str(), longest);
    let too_long = format!("{longest}c");
    assert!(matches!(
        Action::new(&too_long),
        Err(AuditError::InvalidField { .. })
    ));
}

#[test]
fn the_sealer_keeps_the_policy_it_was_given() {
    let sealer = Sealer::new(keys());
    assert_eq!(sealer.policy(), &ReasonPolicy::default());
    let none = Sealer::new(keys()).with_policy(ReasonPolicy::none());
    assert_eq!(none.policy(), &ReasonPolicy::none());
    assert_ne!(none.policy(), &ReasonPolicy::default());
}

#[test]
fn checkpoint_keys_parse_from_hex_as_rfc_8032_gives_them() {
    let signer = CheckpointSigner::from_hex(RFC8032_SEED).unwrap();
    assert_eq!(hex::encode(signer.public_key().as_bytes()), RFC8032_PUBLIC);
    let public = public_key_from_hex(RFC8032_PUBLIC).unwrap();
    assert_eq!(public, signer.public_key());
    // Surrounding whitespace (a key read from a file) is allowed.
    assert_eq!(
        public_key_from_hex(&format!(" {RFC8032_PUBLIC}\n")).unwrap(),
        public
    );
    for bad in ["", "d75a", &RFC8032_PUBLIC.replace('d', "g")] {
        assert!(
            matches!(public_key_from_hex(bad), Err(AuditError::InvalidKey { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn a_signer_shows_its_public_key_never_its_seed() {
    let signer = CheckpointSigner::from_hex(RFC8032_SEED).unwrap();
    let shown = format!("{signer:?}");
    assert_eq!(shown, format!("CheckpointSigner({RFC8032_PUBLIC})"));
    assert!(!shown.contains(RFC8032_SEED));
}

#[test]
fn a_draft_keeps_its_reason() {
    let tenant = testing::unique_tenant("reason");
    let draft = EventDraft::new(
        tenant,
        Actor::parse("u-1").unwrap(),
        Action::EXPORT,
        Resource::parse("lead:lead-1").unwrap(),
    );
    assert_eq!(draft.reason(), None);
    let reason = Reason::new("ticket 42").unwrap();
    let draft = draft.with_reason(reason.clone());
    assert_eq!(draft.reason(), Some(&reason));
    assert_eq!(reason.to_string(), "ticket 42");
}

#[test]
fn an_event_without_a_time_is_stamped_with_the_system_clock() {
    let ms = || {
        u64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
    };
    let draft = EventDraft::new(
        testing::unique_tenant("clock"),
        Actor::parse("u-1").unwrap(),
        Action::READ,
        Resource::parse("lead:lead-1").unwrap(),
    );
    let before = ms().unwrap();
    let events = testing::test_sealer().seal(&Head::GENESIS, draft).unwrap();
    let after = ms().unwrap();
    let time = events.last().unwrap().time_ms;
    assert!(
        (before..=after).contains(&time),
        "{before} <= {time} <= {after}"
    );
}

#[test]
fn identifiers_have_a_length_limit_and_refuse_emails_and_phone_numbers() {
    let longest = "x".repeat(MAX_ID_LEN);
    assert_eq!(ResourceId::new(&longest).unwrap().as_str(), longest);
    assert!(matches!(
        ResourceId::new(format!("{longest}x")),
        Err(AuditError::InvalidField { .. })
    ));
    // A space (whitespace, not a control) and a bell (a control, not whitespace).
    for bad in ["lead 9", "lead\u{7}9"] {
        assert!(
            matches!(ResourceId::new(bad), Err(AuditError::InvalidField { .. })),
            "{bad:?}"
        );
    }
    for pii in ["jean@example.com", "+14155550123"] {
        assert!(
            matches!(ResourceId::new(pii), Err(AuditError::PlaintextPii { .. })),
            "{pii}"
        );
    }
}

#[test]
fn masked_ids_have_the_same_length_limit() {
    // `masked:` and a masked email, whose domain is kept: find the domain that makes exactly
    // the limit.
    let id = |domain_len: usize| format!("j@{}", "d".repeat(domain_len));
    let shown = |domain_len: usize| format!("masked:{}", Masked::email(&id(domain_len))).len();
    let fits = (1..2 * MAX_ID_LEN)
        .find(|&n| shown(n) == MAX_ID_LEN)
        .unwrap();
    let value = id(fits);
    let masked = ResourceId::masked(Masked::email(&value)).unwrap();
    assert_eq!(masked.as_str().len(), MAX_ID_LEN);
    let value = id(fits + 1);
    assert!(matches!(
        ResourceId::masked(Masked::email(&value)),
        Err(AuditError::InvalidField { .. })
    ));
}

#[test]
fn stored_masked_ids_are_read_back_within_the_rules() {
    let stored = "masked:+1******0143";
    assert_eq!(ResourceId::from_stored(stored).unwrap().as_str(), stored);
    // Too long, or with a control character: refused even with the prefix.
    let long = format!("masked:{}", "*".repeat(MAX_ID_LEN));
    assert!(ResourceId::from_stored(&long).is_err());
    assert!(ResourceId::from_stored("masked:+1**\u{7}**0143").is_err());
    // Without the prefix, the ordinary rules (no plaintext phone number).
    assert!(matches!(
        ResourceId::from_stored("+14155550143"),
        Err(AuditError::PlaintextPii { .. })
    ));
}

#[test]
fn outcomes_round_trip_through_their_code_and_name() {
    for (outcome, code, name) in [
        (Outcome::Success, 0, "success"),
        (Outcome::Denied, 1, "denied"),
        (Outcome::Failure, 2, "failure"),
    ] {
        assert_eq!(outcome.code(), code);
        assert_eq!(Outcome::from_code(code), Some(outcome));
        assert_eq!(outcome.to_string(), name);
        assert_eq!(Outcome::parse(name), Some(outcome));
    }
    assert_eq!(Outcome::from_code(3), None);
    assert_eq!(Outcome::from_code(u8::MAX), None);
}

#[tokio::test]
async fn read_events_returns_what_a_jsonl_sink_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    assert!(
        read_events(&path).unwrap().is_empty(),
        "an absent file has no events"
    );
    let sink = JsonlSink::open(&path, testing::test_sealer(), FsyncPolicy::Never).unwrap();
    let shown = format!("{sink:?}");
    assert!(
        shown.starts_with("JsonlSink") && shown.contains("audit.jsonl"),
        "{shown}"
    );
    let tenant = testing::unique_tenant("read");
    let mut written = Vec::new();
    for i in 1..=3 {
        written.push(
            sink.append(testing::draft(&tenant, "u-1", i, i))
                .await
                .unwrap(),
        );
    }
    drop(sink);
    assert_eq!(read_events(&path).unwrap(), written);
    // A damaged line is named by its number.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}{{\"v\":1}}\n")).unwrap();
    let err = read_events(&path).unwrap_err();
    assert!(err.to_string().contains("line 4"), "{err}");
}

#[test]
fn read_events_reports_a_path_it_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "").unwrap();
    // Not "absent" (which reads as no events): the path cannot be opened at all.
    let err = read_events(&file.join("audit.jsonl")).unwrap_err();
    assert!(matches!(err, AuditError::SinkUnavailable(_)), "{err:?}");
}

#[test]
fn a_sink_answers_with_its_sealer_policy() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = Sealer::new(keys()).with_policy(ReasonPolicy::none());
    let sink = JsonlSink::open(dir.path().join("a.jsonl"), sealer, FsyncPolicy::Never).unwrap();
    assert_eq!(sink.policy(), &ReasonPolicy::none());
    let memory = MemorySink::new(Sealer::new(keys()).with_policy(ReasonPolicy::none()));
    assert_eq!(memory.policy(), &ReasonPolicy::none());
}

/// The longest event line is 8 KiB (`docs/formats.md`), whitespace included.
#[tokio::test]
async fn an_event_line_may_be_exactly_8_kib() {
    assert_eq!(palisade_audit::MAX_LINE_LEN, 8 * 1024);
    let sink = MemorySink::new(testing::test_sealer());
    let tenant = testing::unique_tenant("line");
    let event = sink
        .append(testing::draft(&tenant, "u-1", 1, 1))
        .await
        .unwrap();
    let line = event.to_json_line();
    let longest = format!("{line}{}", " ".repeat(8 * 1024 - line.len()));
    assert_eq!(Event::from_json_line(&longest).unwrap(), event);
    let err = Event::from_json_line(&format!("{longest} ")).unwrap_err();
    assert!(err.to_string().contains("longer than"), "{err}");
}

#[tokio::test]
async fn the_memory_sink_shows_counts_and_its_tamper_hook_changes_what_is_read() {
    let sink = MemorySink::new(testing::test_sealer());
    let tenant = testing::unique_tenant("tamper");
    for i in 1..=3 {
        sink.append(testing::draft(&tenant, "u-1", i, i))
            .await
            .unwrap();
    }
    assert!(format!("{sink:?}").contains("Log(3 events)"), "{sink:?}");
    sink.tamper(&tenant, |events| {
        events.remove(1);
    });
    let events = testing::read_all(&sink, &tenant).await;
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 3]);
    let err =
        palisade_audit::verify(&testing::test_keys(), &tenant, Head::GENESIS, &events).unwrap_err();
    assert_eq!(err.seq, 2);
}

#[test]
fn reason_policies_require_what_they_were_built_with() {
    use palisade_audit::ResourceType;
    let lead = ResourceType::new("lead").unwrap();
    let recording = ResourceType::new("recording").unwrap();
    // The default: export, anonymize, and anything done to a recording.
    let default = ReasonPolicy::default();
    assert!(default.requires(&Action::EXPORT, &lead));
    assert!(default.requires(&Action::READ, &recording));
    assert!(!default.requires(&Action::READ, &lead));
    // None at all.
    let none = ReasonPolicy::none();
    assert!(!none.requires(&Action::EXPORT, &lead));
    assert!(!none.requires(&Action::READ, &recording));
    // Built up from none.
    let reads = ReasonPolicy::none().require_for_action(Action::READ);
    assert!(reads.requires(&Action::READ, &lead));
    assert!(!reads.requires(&Action::EXPORT, &lead));
    let leads = ReasonPolicy::none().require_for_resource(lead.clone());
    assert!(leads.requires(&Action::UPDATE, &lead));
    assert!(!leads.requires(&Action::UPDATE, &recording));
}

/// What a query holds is what a store's SQL filters on (palisade-postgres reads these).
#[test]
fn a_query_hands_back_its_filters() {
    use palisade_audit::{Query, ResourceType, SubjectId};
    let empty = Query::new();
    assert_eq!(empty.actor_filter(), None);
    assert_eq!(empty.time_range(), (None, None));
    let subject = SubjectId::new("u-7").unwrap();
    let kind = ResourceType::new("lead").unwrap();
    let id = ResourceId::new("lead-9").unwrap();
    let q = Query::new()
        .actor(subject.clone())
        .resource_type(kind.clone())
        .resource_id(id.clone())
        .action(Action::EXPORT)
        .between(1_764_000_000_000, 1_764_000_060_000);
    assert_eq!(q.actor_filter(), Some(&subject));
    assert_eq!(q.resource_type_filter(), Some(&kind));
    assert_eq!(q.resource_id_filter(), Some(&id));
    assert_eq!(q.action_filter(), Some(&Action::EXPORT));
    assert_eq!(
        q.time_range(),
        (Some(1_764_000_000_000), Some(1_764_000_060_000))
    );
}

/// An export of a prefix of the chain writes that prefix only, and signs its last event; an
/// export past the head writes what there is and signs nothing.
#[tokio::test]
async fn an_export_stops_at_the_requested_sequence_number() {
    let sink = MemorySink::new(testing::test_sealer());
    let tenant = testing::unique_tenant("export");
    let mut written = Vec::new();
    for i in 1..=10 {
        written.push(
            sink.append(testing::draft(&tenant, "u-1", i, i))
                .await
                .unwrap(),
        );
    }
    let signer = testing::test_signer();
    let mut out = Vec::new();
    let cp = palisade_audit::export(&sink, &tenant, 3, &signer, &mut out)
        .await
        .unwrap();
    let lines: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2], written[2].to_json_line());
    assert_eq!(cp.head(), Head::after(&written[2]));
    let mut out = Vec::new();
    let err = palisade_audit::export(&sink, &tenant, 15, &signer, &mut out)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuditError::CheckpointMismatch { .. }),
        "{err:?}"
    );
    // After a purge through 3, the next export starts after the anchor and stops at 6.
    assert_eq!(sink.purge(&tenant, &cp).await.unwrap(), 3);
    let mut out = Vec::new();
    let next = palisade_audit::export(&sink, &tenant, 6, &signer, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let seqs: Vec<u64> = text
        .lines()
        .map(|l| Event::from_json_line(l).unwrap().seq)
        .collect();
    assert_eq!(seqs, [4, 5, 6]);
    assert_eq!(next.head(), Head::after(&written[5]));
}
