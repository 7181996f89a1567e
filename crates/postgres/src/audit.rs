//! [`PostgresAuditSink`]: palisade-audit's [`AuditSink`] on PostgreSQL, one function call per
//! append.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use palisade_audit::{
    Action, Actor, AuditError, AuditSink, ChainMac, Checkpoint, ClientAddress, Event, EventDraft,
    Head, Outcome, Query, Reason, ReasonPolicy, Resource, ResourceId, ResourceType, Sealer,
};
use palisade_rbac::{RoleName, TenantId};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool, Row};

use crate::PostgresStoreError;
use crate::calls::{Calls, check_timeout};
use crate::schema::{AUDIT_SQL, DEFAULT_SCHEMA, check_schema, render};

/// The default timeout of one [`PostgresAuditSink`] call (2 seconds).
pub const DEFAULT_AUDIT_TIMEOUT: Duration = Duration::from_secs(2);

/// How many times an append reseals on a head moved by another process before giving up
/// with [`AuditError::Contended`].
const MAX_RESEALS: usize = 64;

const COLUMNS: &str = "tenant, seq, epoch, time_ms, actor, role, action, resource_type, \
                       resource_id, reason, outcome, client, prev, mac";

struct Statements {
    migrate: Arc<str>,
    append: Arc<str>,
    read: Arc<str>,
    head: Arc<str>,
    anchor: Arc<str>,
    purge: Arc<str>,
    schema: Arc<str>,
}

impl Statements {
    fn new(schema: &str) -> Self {
        let s = format!("\"{schema}\"");
        Self {
            migrate: render(AUDIT_SQL, schema).into(),
            append: format!(
                "SELECT appended, head_seq, head_mac, head_epoch FROM {s}.audit_append(\
                 $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            )
            .into(),
            read: format!(
                "SELECT {COLUMNS} FROM {s}.audit_events \
                 WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            )
            .into(),
            head: format!("SELECT head_seq, head_mac, head_epoch FROM {s}.audit_head($1)").into(),
            anchor: format!("SELECT anchor FROM {s}.audit_heads WHERE tenant = $1").into(),
            purge: format!("SELECT {s}.audit_purge($1, $2, $3, $4, $5)").into(),
            schema: s.into(),
        }
    }
}

/// An [`AuditSink`] on PostgreSQL (14 or later).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use palisade_audit::{Action, Actor, AuditSink, ChainKey, ChainKeys, EventDraft, Resource, Sealer};
/// use palisade_postgres::PostgresAuditSink;
/// use palisade_postgres::sqlx::postgres::PgPoolOptions;
/// use palisade_rbac::TenantId;
///
/// let pool = PgPoolOptions::new().connect("postgres://postgres@127.0.0.1:5432/test").await?;
/// let key = ChainKey::from_hex(1, &std::env::var("AUDIT_CHAIN_KEY")?)?;
/// let sink = PostgresAuditSink::new(pool, Sealer::new(ChainKeys::new(key)));
/// sink.migrate().await?;
/// let draft = EventDraft::new(
///     TenantId::new("acme")?,
///     Actor::parse("u-7")?,
///     Action::CREDENTIAL_READ,
///     Resource::parse("api_key:k-1")?,
/// );
/// let event = sink.append(draft).await?;
/// # let _ = event;
/// # Ok(())
/// # }
/// ```
///
/// # Tables
///
/// Created by [`migrate`](Self::migrate) (`migrations/0007_audit.sql`): `audit_events`
/// (append-only: a trigger refuses `UPDATE`, `DELETE` and `TRUNCATE`, except the deletion
/// of `audit_purge()`; indexes for every [`Query`] criterion) and `audit_heads` (one row per
/// purged tenant: the anchor checkpoint).
///
/// # One round trip per append
///
/// The sink seals the event on the head it last saw for the tenant (the chain keys never
/// reach the database) and calls `audit_append(…)`, which takes the tenant's
/// transaction-level advisory lock, reads the head (the last event, by primary key), and
/// either inserts the event (when the head is still the one the event was sealed on) or
/// answers the current head; the sink then reseals on it and calls again. Inside one
/// process, appends of one tenant queue on a local lock first, so they rarely need a second
/// call; across processes, the advisory lock serializes them and the primary key
/// `(tenant, seq)` refuses a duplicate. Sequence numbers have no gaps and the chain never
/// forks.
///
/// # Errors
///
/// Every failure of the database is [`AuditError::SinkUnavailable`] with a reason
/// beginning `postgres:`; an append that timed out may still have been stored (the next
/// append reseals on the real head).
pub struct PostgresAuditSink {
    pool: PgPool,
    schema: Arc<str>,
    sql: Arc<Statements>,
    timeout: Duration,
    sealer: Arc<Sealer>,
    heads: Arc<Mutex<HashMap<TenantId, Arc<tokio::sync::Mutex<Head>>>>>,
}

impl fmt::Debug for PostgresAuditSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresAuditSink")
            .field("schema", &self.schema)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: PostgresStoreError) -> AuditError {
    AuditError::SinkUnavailable(format!("postgres: {e}"))
}

fn corrupt(what: &'static str) -> AuditError {
    AuditError::SinkUnavailable(format!("postgres: stored {what} does not parse"))
}

impl PostgresAuditSink {
    /// A sink on `pool` in [`DEFAULT_SCHEMA`], writing with `sealer`'s keys and policy,
    /// with [`DEFAULT_AUDIT_TIMEOUT`].
    pub fn new(pool: PgPool, sealer: Sealer) -> Self {
        Self {
            pool,
            schema: DEFAULT_SCHEMA.into(),
            sql: Arc::new(Statements::new(DEFAULT_SCHEMA)),
            timeout: DEFAULT_AUDIT_TIMEOUT,
            sealer: Arc::new(sealer),
            heads: Arc::default(),
        }
    }

