//! The [`Authorizer`] over the in-memory stores: the 403 / 404 answers of owned and
//! tenant-wide record checks under both [`Existence`] settings, the explanation of each, the
//! policy cell it reads (a replacement takes effect on the next check), its `Debug` form.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use palisade_rbac::{
    AssignmentStore, Authorizer, Existence, Explanation, MemoryAssignmentStore,
    MemoryRelationStore, Permission, Policy, Refusal, RelationStore, ResourceRef, RoleName,
    SharedPolicy, SubjectId, TenantId, Verdict,
};

const POLICY: &str = r#"[roles.customer]
grants = ["bookings:read"]

[roles.agent]
inherits = ["customer"]
grants = ["bookings:write"]
"#;

struct World {
    assignments: Arc<MemoryAssignmentStore>,
    relations: Arc<MemoryRelationStore>,
    ta: TenantId,
    tb: TenantId,
    alice: SubjectId,
    bob: SubjectId,
    mine: ResourceRef,
    bobs: ResourceRef,
    in_b: ResourceRef,
    missing: ResourceRef,
}

fn perm(p: &str) -> Permission {
    p.parse().unwrap()
}

async fn world() -> World {
    let w = World {
        assignments: Arc::new(MemoryAssignmentStore::new()),
        relations: Arc::new(MemoryRelationStore::new()),
        ta: TenantId::new("tenant-a").unwrap(),
        tb: TenantId::new("tenant-b").unwrap(),
        alice: SubjectId::new("alice").unwrap(),
        bob: SubjectId::new("bob").unwrap(),
        mine: ResourceRef::new("bookings", "1").unwrap(),
        bobs: ResourceRef::new("bookings", "2").unwrap(),
        in_b: ResourceRef::new("bookings", "3").unwrap(),
        missing: ResourceRef::new("bookings", "4").unwrap(),
    };
    let customer = RoleName::new("customer").unwrap();
    w.assignments
        .assign(&w.ta, &w.alice, &customer)
        .await
        .unwrap();
    w.assignments
        .assign(&w.ta, &w.bob, &customer)
        .await
        .unwrap();
    w.relations
        .set_owner(&w.mine, &w.ta, &w.alice)
        .await
        .unwrap();
    w.relations.set_owner(&w.bobs, &w.ta, &w.bob).await.unwrap();
    w.relations
        .set_owner(&w.in_b, &w.tb, &w.alice)
        .await
        .unwrap();
    w
}

fn authorizer(w: &World) -> Authorizer {
    Authorizer::new(
        SharedPolicy::new(Policy::from_toml(POLICY).unwrap()),
        w.assignments.clone(),
        w.relations.clone(),
    )
}

fn refused(v: &Verdict, refusal: Refusal, explanation: Explanation) {
    assert!(!v.is_allowed(), "{v:?}");
    assert_eq!(v.refusal(), Some(refusal), "{v:?}");
    assert_eq!(v.explanation(), &explanation, "{v:?}");
}

fn granted_read() -> Explanation {
    Explanation::Granted {
        held: RoleName::new("customer").unwrap(),
        role: RoleName::new("customer").unwrap(),
        scope: "bookings:read".parse().unwrap(),
    }
}

#[tokio::test]
async fn owned_records_hide_other_tenants_and_owners_by_default() {
    let w = world().await;
    let authz = authorizer(&w);
    let read = perm("bookings:read");
    let own = authz
        .authorize_owned(&w.ta, &w.alice, &read, &w.mine)
        .await
        .unwrap();
    assert!(own.is_allowed());
    assert_eq!(own.refusal(), None);
    assert_eq!(own.explanation(), &granted_read());
    let other_owner = authz
        .authorize_owned(&w.ta, &w.alice, &read, &w.bobs)
        .await
        .unwrap();
    refused(&other_owner, Refusal::NotFound, Explanation::OtherOwner);
    // Alice owns the record in tenant B, but the request acts in tenant A.
    let other_tenant = authz
        .authorize_owned(&w.ta, &w.alice, &read, &w.in_b)
        .await
        .unwrap();
    refused(&other_tenant, Refusal::NotFound, Explanation::OtherTenant);
    let missing = authz
        .authorize_owned(&w.ta, &w.alice, &read, &w.missing)
        .await
        .unwrap();
    refused(&missing, Refusal::NotFound, Explanation::RecordNotFound);
    // No permission: 403, decided before the record is read (even for a missing record).
    let write = perm("bookings:write");
    for record in [&w.mine, &w.missing] {
        let v = authz
            .authorize_owned(&w.ta, &w.alice, &write, record)
            .await
            .unwrap();
        refused(&v, Refusal::Forbidden, Explanation::NoGrant);
    }
}

