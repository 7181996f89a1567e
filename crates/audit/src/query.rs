//! Looking events up: by actor, resource, action and time range.

use palisade_rbac::SubjectId;

use crate::action::Action;
use crate::event::Event;
use crate::fields::{ResourceId, ResourceType};

/// The default number of events a query returns.
pub const DEFAULT_LIMIT: usize = 100;
/// The most events one query returns (a larger limit is lowered to it).
pub const MAX_LIMIT: usize = 10_000;

/// A query of one tenant's events: every criterion set must match; results come newest
/// first (descending sequence number), at most `limit` (default [`DEFAULT_LIMIT`]).
///
/// ```
/// use palisade_audit::{Action, Query, ResourceType};
/// let q = Query::new()
///     .resource_type(ResourceType::new("recording")?)
///     .action(Action::EXPORT)
///     .between(1_764_900_000_000, 1_765_000_000_000)
///     .limit(20);
/// assert_eq!(q.max_results(), 20);
/// # Ok::<(), palisade_audit::AuditError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub(crate) actor: Option<SubjectId>,
    pub(crate) resource_type: Option<ResourceType>,
    pub(crate) resource_id: Option<ResourceId>,
    pub(crate) action: Option<Action>,
    pub(crate) from_ms: Option<u64>,
    pub(crate) to_ms: Option<u64>,
    pub(crate) limit: usize,
}

impl Default for Query {
    fn default() -> Self {
        Self::new()
    }
}

impl Query {
    /// Every event, newest first, at most [`DEFAULT_LIMIT`].
    pub fn new() -> Self {
        Self {
            actor: None,
            resource_type: None,
            resource_id: None,
            action: None,
            from_ms: None,
            to_ms: None,
            limit: DEFAULT_LIMIT,
        }
    }

    /// Events of this actor (subject).
    #[must_use]
    pub fn actor(mut self, subject: SubjectId) -> Self {
        self.actor = Some(subject);
        self
    }

    /// Events on resources of this type.
    #[must_use]
    pub fn resource_type(mut self, kind: ResourceType) -> Self {
        self.resource_type = Some(kind);
        self
    }

    /// Events on resources with this id.
    #[must_use]
    pub fn resource_id(mut self, id: ResourceId) -> Self {
        self.resource_id = Some(id);
        self
    }

    /// Events of this action.
    #[must_use]
    pub fn action(mut self, action: Action) -> Self {
        self.action = Some(action);
        self
    }

    /// Events with `from_ms <= time < to_ms` (milliseconds since the Unix epoch).
    #[must_use]
    pub fn between(mut self, from_ms: u64, to_ms: u64) -> Self {
        self.from_ms = Some(from_ms);
        self.to_ms = Some(to_ms);
        self
    }

    /// At most `limit` events (1 to [`MAX_LIMIT`]; 0 counts as 1).
    #[must_use]
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.clamp(1, MAX_LIMIT);
        self
    }

    /// The most events returned.
    pub fn max_results(&self) -> usize {
        self.limit
    }

    /// The actor criterion.
    pub fn actor_filter(&self) -> Option<&SubjectId> {
        self.actor.as_ref()
    }

    /// The resource type criterion.
    pub fn resource_type_filter(&self) -> Option<&ResourceType> {
        self.resource_type.as_ref()
    }

    /// The resource id criterion.
    pub fn resource_id_filter(&self) -> Option<&ResourceId> {
        self.resource_id.as_ref()
    }

    /// The action criterion.
    pub fn action_filter(&self) -> Option<&Action> {
        self.action.as_ref()
    }

    /// The time range, `[from, to)` in milliseconds.
    pub fn time_range(&self) -> (Option<u64>, Option<u64>) {
        (self.from_ms, self.to_ms)
    }

    /// Whether `event` meets every criterion (the limit aside).
    pub fn matches(&self, event: &Event) -> bool {
        self.actor
            .as_ref()
            .is_none_or(|a| event.actor.subject() == a)
            && self
                .resource_type
                .as_ref()
                .is_none_or(|t| &event.resource.kind == t)
            && self
                .resource_id
                .as_ref()
                .is_none_or(|i| &event.resource.id == i)
            && self.action.as_ref().is_none_or(|a| &event.action == a)
            && self.from_ms.is_none_or(|f| event.time_ms >= f)
            && self.to_ms.is_none_or(|t| event.time_ms < t)
    }
}
