//! One authorization check, side by side on the same policy: palisade-rbac against casbin
//! (RBAC with domains) and Cedar.
//!
//! The policy: 4 roles (`admin` inherits `agent` inherits `customer`; `auditor`), a deny on
//! `agent` (`bookings:delete`), 3 tenants, 1,000 subjects each holding one role in one tenant
//! (every tenth a second role in a second tenant). The requests: 1,024 (subject, tenant,
//! permission) triples drawn once from a fixed sequence: allowed, denied, denied by the deny,
//! and asked in a tenant the subject has no role in. Each benchmark checks them in turn, so
//! every figure is the mean of one check over the same mix.
//!
//! - `palisade-rbac/check`: `Policy::check` with the subject's roles resolved (a `Member`)
//!   and the permission given as text (one hash lookup to intern it, then bit operations);
//! - `palisade-rbac/check_id`: the same with the permission interned ahead;
//! - `palisade-rbac/lookup+check`: a hash-map lookup of the subject's `Member` by (tenant,
//!   subject), then `check`: what casbin and Cedar do (they look the roles up themselves);
//! - `casbin/enforce`: `Enforcer::enforce((subject, tenant, permission))`, model RBAC with
//!   domains plus deny, in-memory adapter;
//! - `cedar/is_authorized`: `Authorizer::is_authorized` with the requests built ahead; roles
//!   per tenant are entities (`Role::"t1#agent"`), users their members, one permit per tenant
//!   and role, one forbid per tenant for the deny.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::str::FromStr;
use std::time::Duration;

use casbin::prelude::*;
use criterion::{Criterion, criterion_group, criterion_main};
use palisade_rbac::{Assignments, Member, Permission, Policy, RoleName, SubjectId, TenantId};

const TENANTS: [&str; 3] = ["t1", "t2", "t3"];
const SUBJECTS: usize = 1000;
const REQUESTS: usize = 1024;

/// A role: name, inherits, grants, denies.
type RoleDef = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// The one policy every engine is given.
const ROLES: [RoleDef; 4] = [
    (
        "admin",
        &["agent"],
        &[
            "admin:users:read",
            "admin:users:write",
            "admin:billing:read",
        ],
        &[],
    ),
    (
        "agent",
        &["customer"],
        &["bookings:write", "calls:read", "calls:write"],
        &["bookings:delete"],
    ),
    ("customer", &[], &["bookings:read", "bookings:delete"], &[]),
    ("auditor", &[], &["calls:read", "audit:read"], &[]),
];

const PERMISSIONS: [&str; 8] = [
    "bookings:read",
    "bookings:write",
    "bookings:delete",
    "calls:read",
    "calls:write",
    "admin:users:read",
    "admin:billing:read",
    "audit:read",
];

fn toml_policy() -> String {
    let mut out = String::new();
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, inherits, grants, denies) in ROLES {
        out += &format!(
            "[roles.{name}]\ninherits = [{}]\ngrants = [{}]\ndenies = [{}]\n\n",
            list(inherits),
            list(grants),
            list(denies)
        );
    }
    out
}

/// (tenant, role) assignments of subject `i`.
fn assignments_of(i: usize) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![(TENANTS[i % 3], ROLES[i % 4].0)];
    if i.is_multiple_of(10) {
        out.push((TENANTS[(i + 1) % 3], ROLES[(i / 10) % 4].0));
    }
    out
}

fn subject(i: usize) -> String {
    format!("user-{i}")
}

/// A fixed pseudo-random sequence (xorshift), so every engine gets the same requests.
fn requests() -> Vec<(usize, &'static str, &'static str)> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as usize
    };
    (0..REQUESTS)
        .map(|_| {
            (
                next() % SUBJECTS,
                TENANTS[next() % 3],
                PERMISSIONS[next() % PERMISSIONS.len()],
            )
        })
        .collect()
}

const CASBIN_MODEL: &str = r#"
[request_definition]
r = sub, dom, act

[policy_definition]
p = sub, dom, act, eft

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.act == p.act
"#;

