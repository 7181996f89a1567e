//! Coalescing of concurrent rate-limit decisions: the decisions waiting for the same Redis at
//! the same time are sent as one script call (`lua/batch.lua`), each decided on its own and
//! its reply handed back to its caller.
//!
//! A dispatcher task (spawned on the first coalesced call) keeps at most [`IN_FLIGHT`] script
//! calls in flight. A decision that arrives while they are all out waits in the queue; when
//! one comes back, every waiting decision (up to [`MAX_BATCH`]) leaves in the next call. A
//! lone decision therefore leaves at once, in a call of its own (the single-decision script,
//! as without coalescing); under load the batches grow by themselves, as group commit does.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use palisade_ratelimit::{RateLimitError, Timestamp};
use redis::aio::ConnectionLike;
use redis::cluster_routing::Slot;
use redis::{Cmd, ErrorKind, Script, ServerErrorKind, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use crate::RedisStoreError;
use crate::client;

/// How a [`RedisRateLimitStore`](crate::RedisRateLimitStore) sends the decisions that wait for
/// the server at the same time ([`with_coalescing`](crate::RedisRateLimitStore::with_coalescing)).
///
/// Coalesced or not, every decision is atomic and independent: it reads and writes its own
/// keys only, and sees every decision sent before it, in the same call or an earlier one. The
/// decisions of one call are decided one after the other at one server instant (one `TIME`),
/// so their verdicts are those of the same decisions made one by one at that instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Coalescing {
    /// One script call per decision (the default): each call fails or succeeds alone.
    #[default]
    Off,
    /// Every waiting decision in one script call, whatever its key: for a standalone Redis
    /// (or a replica set behind one primary), never for a Redis Cluster, where keys of
    /// different slots in one script are refused (`CROSSSLOT`).
    Standalone,
    /// The waiting decisions grouped by the Redis Cluster slot of their key (its hash tag
    /// `{<key hex>}`), one script call per slot: for a `ClusterConnection`. Decisions on
    /// different keys rarely share a slot, so this pays off for hot keys (many decisions on
    /// few keys), not for traffic spread over many keys.
    PerSlot,
}

/// The most decisions sent in one script call: it bounds the time one call holds the server
/// (about 5 µs of server time per GCRA decision, so about 0.3 ms for a full batch).
pub const MAX_BATCH: usize = 64;

/// The most script calls one store keeps in flight while others wait: two, so that the server
/// works on one while the client reads the other's reply and fans it out.
pub const IN_FLIGHT: usize = 2;

/// One decision's keys and script arguments (`lua/decide.lua`).
pub(crate) struct Call {
    /// The script for this decision alone (`lua/driver.lua` with its algorithms).
    pub(crate) script: &'static Script,
    pub(crate) state_key: String,
    pub(crate) block_key: String,
    pub(crate) cost: u32,
    /// The penalty block in ns, 0 for none.
    pub(crate) block_ns: u64,
    /// Per limit: the algorithm code and four integer parameters.
    pub(crate) params: Vec<[u64; 5]>,
}

impl Call {
    /// Appends the decision's two keys to `cmd`.
    pub(crate) fn push_keys(&self, cmd: &mut Cmd) {
        cmd.arg(&self.state_key).arg(&self.block_key);
    }

    /// Appends the decision's arguments to `cmd`.
    pub(crate) fn push_args(&self, cmd: &mut Cmd) {
        cmd.arg(self.cost).arg(self.block_ns).arg(self.params.len());
        for p in &self.params {
            cmd.arg(&p[..]);
        }
    }

    /// The `EVALSHA` of this decision alone, in its own script.
    pub(crate) fn alone(&self) -> Cmd {
        let mut cmd = evalsha(self.script, 2);
        self.push_keys(&mut cmd);
        self.push_args(&mut cmd);
        cmd
    }
}

/// `EVALSHA <sha of script> <numkeys>`, keys and arguments to follow. The arguments go
/// straight into the command's buffer (a `ScriptInvocation` allocates one vector per argument).
fn evalsha(script: &Script, numkeys: usize) -> Cmd {
    let mut cmd = redis::cmd("EVALSHA");
    cmd.arg(script.get_hash()).arg(numkeys);
    cmd
}

