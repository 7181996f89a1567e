//! [`JsonlSink`]: every tenant's chain in one append-only JSON-lines file.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use palisade_rbac::TenantId;

use crate::chain::{Head, Sealer};
use crate::checkpoint::Checkpoint;
use crate::error::AuditError;
use crate::event::{Event, EventDraft};
use crate::memory::check_purge;
use crate::policy::ReasonPolicy;
use crate::query::Query;
use crate::sink::AuditSink;

/// When the JSONL sink asks the OS to make appended lines durable (`fsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FsyncPolicy {
    /// After every append, before it returns (the default): an acknowledged event survives a
    /// power loss.
    #[default]
    Always,
    /// After every `n` appends: up to `n - 1` acknowledged events may be lost on a power
    /// loss (never on a process crash: they are written to the OS at once).
    Every(NonZeroU32),
    /// Never (the OS writes back when it wants).
    Never,
}

fn io(e: &std::io::Error) -> AuditError {
    AuditError::SinkUnavailable(format!("jsonl: {}", e.kind()))
}

struct State {
    file: File,
    heads: HashMap<TenantId, Head>,
    anchors: HashMap<TenantId, Checkpoint>,
    unsynced: u32,
}

/// An [`AuditSink`] writing one JSON line per event ([`Event::to_json_line`]) to a file
/// opened for appending; every tenant's chain in the one file. The anchors left by purges
/// are kept in `<file>.anchors` (one checkpoint per line).
///
/// Appends are serialized by a mutex inside the process; the sink assumes it is the file's
/// only writer (two processes appending to one file would fork the chain: use one process,
/// or the Postgres sink). Each append writes its line(s) with one `write` call, then
/// `fsync`s per the [`FsyncPolicy`]. `read` and `query` scan the file. Calls block the
/// calling thread for the I/O.
pub struct JsonlSink {
    path: PathBuf,
    sealer: Sealer,
    fsync: FsyncPolicy,
    state: Mutex<State>,
}

impl std::fmt::Debug for JsonlSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonlSink")
            .field("path", &self.path)
            .field("fsync", &self.fsync)
            .finish_non_exhaustive()
    }
}

/// Reads every line of `path` as an event, in file order (none when the file is absent).
///
/// # Errors
///
/// [`AuditError::Malformed`] naming the line number; [`AuditError::SinkUnavailable`].
pub fn read_events(path: &Path) -> Result<Vec<Event>, AuditError> {
    let mut out = Vec::new();
    for_each_line(path, |n, line| {
        out.push(parse_line(n, line)?);
        Ok(())
    })?;
    Ok(out)
}

fn parse_line(n: usize, line: &str) -> Result<Event, AuditError> {
    Event::from_json_line(line).map_err(|e| match e {
        AuditError::Malformed { reason, .. } => {
            AuditError::malformed("event", format!("line {n}: {reason}"))
        }
        other => AuditError::malformed("event", format!("line {n}: {other}")),
    })
}

fn for_each_line(
    path: &Path,
    mut f: impl FnMut(usize, &str) -> Result<(), AuditError>,
) -> Result<(), AuditError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(&e)),
    };
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| io(&e))?;
        if !line.trim().is_empty() {
            f(i.saturating_add(1), &line)?;
        }
    }
    Ok(())
}

fn anchors_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".anchors");
    PathBuf::from(p)
}