fn casbin_enforcer(rt: &tokio::runtime::Runtime) -> Enforcer {
    rt.block_on(async {
        let model = DefaultModel::from_str(CASBIN_MODEL).await.unwrap();
        let mut e = Enforcer::new(model, MemoryAdapter::default())
            .await
            .unwrap();
        let mut policies = Vec::new();
        let mut groupings = Vec::new();
        for tenant in TENANTS {
            for (name, inherits, grants, denies) in ROLES {
                for g in grants {
                    policies.push(vec![
                        name.into(),
                        tenant.into(),
                        (*g).into(),
                        "allow".into(),
                    ]);
                }
                for d in denies {
                    policies.push(vec![name.into(), tenant.into(), (*d).into(), "deny".into()]);
                }
                for parent in inherits {
                    groupings.push(vec![name.into(), (*parent).into(), tenant.into()]);
                }
            }
        }
        for i in 0..SUBJECTS {
            for (tenant, role) in assignments_of(i) {
                groupings.push(vec![subject(i), role.into(), tenant.into()]);
            }
        }
        e.add_policies(policies).await.unwrap();
        e.add_grouping_policies(groupings).await.unwrap();
        e
    })
}

struct Cedar {
    authorizer: cedar_policy::Authorizer,
    policies: cedar_policy::PolicySet,
    entities: cedar_policy::Entities,
}

fn uid(ty: &str, id: &str) -> cedar_policy::EntityUid {
    cedar_policy::EntityUid::from_str(&format!("{ty}::\"{id}\"")).unwrap()
}