/// Sends `cmd` (an `EVALSHA` of `script`); when the server answers `NOSCRIPT` (after a
/// restart or a `SCRIPT FLUSH`), loads the script and sends it once more.
pub(crate) async fn invoke<C: ConnectionLike>(
    script: &Script,
    cmd: &Cmd,
    conn: &mut C,
) -> redis::RedisResult<Value> {
    match cmd.query_async(conn).await {
        Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
            script.load_async(conn).await?;
            cmd.query_async(conn).await
        }
        other => other,
    }
}

/// A decision's reply: the server instant of its call, and the decision's own numbers
/// (`lua/decide.lua`: `1, s, ns` when blocked, else `0` and four numbers per limit).
pub(crate) type Reply = Result<(Timestamp, Vec<i64>), RateLimitError>;

struct Job {
    call: Call,
    reply: oneshot::Sender<Reply>,
}

/// The queue of one store (and its clones) and the dispatcher behind it.
pub(crate) struct Coalescer<C> {
    conn: C,
    timeout: Duration,
    mode: Coalescing,
    queue: OnceLock<mpsc::UnboundedSender<Job>>,
}

impl<C> Coalescer<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    pub(crate) fn new(conn: C, timeout: Duration, mode: Coalescing) -> Self {
        Self {
            conn,
            timeout,
            mode,
            queue: OnceLock::new(),
        }
    }

    /// Queues `call` and waits for its reply. Gives the call back when no tokio runtime is
    /// running or the dispatcher is gone (the runtime that started it shut down): the caller
    /// then sends it alone.
    pub(crate) async fn submit(&self, call: Call) -> Result<Reply, Call> {
        let queue = match self.queue.get() {
            Some(queue) => queue,
            None => {
                let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                    return Err(call);
                };
                self.queue.get_or_init(|| {
                    let (tx, rx) = mpsc::unbounded_channel();
                    runtime.spawn(dispatch(rx, self.conn.clone(), self.timeout, self.mode));
                    tx
                })
            }
        };
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError(job)) = queue.send(Job { call, reply }) {
            return Err(job.call);
        }
        Ok(answer.await.unwrap_or_else(|_| {
            Err(RedisStoreError::Unavailable {
                reason: "the coalescing task stopped before replying".to_owned(),
            }
            .into())
        }))
    }
}

/// The dispatcher: takes every waiting decision once a call slot is free, and sends them.
/// Ends when every store holding the queue is dropped.
async fn dispatch<C>(
    mut rx: mpsc::UnboundedReceiver<Job>,
    conn: C,
    timeout: Duration,
    mode: Coalescing,
) where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        // Let the callers that the last reply woke (already in the runtime's queue) add their
        // next decisions before the batch is cut: one turn of the scheduler, no timer.
        tokio::task::yield_now().await;
        let mut jobs = Vec::with_capacity(16);
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        // A caller that gave up (its timeout, a dropped future) is not sent.
        jobs.retain(|job| !job.reply.is_closed());
        if jobs.is_empty() {
            continue;
        }
        if mode == Coalescing::PerSlot {
            let permit = Arc::new(permit);
            for group in by_slot(jobs) {
                tokio::spawn(run(conn.clone(), group, timeout, Arc::clone(&permit)));
            }
        } else {
            tokio::spawn(run(conn.clone(), jobs, timeout, Arc::new(permit)));
        }
    }
}

/// `jobs` grouped by the Redis Cluster slot of their keys (both keys of a decision share the
/// hash tag), each group in arrival order.
fn by_slot(jobs: Vec<Job>) -> Vec<Vec<Job>> {
    let mut groups: Vec<Vec<Job>> = Vec::new();
    let mut index: HashMap<Slot, usize> = HashMap::new();
    for job in jobs {
        let slot = Slot::for_key(job.call.state_key.as_bytes());
        let at = *index.entry(slot).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        if let Some(group) = groups.get_mut(at) {
            group.push(job);
        }
    }
    groups
}

