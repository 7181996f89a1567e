//! The small value types: ids and role names at their length limit, a principal's accessors,
//! verdicts (status codes, `hiding`), every explanation's text, locations and their text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_rbac::{
    Existence, Explanation, IdError, Location, MAX_ID_LEN, Policy, PolicyError, Principal, Refusal,
    RoleName, ScopeSet, SubjectId, TenantId, Verdict,
};

fn role(name: &str) -> RoleName {
    RoleName::new(name).unwrap()
}

#[test]
fn ids_and_role_names_of_exactly_max_id_len_bytes_are_accepted() {
    let longest = "x".repeat(MAX_ID_LEN);
    assert_eq!(TenantId::new(&longest).unwrap().as_str(), longest);
    assert_eq!(SubjectId::new(&longest).unwrap().as_str(), longest);
    assert_eq!(RoleName::new(&longest).unwrap().as_str(), longest);
    assert_eq!(
        RoleName::new("x".repeat(MAX_ID_LEN + 1)),
        Err(IdError::TooLong { max: MAX_ID_LEN })
    );
    assert_eq!(TenantId::new("\u{7}"), Err(IdError::ControlOrSpace));
    assert_eq!(SubjectId::new("tab\there"), Err(IdError::ControlOrSpace));
    assert_eq!(RoleName::new(""), Err(IdError::Empty));
}

#[test]
fn role_names_read_and_show_as_written() {
    let agent = role("support.agent-2_b");
    assert_eq!(agent.as_str(), "support.agent-2_b");
    assert_eq!(agent.to_string(), "support.agent-2_b");
    assert_eq!("support.agent-2_b".parse::<RoleName>(), Ok(agent));
    assert_eq!(
        "agent!".parse::<RoleName>(),
        Err(IdError::InvalidRoleByte { byte: b'!' })
    );
    assert_eq!("t-1".parse::<TenantId>().unwrap().to_string(), "t-1");
    assert_eq!("s 1".parse::<SubjectId>(), Err(IdError::ControlOrSpace));
}

#[test]
fn a_principal_keeps_what_it_was_given() {
    let scopes = ScopeSet::parse_list("calls:read bookings:*").unwrap();
    let p = Principal::new(TenantId::new("t").unwrap(), SubjectId::new("s").unwrap())
        .with_roles([role("agent"), role("customer"), role("agent")])
        .with_global_roles([role("operator"), role("operator"), role("auditor")])
        .with_scopes(scopes.clone());
    assert_eq!(p.tenant().as_str(), "t");
    assert_eq!(p.subject().as_str(), "s");
    assert_eq!(p.roles(), [role("agent"), role("customer")]);
    assert_eq!(p.global_roles(), [role("operator"), role("auditor")]);
    assert_eq!(p.scopes(), &scopes);
    assert!(p.has_role("customer"));
    // Global roles are not tenant roles.
    assert!(!p.has_role("operator"));
    let bare = Principal::new(TenantId::new("t").unwrap(), SubjectId::new("s").unwrap());
    assert!(bare.roles().is_empty() && bare.global_roles().is_empty());
    assert!(bare.scopes().is_empty());
    assert!(!bare.has_role("agent"));
}

#[test]
fn verdicts_answer_403_or_404_and_hiding_turns_refusals_into_404() {
    assert_eq!(Refusal::Forbidden.status(), 403);
    assert_eq!(Refusal::NotFound.status(), 404);
    assert_eq!(Existence::default(), Existence::Hide);
    let allowed = Verdict::allow(Explanation::NoScope);
    assert!(allowed.is_allowed());
    assert_eq!(allowed.refusal(), None);
    assert_eq!(allowed.explanation(), &Explanation::NoScope);
    let hidden_allow = allowed.clone().hiding();
    assert_eq!(hidden_allow, allowed);
    let forbidden = Verdict::refuse(Refusal::Forbidden, Explanation::NoGrant);
    assert!(!forbidden.is_allowed());
    assert_eq!(forbidden.refusal(), Some(Refusal::Forbidden));
    let hidden = forbidden.hiding();
    assert_eq!(hidden.refusal(), Some(Refusal::NotFound));
    assert_eq!(hidden.explanation(), &Explanation::NoGrant);
    assert!(!hidden.is_allowed());
}

