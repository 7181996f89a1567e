//! The conformance suites every [`AssignmentStore`] and [`RelationStore`] must pass, and the
//! cross-tenant suite (feature `testing`).
//!
//! The same functions run against the memory stores here and against the Postgres stores in
//! `palisade-postgres`: assignments (assign, revoke, global roles, tenant separation, tenant
//! deletion, concurrent assigns), relations (owners, no move across tenants, removal, tenant
//! deletion, concurrent claims of one record) and, through an [`Authorizer`], the seeds'
//! cross-tenant cases: a user of tenant A cannot read tenant B's calls, credentials or
//! assistants, whatever its roles, and is answered as if they did not exist. Every call works
//! under fresh random tenant and record ids, so runs against a shared server never collide.
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//! use palisade_rbac::{MemoryAssignmentStore, MemoryRelationStore, testing};
//!
//! testing::run_all(Arc::new(MemoryAssignmentStore::new()), Arc::new(MemoryRelationStore::new())).await;
//! # }
//! ```
//!
//! Each check panics with a message naming what failed, like any test assertion.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use crate::authorizer::Authorizer;
use crate::policy::Policy;
use crate::principal::{RoleName, SubjectId, TenantId};
use crate::reload::SharedPolicy;
use crate::scope::Permission;
use crate::store::{AssignmentStore, RelationStore, ResourceRef};
use crate::verdict::{Explanation, Refusal};

/// A value unique to this call: `<label>-<random hex>`.
pub fn unique(label: &str) -> String {
    let a = RandomState::new().hash_one(label);
    let b = RandomState::new().hash_one(std::time::SystemTime::now());
    format!("{label}-{a:016x}{b:016x}")
}

fn tenant(label: &str) -> TenantId {
    TenantId::new(unique(label)).unwrap()
}
fn subject(label: &str) -> SubjectId {
    SubjectId::new(unique(label)).unwrap()
}
fn role(name: &str) -> RoleName {
    RoleName::new(name).unwrap()
}
fn sorted(mut roles: Vec<RoleName>) -> Vec<RoleName> {
    roles.sort();
    roles
}

/// Assign, revoke, lookups per tenant, global roles.
pub async fn assignments_per_tenant<S: AssignmentStore + ?Sized>(store: &S) {
    let (a, b) = (tenant("a"), tenant("b"));
    let user = subject("user");
    let empty = store.assignments(&a, &user).await.unwrap();
    assert!(empty.tenant_roles.is_empty() && empty.global_roles.is_empty());
    assert!(store.assign(&a, &user, &role("agent")).await.unwrap());
    assert!(
        !store.assign(&a, &user, &role("agent")).await.unwrap(),
        "assigning twice reports false"
    );
    assert!(store.assign(&a, &user, &role("customer")).await.unwrap());
    assert!(store.assign(&b, &user, &role("customer")).await.unwrap());
    let in_a = store.assignments(&a, &user).await.unwrap();
    assert_eq!(
        sorted(in_a.tenant_roles),
        vec![role("agent"), role("customer")]
    );
    let in_b = store.assignments(&b, &user).await.unwrap();
    assert_eq!(
        in_b.tenant_roles,
        vec![role("customer")],
        "tenants are separate"
    );
    assert!(store.revoke(&a, &user, &role("agent")).await.unwrap());
    assert!(!store.revoke(&a, &user, &role("agent")).await.unwrap());
    assert_eq!(
        store.assignments(&a, &user).await.unwrap().tenant_roles,
        vec![role("customer")]
    );
    // Global roles come with every tenant's lookup, even one the subject is not in.
    assert!(store.assign_global(&user, &role("operator")).await.unwrap());
    assert!(!store.assign_global(&user, &role("operator")).await.unwrap());
    let elsewhere = store.assignments(&tenant("c"), &user).await.unwrap();
    assert!(elsewhere.tenant_roles.is_empty());
    assert_eq!(elsewhere.global_roles, vec![role("operator")]);
    assert!(store.revoke_global(&user, &role("operator")).await.unwrap());
    assert!(!store.revoke_global(&user, &role("operator")).await.unwrap());
    assert!(
        store
            .assignments(&a, &user)
            .await
            .unwrap()
            .global_roles
            .is_empty()
    );
}