#[tokio::test]
async fn revealing_existence_answers_403_for_others_records() {
    let w = world().await;
    let authz = authorizer(&w).existence(Existence::Reveal);
    let read = perm("bookings:read");
    let other_owner = authz
        .authorize_owned(&w.ta, &w.alice, &read, &w.bobs)
        .await
        .unwrap();
    refused(&other_owner, Refusal::Forbidden, Explanation::OtherOwner);
    let other_tenant = authz
        .authorize_in_tenant(&w.ta, &w.alice, &read, &w.in_b)
        .await
        .unwrap();
    refused(&other_tenant, Refusal::Forbidden, Explanation::OtherTenant);
    // A record that does not exist is 404 whatever the setting.
    let missing = authz
        .authorize_owned(&w.ta, &w.alice, &read, &w.missing)
        .await
        .unwrap();
    refused(&missing, Refusal::NotFound, Explanation::RecordNotFound);
    assert!(
        format!("{authz:?}").contains("existence: Reveal"),
        "{authz:?}"
    );
    assert!(
        format!("{:?}", authorizer(&w)).contains("existence: Hide"),
        "{authz:?}"
    );
}

#[tokio::test]
async fn tenant_wide_records_ignore_the_owner_but_not_the_tenant() {
    let w = world().await;
    let authz = authorizer(&w);
    let read = perm("bookings:read");
    for record in [&w.mine, &w.bobs] {
        let v = authz
            .authorize_in_tenant(&w.ta, &w.alice, &read, record)
            .await
            .unwrap();
        assert!(v.is_allowed(), "{v:?}");
        assert_eq!(v.explanation(), &granted_read());
    }
    let v = authz
        .authorize_in_tenant(&w.ta, &w.alice, &read, &w.in_b)
        .await
        .unwrap();
    refused(&v, Refusal::NotFound, Explanation::OtherTenant);
    // Bob, in tenant B where he has no role: refused before any record.
    let v = authz
        .authorize_in_tenant(&w.tb, &w.bob, &read, &w.in_b)
        .await
        .unwrap();
    refused(&v, Refusal::Forbidden, Explanation::NotInTenant);
}

#[tokio::test]
async fn checks_read_the_current_policy_of_the_cell() {
    let w = world().await;
    let authz = authorizer(&w);
    let write = perm("bookings:write");
    let v = authz.authorize(&w.ta, &w.alice, &write).await.unwrap();
    refused(&v, Refusal::Forbidden, Explanation::NoGrant);
    authz
        .policy()
        .replace(Policy::from_toml("[roles.customer]\ngrants = [\"bookings:*\"]\n").unwrap());
    let v = authz.authorize(&w.ta, &w.alice, &write).await.unwrap();
    assert!(v.is_allowed(), "{v:?}");
    assert_eq!(
        v.explanation(),
        &Explanation::Granted {
            held: RoleName::new("customer").unwrap(),
            role: RoleName::new("customer").unwrap(),
            scope: "bookings:*".parse().unwrap(),
        }
    );
    // Clones share the cell.
    let clone = authz.clone();
    authz.policy().replace(Policy::from_toml(POLICY).unwrap());
    let v = clone.authorize(&w.ta, &w.alice, &write).await.unwrap();
    assert!(!v.is_allowed(), "{v:?}");
}