    /// Uses the tables in `schema` instead of [`DEFAULT_SCHEMA`].
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] unless `schema` is a plain identifier.
    pub fn with_schema(mut self, schema: &str) -> Result<Self, PostgresStoreError> {
        check_schema(schema)?;
        self.schema = schema.into();
        self.sql = Arc::new(Statements::new(schema));
        Ok(self)
    }

    /// Sets the timeout of each call (default [`DEFAULT_AUDIT_TIMEOUT`]).
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidConfig`] for a zero timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, PostgresStoreError> {
        self.timeout = check_timeout(timeout)?;
        Ok(self)
    }

    /// The schema of the sink's tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Creates the schema, tables, trigger and functions if they do not exist, in one
    /// transaction under the crate's advisory lock: safe at every start-up.
    ///
    /// # Errors
    /// [`PostgresStoreError::Unavailable`] when the database refuses.
    pub async fn migrate(&self) -> Result<(), PostgresStoreError> {
        self.calls().migrate(&self.sql.migrate).await
    }

    fn calls(&self) -> Calls<'_> {
        Calls {
            pool: &self.pool,
            timeout: self.timeout,
        }
    }

    fn tenant_lock(&self, tenant: &TenantId) -> Arc<tokio::sync::Mutex<Head>> {
        let mut heads = self
            .heads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(
            heads
                .entry(tenant.clone())
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Head::GENESIS))),
        )
    }

    /// Stores one sealed event; `Ok(None)` when stored, `Ok(Some(head))` when the head moved.
    async fn store(&self, e: &Event) -> Result<Option<Head>, AuditError> {
        let next_epoch = Head::after(e)
            .epoch
            .map(|x| i32::try_from(x).unwrap_or(i32::MAX));
        let q = sqlx::query(AssertSqlSafe(self.sql.append.to_string()))
            .bind(e.tenant.as_str())
            .bind(i64::try_from(e.seq).unwrap_or(i64::MAX))
            .bind(e.prev.as_bytes().as_slice())
            .bind(next_epoch)
            .bind(i32::try_from(e.epoch).unwrap_or(i32::MAX))
            .bind(i64::try_from(e.time_ms).unwrap_or(i64::MAX))
            .bind(e.actor.subject().as_str())
            .bind(e.actor.role().map(RoleName::as_str))
            .bind(e.action.as_str())
            .bind(e.resource.kind.as_str())
            .bind(e.resource.id.as_str())
            .bind(e.reason.as_ref().map(Reason::as_str))
            .bind(i16::from(e.outcome.code()))
            .bind(e.client.as_ref().map(ToString::to_string))
            .bind(e.mac.as_bytes().as_slice());
        let row = self
            .calls()
            .run(q.fetch_one(&self.pool))
            .await
            .map_err(unavailable)?;
        let appended: bool = row.try_get(0).map_err(|_| corrupt("head"))?;
        if appended {
            return Ok(None);
        }
        Ok(Some(head_from(&row, 1)?))
    }
}

/// The head in columns `first`, `first + 1`, `first + 2` of `row` (seq, MAC, epoch).
fn head_from(row: &PgRow, first: usize) -> Result<Head, AuditError> {
    let seq: i64 = row.try_get(first).map_err(|_| corrupt("head"))?;
    let mac: Vec<u8> = row.try_get(first + 1).map_err(|_| corrupt("head"))?;
    let epoch: Option<i32> = row.try_get(first + 2).map_err(|_| corrupt("head"))?;
    Ok(Head {
        seq: u64::try_from(seq).map_err(|_| corrupt("head"))?,
        mac: ChainMac::from_bytes(mac.try_into().map_err(|_| corrupt("head"))?),
        epoch: epoch.and_then(|e| u32::try_from(e).ok()),
    })
}

fn event_from(row: &PgRow) -> Result<Event, AuditError> {
    let text = |i: usize| -> Result<String, AuditError> {
        row.try_get::<String, _>(i).map_err(|_| corrupt("event"))
    };
    let opt = |i: usize| -> Result<Option<String>, AuditError> {
        row.try_get::<Option<String>, _>(i)
            .map_err(|_| corrupt("event"))
    };
    let bytes = |i: usize| -> Result<ChainMac, AuditError> {
        let b: Vec<u8> = row.try_get(i).map_err(|_| corrupt("event"))?;
        Ok(ChainMac::from_bytes(
            b.try_into().map_err(|_| corrupt("mac"))?,
        ))
    };
    let seq: i64 = row.try_get(1).map_err(|_| corrupt("event"))?;
    let epoch: i32 = row.try_get(2).map_err(|_| corrupt("event"))?;
    let time: i64 = row.try_get(3).map_err(|_| corrupt("event"))?;
    let outcome: i16 = row.try_get(10).map_err(|_| corrupt("event"))?;
    let mut actor = Actor::parse(&text(4)?)?;
    if let Some(role) = opt(5)? {
        actor = actor.with_role(RoleName::new(role).map_err(|_| corrupt("role"))?);
    }
    Ok(Event {
        tenant: TenantId::new(text(0)?).map_err(|_| corrupt("tenant"))?,
        seq: u64::try_from(seq).map_err(|_| corrupt("seq"))?,
        epoch: u32::try_from(epoch).map_err(|_| corrupt("epoch"))?,
        time_ms: u64::try_from(time).map_err(|_| corrupt("time"))?,
        actor,
        action: Action::from_stored(&text(6)?)?,
        resource: Resource::new(
            ResourceType::new(text(7)?)?,
            ResourceId::from_stored(&text(8)?)?,
        ),
        reason: opt(9)?.map(Reason::new).transpose()?,
        outcome: u8::try_from(outcome)
            .ok()
            .and_then(Outcome::from_code)
            .ok_or(corrupt("outcome"))?,
        client: opt(11)?.as_deref().map(ClientAddress::parse).transpose()?,
        prev: bytes(12)?,
        mac: bytes(13)?,
    })
}

#[async_trait]
impl AuditSink for PostgresAuditSink {
    async fn append(&self, draft: EventDraft) -> Result<Event, AuditError> {
        self.sealer.check(&draft)?;
        let lock = self.tenant_lock(draft.tenant());
        let mut head = lock.lock().await;
        for _ in 0..MAX_RESEALS {
            let events = self.sealer.seal(&head, draft.clone())?;
            let mut moved = None;
            let mut last = None;
            for e in events {
                match self.store(&e).await? {
                    None => {
                        *head = Head::after(&e);
                        last = Some(e);
                    }
                    Some(current) => {
                        moved = Some(current);
                        break;
                    }
                }
            }
            match (moved, last) {
                (Some(current), _) => *head = current,
                (None, Some(e)) => return Ok(e),
                (None, None) => return Err(AuditError::SinkUnavailable("nothing sealed".into())),
            }
        }
        Err(AuditError::Contended)
    }

    async fn read(
        &self,
        tenant: &TenantId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Event>, AuditError> {
        let q = sqlx::query(AssertSqlSafe(self.sql.read.to_string()))
            .bind(tenant.as_str())
            .bind(i64::try_from(after_seq).unwrap_or(i64::MAX))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = self
            .calls()
            .run(q.fetch_all(&self.pool))
            .await
            .map_err(unavailable)?;
        rows.iter().map(event_from).collect()
    }

    async fn head(&self, tenant: &TenantId) -> Result<Head, AuditError> {
        let q = sqlx::query(AssertSqlSafe(self.sql.head.to_string())).bind(tenant.as_str());
        let row = self
            .calls()
            .run(q.fetch_optional(&self.pool))
            .await
            .map_err(unavailable)?;
        row.map_or(Ok(Head::GENESIS), |row| head_from(&row, 0))
    }

    async fn query(&self, tenant: &TenantId, query: &Query) -> Result<Vec<Event>, AuditError> {
        // Only the criteria set become conditions (so each query can use its index); the
        // values are bound, never spliced.
        let mut sql = format!(
            "SELECT {COLUMNS} FROM {}.audit_events WHERE tenant = $1",
            self.sql.schema
        );
        let mut n = 1;
        let mut cond = |col: &str, op: &str| {
            n += 1;
            sql.push_str(&format!(" AND {col} {op} ${n}"));
        };
        let actor = query.actor_filter().map(|a| a.as_str().to_owned());
        let rtype = query.resource_type_filter().map(|t| t.as_str().to_owned());
        let rid = query.resource_id_filter().map(|i| i.as_str().to_owned());
        let action = query.action_filter().map(|a| a.as_str().to_owned());
        let (from, to) = query.time_range();
        for (present, col, op) in [
            (actor.is_some(), "actor", "="),
            (rtype.is_some(), "resource_type", "="),
            (rid.is_some(), "resource_id", "="),
            (action.is_some(), "action", "="),
            (from.is_some(), "time_ms", ">="),
            (to.is_some(), "time_ms", "<"),
        ] {
            if present {
                cond(col, op);
            }
        }
        n += 1;
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${n}"));
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(tenant.as_str());
        for v in [actor, rtype, rid, action].into_iter().flatten() {
            q = q.bind(v);
        }
        for t in [from, to].into_iter().flatten() {
            q = q.bind(i64::try_from(t).unwrap_or(i64::MAX));
        }
        q = q.bind(i64::try_from(query.max_results()).unwrap_or(i64::MAX));
        let rows = self
            .calls()
            .run(q.fetch_all(&self.pool))
            .await
            .map_err(unavailable)?;
        rows.iter().map(event_from).collect()
    }

    async fn anchor(&self, tenant: &TenantId) -> Result<Option<Checkpoint>, AuditError> {
        let q = sqlx::query(AssertSqlSafe(self.sql.anchor.to_string())).bind(tenant.as_str());
        let row = self
            .calls()
            .run(q.fetch_optional(&self.pool))
            .await
            .map_err(unavailable)?;
        let Some(row) = row else { return Ok(None) };
        let anchor: Option<String> = row.try_get(0).map_err(|_| corrupt("anchor"))?;
        anchor
            .as_deref()
            .map(Checkpoint::from_json_line)
            .transpose()
    }

    async fn purge(&self, tenant: &TenantId, checkpoint: &Checkpoint) -> Result<u64, AuditError> {
        if checkpoint.tenant != *tenant {
            return Err(AuditError::CheckpointMismatch {
                reason: "checkpoint of another tenant",
            });
        }
        let q = sqlx::query(AssertSqlSafe(self.sql.purge.to_string()))
            .bind(tenant.as_str())
            .bind(i64::try_from(checkpoint.seq).unwrap_or(i64::MAX))
            .bind(checkpoint.mac.as_bytes().as_slice())
            .bind(
                checkpoint
                    .head()
                    .epoch
                    .map(|e| i32::try_from(e).unwrap_or(i32::MAX)),
            )
            .bind(checkpoint.to_json_line());
        let row = self
            .calls()
            .run(q.fetch_one(&self.pool))
            .await
            .map_err(unavailable)?;
        let deleted: i64 = row.try_get(0).map_err(|_| corrupt("purge count"))?;
        match deleted {
            -1 => Err(AuditError::CheckpointMismatch {
                reason: "no stored event at the checkpoint's seq",
            }),
            -2 => Err(AuditError::CheckpointMismatch {
                reason: "the stored event has another mac",
            }),
            n => Ok(u64::try_from(n).unwrap_or(0)),
        }
    }

    fn policy(&self) -> &ReasonPolicy {
        self.sealer.policy()
    }
}