/// Deleting a tenant removes its assignments only.
pub async fn tenant_deletion_removes_assignments<S: AssignmentStore + ?Sized>(store: &S) {
    let (a, b) = (tenant("a"), tenant("b"));
    let (u1, u2) = (subject("u1"), subject("u2"));
    store.assign(&a, &u1, &role("agent")).await.unwrap();
    store.assign(&a, &u2, &role("customer")).await.unwrap();
    store.assign(&a, &u2, &role("agent")).await.unwrap();
    store.assign(&b, &u1, &role("admin")).await.unwrap();
    store.assign_global(&u1, &role("operator")).await.unwrap();
    assert_eq!(store.delete_tenant(&a).await.unwrap(), 3);
    assert!(
        store
            .assignments(&a, &u2)
            .await
            .unwrap()
            .tenant_roles
            .is_empty()
    );
    let u1_in_b = store.assignments(&b, &u1).await.unwrap();
    assert_eq!(
        u1_in_b.tenant_roles,
        vec![role("admin")],
        "other tenants stay"
    );
    assert_eq!(
        u1_in_b.global_roles,
        vec![role("operator")],
        "global roles stay"
    );
    assert_eq!(store.delete_tenant(&a).await.unwrap(), 0);
    store.revoke_global(&u1, &role("operator")).await.unwrap();
}

/// 20 concurrent assigns of one role: exactly one reports it new.
pub async fn concurrent_assigns<S: AssignmentStore + 'static>(store: Arc<S>) {
    let (t, u) = (tenant("t"), subject("u"));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (store, t, u) = (store.clone(), t.clone(), u.clone());
            tokio::spawn(async move { store.assign(&t, &u, &role("agent")).await.unwrap() })
        })
        .collect();
    let mut new = 0;
    for task in tasks {
        new += usize::from(task.await.unwrap());
    }
    assert_eq!(new, 1, "one of 20 concurrent assigns is new");
    assert_eq!(
        store.assignments(&t, &u).await.unwrap().tenant_roles,
        vec![role("agent")]
    );
}

/// Owners: unknown, set, changed within the tenant, never moved to another tenant, removed,
/// deleted with the tenant.
pub async fn relations_owners<S: RelationStore + ?Sized>(store: &S) {
    let (a, b) = (tenant("a"), tenant("b"));
    let (alice, bob) = (subject("alice"), subject("bob"));
    let booking = ResourceRef::new("bookings", unique("bk")).unwrap();
    assert_eq!(store.owner(&booking).await.unwrap(), None);
    assert!(store.set_owner(&booking, &a, &alice).await.unwrap());
    let o = store.owner(&booking).await.unwrap().unwrap();
    assert_eq!((o.tenant, o.owner), (a.clone(), alice.clone()));
    assert!(store.set_owner(&booking, &a, &bob).await.unwrap());
    assert_eq!(store.owner(&booking).await.unwrap().unwrap().owner, bob);
    assert!(
        !store.set_owner(&booking, &b, &alice).await.unwrap(),
        "a record is never moved to another tenant"
    );
    assert_eq!(store.owner(&booking).await.unwrap().unwrap().tenant, a);
    // The same id in another kind is another record.
    let call = ResourceRef::new("calls", booking.id()).unwrap();
    assert_eq!(store.owner(&call).await.unwrap(), None);
    assert!(store.remove(&booking).await.unwrap());
    assert!(!store.remove(&booking).await.unwrap());
    assert_eq!(store.owner(&booking).await.unwrap(), None);
    let (r1, r2, r3) = (
        ResourceRef::new("calls", unique("c1")).unwrap(),
        ResourceRef::new("calls", unique("c2")).unwrap(),
        ResourceRef::new("calls", unique("c3")).unwrap(),
    );
    store.set_owner(&r1, &a, &alice).await.unwrap();
    store.set_owner(&r2, &a, &bob).await.unwrap();
    store.set_owner(&r3, &b, &alice).await.unwrap();
    assert_eq!(store.delete_tenant(&a).await.unwrap(), 2);
    assert_eq!(store.owner(&r1).await.unwrap(), None);
    assert!(
        store.owner(&r3).await.unwrap().is_some(),
        "other tenants stay"
    );
    store.remove(&r3).await.unwrap();
}