impl JsonlSink {
    /// Opens (or creates) `path`, reading it to find each tenant's head.
    ///
    /// # Errors
    ///
    /// [`AuditError::SinkUnavailable`] for I/O errors; [`AuditError::Malformed`] for a line
    /// that is not an event (a torn last line after a crash included: verify and repair the
    /// file first).
    pub fn open(
        path: impl AsRef<Path>,
        sealer: Sealer,
        fsync: FsyncPolicy,
    ) -> Result<Self, AuditError> {
        let path = path.as_ref().to_path_buf();
        let mut heads = HashMap::new();
        for_each_line(&path, |n, line| {
            let e = parse_line(n, line)?;
            heads.insert(e.tenant.clone(), Head::after(&e));
            Ok(())
        })?;
        let mut anchors = HashMap::new();
        for_each_line(&anchors_path(&path), |_, line| {
            let cp = Checkpoint::from_json_line(line)?;
            anchors.insert(cp.tenant.clone(), cp);
            Ok(())
        })?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io(&e))?;
        Ok(Self {
            path,
            sealer,
            fsync,
            state: Mutex::new(State {
                file,
                heads,
                anchors,
                unsynced: 0,
            }),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn scan(&self, tenant: &TenantId, mut f: impl FnMut(Event)) -> Result<(), AuditError> {
        for_each_line(&self.path, |n, line| {
            let e = parse_line(n, line)?;
            if e.tenant == *tenant {
                f(e);
            }
            Ok(())
        })
    }
}

impl State {
    fn head(&self, tenant: &TenantId) -> Head {
        self.heads
            .get(tenant)
            .copied()
            .or_else(|| self.anchors.get(tenant).map(Checkpoint::head))
            .unwrap_or(Head::GENESIS)
    }
}

#[async_trait]
impl AuditSink for JsonlSink {
    async fn append(&self, draft: EventDraft) -> Result<Event, AuditError> {
        self.sealer.check(&draft)?;
        let mut st = self.state();
        let tenant = draft.tenant.clone();
        let events = self.sealer.seal(&st.head(&tenant), draft)?;
        let mut buf = String::with_capacity(512);
        for e in &events {
            buf.push_str(&e.to_json_line());
            buf.push('\n');
        }
        st.file.write_all(buf.as_bytes()).map_err(|e| io(&e))?;
        st.unsynced = st.unsynced.saturating_add(1);
        let sync = match self.fsync {
            FsyncPolicy::Always => true,
            FsyncPolicy::Every(n) => st.unsynced >= n.get(),
            FsyncPolicy::Never => false,
        };
        if sync {
            st.file.sync_data().map_err(|e| io(&e))?;
            st.unsynced = 0;
        }
        let last = events
            .into_iter()
            .last()
            .ok_or(AuditError::SinkUnavailable("nothing sealed".into()))?;
        st.heads.insert(tenant, Head::after(&last));
        Ok(last)
    }

    async fn read(
        &self,
        tenant: &TenantId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Event>, AuditError> {
        let _st = self.state();
        let mut out = Vec::new();
        self.scan(tenant, |e| {
            if e.seq > after_seq && out.len() < limit {
                out.push(e);
            }
        })?;
        Ok(out)
    }

    async fn head(&self, tenant: &TenantId) -> Result<Head, AuditError> {
        Ok(self.state().head(tenant))
    }

    async fn query(&self, tenant: &TenantId, query: &Query) -> Result<Vec<Event>, AuditError> {
        let _st = self.state();
        let mut all = Vec::new();
        self.scan(tenant, |e| {
            if query.matches(&e) {
                all.push(e);
            }
        })?;
        all.reverse();
        all.truncate(query.max_results());
        Ok(all)
    }

    async fn anchor(&self, tenant: &TenantId) -> Result<Option<Checkpoint>, AuditError> {
        Ok(self.state().anchors.get(tenant).cloned())
    }

    async fn purge(&self, tenant: &TenantId, checkpoint: &Checkpoint) -> Result<u64, AuditError> {
        let mut st = self.state();
        let mut kept = String::new();
        let mut mine = Vec::new();
        let mut removed = 0u64;
        for_each_line(&self.path, |n, line| {
            let e = parse_line(n, line)?;
            if e.tenant == *tenant && e.seq <= checkpoint.seq {
                removed += 1;
                mine.push(e);
            } else {
                kept.push_str(line);
                kept.push('\n');
            }
            Ok(())
        })?;
        check_purge(tenant, checkpoint, mine.iter())?;
        // The anchor first: a crash between the two writes leaves events before an anchor
        // (verifiable), never events without one.
        let mut anchors = OpenOptions::new()
            .create(true)
            .append(true)
            .open(anchors_path(&self.path))
            .map_err(|e| io(&e))?;
        anchors
            .write_all(format!("{}\n", checkpoint.to_json_line()).as_bytes())
            .and_then(|()| anchors.sync_data())
            .map_err(|e| io(&e))?;
        let mut tmp_path = self.path.as_os_str().to_owned();
        tmp_path.push(".purge");
        let tmp_path = PathBuf::from(tmp_path);
        let mut tmp = File::create(&tmp_path).map_err(|e| io(&e))?;
        tmp.write_all(kept.as_bytes())
            .and_then(|()| tmp.sync_all())
            .map_err(|e| io(&e))?;
        std::fs::rename(&tmp_path, &self.path).map_err(|e| io(&e))?;
        st.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| io(&e))?;
        let head = st.head(tenant);
        st.heads.insert(tenant.clone(), head);
        st.anchors.insert(tenant.clone(), checkpoint.clone());
        Ok(removed)
    }

    fn policy(&self) -> &ReasonPolicy {
        self.sealer.policy()
    }
}