#[test]
fn every_explanation_has_its_text() {
    let scope = "calls:*".parse().unwrap();
    let cases = [
        (
            Explanation::Granted {
                held: role("admin"),
                role: role("agent"),
                scope: "calls:*".parse().unwrap(),
            },
            "role agent grants `calls:*` (inherited by role admin)",
        ),
        (
            Explanation::Granted {
                held: role("agent"),
                role: role("agent"),
                scope: "calls:*".parse().unwrap(),
            },
            "role agent grants `calls:*`",
        ),
        (
            Explanation::Denied {
                held: role("admin"),
                role: role("agent"),
                scope: "calls:*".parse().unwrap(),
            },
            "role agent denies `calls:*` (inherited by role admin)",
        ),
        (
            Explanation::Denied {
                held: role("agent"),
                role: role("agent"),
                scope: "calls:*".parse().unwrap(),
            },
            "role agent denies `calls:*`",
        ),
        (Explanation::NoGrant, "no role grants it"),
        (
            Explanation::NotInTenant,
            "the subject has no role in this tenant",
        ),
        (
            Explanation::OtherPolicy,
            "roles resolved against another policy",
        ),
        (
            Explanation::ScopeGranted { scope },
            "scope `calls:*` allows it",
        ),
        (Explanation::NoScope, "no scope matches it"),
        (
            Explanation::ScopeNarrowed,
            "the credential's scopes do not include it",
        ),
        (Explanation::RecordNotFound, "no such record"),
        (
            Explanation::OtherTenant,
            "the record belongs to another tenant",
        ),
        (
            Explanation::OtherOwner,
            "the record belongs to another subject",
        ),
    ];
    for (explanation, text) in cases {
        assert_eq!(explanation.to_string(), text);
    }
}

#[test]
fn locations_show_the_parts_they_know() {
    let full = Location {
        file: Some("p.toml".into()),
        line: Some(3),
        role: Some("admin".into()),
    };
    assert_eq!(full.to_string(), "p.toml:3: role admin");
    assert_eq!(Location::default().to_string(), "<policy>");
    let no_line = Location {
        line: None,
        ..full.clone()
    };
    assert_eq!(no_line.to_string(), "p.toml: role admin");
    let e = Policy::from_toml("[roles.a]\ngrants = [\"a**\"]\n").unwrap_err();
    assert_eq!(
        e.location(),
        Some(&Location {
            file: None,
            line: Some(2),
            role: Some("a".into()),
        })
    );
    let io = Policy::load("/nonexistent/palisade/policy.toml").unwrap_err();
    assert!(matches!(io, PolicyError::Io { .. }), "{io:?}");
    assert_eq!(io.location(), None);
    assert!(
        io.to_string()
            .starts_with("/nonexistent/palisade/policy.toml: cannot read the policy: "),
        "{io}"
    );
}

#[test]
fn a_resource_ref_keeps_its_kind_and_id() {
    let r = palisade_rbac::ResourceRef::new("bookings", "7c9e-42").unwrap();
    assert_eq!(r.kind(), "bookings");
    assert_eq!(r.id(), "7c9e-42");
    assert_eq!(r.to_string(), "bookings/7c9e-42");
    assert_eq!(
        palisade_rbac::ResourceRef::new("Bookings", "1"),
        Err(IdError::InvalidRoleByte { byte: b'B' })
    );
    assert_eq!(
        palisade_rbac::ResourceRef::new("bookings", "a b"),
        Err(IdError::ControlOrSpace)
    );
}