/// Sends one call for `jobs` (the single-decision script for one, the batch script for more)
/// and hands each job its reply; a failed call fails every decision in it.
async fn run<C>(mut conn: C, jobs: Vec<Job>, timeout: Duration, _slot: Arc<OwnedSemaphorePermit>)
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    let replies = if let [job] = jobs.as_slice() {
        let cmd = job.call.alone();
        client::call_script(timeout, invoke(job.call.script, &cmd, &mut conn))
            .await
            .map_err(RateLimitError::from)
            .and_then(single)
    } else {
        let script = crate::ratelimit::batch_script();
        let mut cmd = evalsha(script, 2 * jobs.len());
        for job in &jobs {
            job.call.push_keys(&mut cmd);
        }
        cmd.arg(jobs.len());
        for job in &jobs {
            job.call.push_args(&mut cmd);
        }
        client::call_script(timeout, invoke(script, &cmd, &mut conn))
            .await
            .map_err(RateLimitError::from)
            .and_then(|reply| batch(reply, jobs.len()))
    };
    match replies {
        Ok((at, replies)) => {
            for (job, reply) in jobs.into_iter().zip(replies) {
                // A caller that gave up meanwhile drops its answer: nothing to do.
                let _ = job.reply.send(Ok((at, reply)));
            }
        }
        Err(e) => {
            for job in jobs {
                let _ = job.reply.send(Err(e.clone()));
            }
        }
    }
}

/// The reply of the single-decision script: the instant and the decision's numbers.
fn single(reply: Value) -> Result<(Timestamp, Vec<Vec<i64>>), RateLimitError> {
    let numbers = crate::ratelimit::integers(reply)?;
    let (at, rest) = crate::ratelimit::time_of(&numbers)?;
    Ok((at, vec![rest.to_vec()]))
}

/// The reply of the batch script: the instant and each decision's numbers, `m` of them.
fn batch(reply: Value, m: usize) -> Result<(Timestamp, Vec<Vec<i64>>), RateLimitError> {
    let Value::Array(items) = reply else {
        return Err(crate::ratelimit::unexpected());
    };
    let mut items = items.into_iter();
    let clock = items
        .by_ref()
        .take(2)
        .map(|v| match v {
            Value::Int(i) => Ok(i),
            _ => Err(crate::ratelimit::unexpected()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (at, _) = crate::ratelimit::time_of(&clock)?;
    let decisions = items
        .map(crate::ratelimit::integers)
        .collect::<Result<Vec<_>, _>>()?;
    if decisions.len() != m {
        return Err(crate::ratelimit::unexpected());
    }
    Ok((at, decisions))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(state_key: &str) -> Job {
        let (reply, _) = oneshot::channel();
        Job {
            call: Call {
                script: crate::ratelimit::batch_script(),
                state_key: state_key.to_owned(),
                block_key: String::new(),
                cost: 1,
                block_ns: 0,
                params: Vec::new(),
            },
            reply,
        }
    }

    #[test]
    fn groups_follow_the_hash_tag_and_keep_arrival_order() {
        let keys = ["p{aa}:1", "p{bb}:1", "p{aa}:2", "q{aa}:3", "p{bb}:2"];
        let groups = by_slot(keys.iter().map(|k| job(k)).collect());
        let names: Vec<Vec<&str>> = groups
            .iter()
            .map(|g| g.iter().map(|j| j.call.state_key.as_str()).collect())
            .collect();
        assert_eq!(
            names,
            vec![
                vec!["p{aa}:1", "p{aa}:2", "q{aa}:3"],
                vec!["p{bb}:1", "p{bb}:2"]
            ]
        );
    }

    #[test]
    fn batch_replies_of_the_wrong_shape_are_errors() {
        let ints = |v: &[i64]| Value::Array(v.iter().map(|&i| Value::Int(i)).collect());
        let good = Value::Array(vec![
            Value::Int(1_700_000_000),
            Value::Int(5),
            ints(&[0, 1, 2, 3, 0]),
            ints(&[1, 4, 5]),
        ]);
        let (at, d) = batch(good.clone(), 2).unwrap();
        assert_eq!(at.as_unix_nanos(), 1_700_000_000_000_005_000);
        assert_eq!(d, vec![vec![0, 1, 2, 3, 0], vec![1, 4, 5]]);
        assert!(batch(good, 3).is_err());
        assert!(batch(ints(&[1, 2, 3]), 1).is_err());
        assert!(batch(Value::Nil, 1).is_err());
    }
}