/// 10 tenants claim one new record at once: exactly one gets it.
pub async fn concurrent_claims<S: RelationStore + 'static>(store: Arc<S>) {
    let record = ResourceRef::new("assistants", unique("as")).unwrap();
    let tenants: Vec<TenantId> = (0..10).map(|i| tenant(&format!("t{i}"))).collect();
    let tasks: Vec<_> = tenants
        .iter()
        .map(|t| {
            let (store, record, t) = (store.clone(), record.clone(), t.clone());
            tokio::spawn(async move {
                store
                    .set_owner(&record, &t, &SubjectId::new("owner").unwrap())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        won += usize::from(task.await.unwrap());
    }
    assert_eq!(won, 1, "one of 10 tenants claiming a new record gets it");
    let owner = store.owner(&record).await.unwrap().unwrap();
    assert!(tenants.contains(&owner.tenant));
    store.remove(&record).await.unwrap();
}

/// The policy of the cross-tenant suite: tenant admins, agents, customers, and a global
/// operator role.
pub const CROSS_TENANT_POLICY: &str = r#"
[roles.admin]
inherits = ["agent"]
grants = ["credentials:*", "assistants:*"]

[roles.agent]
inherits = ["customer"]
grants = ["calls:*", "assistants:read"]

[roles.customer]
grants = ["bookings:read"]

[roles.operator]
global = true
grants = ["calls:read"]
"#;

/// The seeds' cross-tenant cases through an [`Authorizer`] on these stores: an admin of
/// tenant A holds every permission, yet cannot read tenant B's calls, credentials or
/// assistants (404, the answer for a record that does not exist), cannot act in B at all
/// (403, no role there), and a customer of A reads only its own bookings. A global operator
/// reads calls in every tenant, and only calls.
pub async fn cross_tenant<A, R>(assignments: Arc<A>, relations: Arc<R>)
where
    A: AssignmentStore + 'static,
    R: RelationStore + 'static,
{
    let policy = SharedPolicy::new(Policy::from_toml(CROSS_TENANT_POLICY).unwrap());
    let authz = Authorizer::new(policy, assignments.clone(), relations.clone());
    let (ta, tb) = (tenant("tenant-a"), tenant("tenant-b"));
    let (admin_a, admin_b, customer_a, other_customer_a, operator) = (
        subject("admin-a"),
        subject("admin-b"),
        subject("customer-a"),
        subject("customer-a2"),
        subject("operator"),
    );
    assignments
        .assign(&ta, &admin_a, &role("admin"))
        .await
        .unwrap();
    assignments
        .assign(&tb, &admin_b, &role("admin"))
        .await
        .unwrap();
    assignments
        .assign(&ta, &customer_a, &role("customer"))
        .await
        .unwrap();
    assignments
        .assign(&ta, &other_customer_a, &role("customer"))
        .await
        .unwrap();
    assignments
        .assign_global(&operator, &role("operator"))
        .await
        .unwrap();
    let perm = |p: &str| -> Permission { p.parse().unwrap() };
    let mut b_records = Vec::new();
    for (kind, action) in [
        ("calls", "calls:read"),
        ("credentials", "credentials:read"),
        ("assistants", "assistants:read"),
    ] {
        let in_a = ResourceRef::new(kind, unique(kind)).unwrap();
        let in_b = ResourceRef::new(kind, unique(kind)).unwrap();
        relations.set_owner(&in_a, &ta, &admin_a).await.unwrap();
        relations.set_owner(&in_b, &tb, &admin_b).await.unwrap();
        b_records.push(in_b.clone());
        // A's admin, on A's record: allowed. On B's: 404, as a record that does not exist.
        let own = authz
            .authorize_in_tenant(&ta, &admin_a, &perm(action), &in_a)
            .await
            .unwrap();
        assert!(own.is_allowed(), "{kind}: {own:?}");
        let other = authz
            .authorize_in_tenant(&ta, &admin_a, &perm(action), &in_b)
            .await
            .unwrap();
        assert_eq!(other.refusal(), Some(Refusal::NotFound), "{kind}");
        assert_eq!(other.explanation(), &Explanation::OtherTenant);
        let missing = ResourceRef::new(kind, unique("missing")).unwrap();
        let none = authz
            .authorize_in_tenant(&ta, &admin_a, &perm(action), &missing)
            .await
            .unwrap();
        assert_eq!(
            none.refusal(),
            other.refusal(),
            "{kind}: another tenant's record answers as a missing one"
        );
        // Claiming to act in B: no role there, 403 before any record is read.
        let in_tenant_b = authz
            .authorize_in_tenant(&tb, &admin_a, &perm(action), &in_b)
            .await
            .unwrap();
        assert_eq!(in_tenant_b.refusal(), Some(Refusal::Forbidden), "{kind}");
        assert_eq!(in_tenant_b.explanation(), &Explanation::NotInTenant);
        let plain = authz.authorize(&tb, &admin_a, &perm(action)).await.unwrap();
        assert!(!plain.is_allowed(), "{kind}");
        // Ownership: A's admin does not own B's admin's record either way.
        let owned = authz
            .authorize_owned(&ta, &admin_a, &perm(action), &in_b)
            .await
            .unwrap();
        assert_eq!(owned.refusal(), Some(Refusal::NotFound), "{kind}");
    }
    // A customer reads its own booking only; another customer's is 404.
    let booking = ResourceRef::new("bookings", unique("booking")).unwrap();
    relations
        .set_owner(&booking, &ta, &customer_a)
        .await
        .unwrap();
    let read = perm("bookings:read");
    assert!(
        authz
            .authorize_owned(&ta, &customer_a, &read, &booking)
            .await
            .unwrap()
            .is_allowed()
    );
    let theirs = authz
        .authorize_owned(&ta, &other_customer_a, &read, &booking)
        .await
        .unwrap();
    assert_eq!(theirs.refusal(), Some(Refusal::NotFound));
    assert_eq!(theirs.explanation(), &Explanation::OtherOwner);
    // Without the permission: 403, whatever the record.
    let no_perm = authz
        .authorize_owned(&ta, &customer_a, &perm("calls:read"), &b_records[0])
        .await
        .unwrap();
    assert_eq!(no_perm.refusal(), Some(Refusal::Forbidden));
    // The global operator reads calls in both tenants, nothing else.
    for t in [&ta, &tb] {
        assert!(
            authz
                .authorize(t, &operator, &perm("calls:read"))
                .await
                .unwrap()
                .is_allowed()
        );
        assert!(
            !authz
                .authorize(t, &operator, &perm("credentials:read"))
                .await
                .unwrap()
                .is_allowed()
        );
    }
    // Deleting tenant B removes its admin's roles.
    assignments.delete_tenant(&tb).await.unwrap();
    relations.delete_tenant(&tb).await.unwrap();
    assert!(
        !authz
            .authorize(&tb, &admin_b, &perm("calls:read"))
            .await
            .unwrap()
            .is_allowed()
    );
    assignments
        .revoke_global(&operator, &role("operator"))
        .await
        .unwrap();
}

/// Runs every case of the assignment and relation suites, then the cross-tenant suite.
pub async fn run_all<A, R>(assignments: Arc<A>, relations: Arc<R>)
where
    A: AssignmentStore + 'static,
    R: RelationStore + 'static,
{
    assignments_per_tenant(&*assignments).await;
    tenant_deletion_removes_assignments(&*assignments).await;
    concurrent_assigns(assignments.clone()).await;
    relations_owners(&*relations).await;
    concurrent_claims(relations.clone()).await;
    cross_tenant(assignments, relations).await;
}