fn cedar() -> Cedar {
    let mut text = String::new();
    let mut entities = Vec::new();
    for tenant in TENANTS {
        entities.push(cedar_policy::Entity::new_no_attrs(
            uid("Tenant", tenant),
            HashSet::new(),
        ));
        for (name, inherits, grants, denies) in ROLES {
            // A role's entity is a member of the roles it inherits: `in` follows the chain.
            let parents = inherits
                .iter()
                .map(|p| uid("Role", &format!("{tenant}#{p}")))
                .collect();
            entities.push(cedar_policy::Entity::new_no_attrs(
                uid("Role", &format!("{tenant}#{name}")),
                parents,
            ));
            let actions = |list: &[&str]| {
                list.iter()
                    .map(|a| format!("Action::\"{a}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !grants.is_empty() {
                text += &format!(
                    "permit(principal in Role::\"{tenant}#{name}\", action in [{}], resource == Tenant::\"{tenant}\");\n",
                    actions(grants)
                );
            }
            if !denies.is_empty() {
                text += &format!(
                    "forbid(principal in Role::\"{tenant}#{name}\", action in [{}], resource == Tenant::\"{tenant}\");\n",
                    actions(denies)
                );
            }
        }
    }
    for i in 0..SUBJECTS {
        let parents = assignments_of(i)
            .into_iter()
            .map(|(tenant, role)| uid("Role", &format!("{tenant}#{role}")))
            .collect();
        entities.push(cedar_policy::Entity::new_no_attrs(
            uid("User", &subject(i)),
            parents,
        ));
    }
    Cedar {
        authorizer: cedar_policy::Authorizer::new(),
        policies: text.parse().unwrap(),
        entities: cedar_policy::Entities::from_entities(entities, None).unwrap(),
    }
}

fn bench(c: &mut Criterion) {
    let policy = Policy::from_toml(&toml_policy()).unwrap();
    let tenants: Vec<TenantId> = TENANTS.iter().map(|t| TenantId::new(t).unwrap()).collect();
    let tenant_of = |name: &str| tenants.iter().find(|t| t.as_str() == name).unwrap().clone();
    // Subjects' roles as an assignment store returns them, resolved once.
    let mut members: HashMap<(TenantId, SubjectId), Member> = HashMap::new();
    for i in 0..SUBJECTS {
        let mut per_tenant: HashMap<&str, Vec<RoleName>> = HashMap::new();
        for (tenant, role) in assignments_of(i) {
            per_tenant
                .entry(tenant)
                .or_default()
                .push(RoleName::new(role).unwrap());
        }
        let sub = SubjectId::new(subject(i)).unwrap();
        for tenant in TENANTS {
            let a = Assignments {
                tenant_roles: per_tenant.get(tenant).cloned().unwrap_or_default(),
                global_roles: vec![],
            };
            members.insert(
                (tenant_of(tenant), sub.clone()),
                policy.member(&tenant_of(tenant), &a),
            );
        }
    }
    let reqs = requests();
    // The subject's roles resolved for the request's tenant, as a request handler holds them.
    let ours: Vec<(Member, TenantId, Permission)> = reqs
        .iter()
        .map(|(s, t, p)| {
            let key = (tenant_of(t), SubjectId::new(subject(*s)).unwrap());
            (members[&key].clone(), tenant_of(t), p.parse().unwrap())
        })
        .collect();
    let keyed: Vec<((TenantId, SubjectId), Permission)> = reqs
        .iter()
        .map(|(s, t, p)| {
            (
                (tenant_of(t), SubjectId::new(subject(*s)).unwrap()),
                p.parse().unwrap(),
            )
        })
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let enforcer = casbin_enforcer(&rt);
    let casbin_reqs: Vec<(String, String, String)> = reqs
        .iter()
        .map(|(s, t, p)| (subject(*s), (*t).to_owned(), (*p).to_owned()))
        .collect();
    let cedar = cedar();
    let cedar_reqs: Vec<cedar_policy::Request> = reqs
        .iter()
        .map(|(s, t, p)| {
            cedar_policy::Request::new(
                uid("User", &subject(*s)),
                uid("Action", p),
                uid("Tenant", t),
                cedar_policy::Context::empty(),
                None,
            )
            .unwrap()
        })
        .collect();

    // The engines agree on every request before anything is timed.
    let mut allowed = 0;
    for (i, (member, t, p)) in ours.iter().enumerate() {
        let mine = policy.check(t, member, p).is_allowed();
        let theirs = enforcer.enforce(casbin_reqs[i].clone()).unwrap();
        let cedars = cedar
            .authorizer
            .is_authorized(&cedar_reqs[i], &cedar.policies, &cedar.entities)
            .decision()
            == cedar_policy::Decision::Allow;
        assert_eq!(
            mine, theirs,
            "casbin disagrees on request {i}: {:?}",
            reqs[i]
        );
        assert_eq!(
            mine, cedars,
            "cedar disagrees on request {i}: {:?}",
            reqs[i]
        );
        allowed += usize::from(mine);
    }
    eprintln!("{allowed} of {REQUESTS} requests allowed");

    let mut g = c.benchmark_group("rbac_check");
    let mut i = 0usize;
    g.bench_function("palisade-rbac/check", |b| {
        b.iter(|| {
            i = (i + 1) % REQUESTS;
            let (member, t, p) = &ours[i];
            black_box(policy.check(t, member, p).is_allowed())
        })
    });
    let interned: Vec<_> = ours
        .iter()
        .map(|(m, t, p)| (m.clone(), t.clone(), policy.permission_id(p).unwrap()))
        .collect();
    g.bench_function("palisade-rbac/check_id", |b| {
        b.iter(|| {
            i = (i + 1) % REQUESTS;
            let (member, t, p) = &interned[i];
            black_box(policy.check_id(t, member, *p).is_allowed())
        })
    });
    g.bench_function("palisade-rbac/lookup+check", |b| {
        b.iter(|| {
            i = (i + 1) % REQUESTS;
            let (key, p) = &keyed[i];
            let allowed = members
                .get(key)
                .is_some_and(|m| policy.check(&key.0, m, p).is_allowed());
            black_box(allowed)
        })
    });
    g.bench_function("casbin/enforce", |b| {
        b.iter(|| {
            i = (i + 1) % REQUESTS;
            let (s, t, p) = &casbin_reqs[i];
            black_box(
                enforcer
                    .enforce((s.as_str(), t.as_str(), p.as_str()))
                    .unwrap(),
            )
        })
    });
    g.bench_function("cedar/is_authorized", |b| {
        b.iter(|| {
            i = (i + 1) % REQUESTS;
            let response =
                cedar
                    .authorizer
                    .is_authorized(&cedar_reqs[i], &cedar.policies, &cedar.entities);
            black_box(response.decision() == cedar_policy::Decision::Allow)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
