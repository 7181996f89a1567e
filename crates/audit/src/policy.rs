//! Which events must say why.

use std::collections::BTreeSet;

use crate::action::Action;
use crate::error::AuditError;
use crate::event::EventDraft;
use crate::fields::ResourceType;

/// The actions and resource types that require a reason. An event without one is refused
/// with [`AuditError::ReasonRequired`] before anything is written (and an
/// [`AUDIT_REFUSED`](palisade_telemetry::AUDIT_REFUSED) event is emitted, target
/// `palisade_audit`).
///
/// The default requires one for `export`, `anonymize`, and anything done to a resource of
/// type `recording`.
///
/// ```
/// use palisade_audit::{Action, ReasonPolicy, ResourceType};
/// let policy = ReasonPolicy::default()
///     .require_for_action(Action::CREDENTIAL_READ)
///     .require_for_resource(ResourceType::new("api_key")?);
/// assert!(policy.requires(&Action::EXPORT, &ResourceType::new("lead")?));
/// assert!(policy.requires(&Action::READ, &ResourceType::new("recording")?));
/// assert!(!policy.requires(&Action::READ, &ResourceType::new("lead")?));
/// # Ok::<(), palisade_audit::AuditError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonPolicy {
    actions: BTreeSet<Action>,
    resource_types: BTreeSet<ResourceType>,
}

impl Default for ReasonPolicy {
    fn default() -> Self {
        let recording = ResourceType(Box::from("recording"));
        Self {
            actions: BTreeSet::from([Action::EXPORT, Action::ANONYMIZE]),
            resource_types: BTreeSet::from([recording]),
        }
    }
}

impl ReasonPolicy {
    /// A policy that requires no reason at all.
    pub fn none() -> Self {
        Self {
            actions: BTreeSet::new(),
            resource_types: BTreeSet::new(),
        }
    }

    /// Also require a reason for `action`.
    #[must_use]
    pub fn require_for_action(mut self, action: Action) -> Self {
        self.actions.insert(action);
        self
    }

    /// Also require a reason for anything done to resources of type `kind`.
    #[must_use]
    pub fn require_for_resource(mut self, kind: ResourceType) -> Self {
        self.resource_types.insert(kind);
        self
    }

    /// Whether `action` on a resource of type `kind` requires a reason.
    pub fn requires(&self, action: &Action, kind: &ResourceType) -> bool {
        self.actions.contains(action) || self.resource_types.contains(kind)
    }

    /// Checks a draft.
    ///
    /// # Errors
    ///
    /// [`AuditError::ReasonRequired`] when it needs a reason and has none.
    pub fn check(&self, draft: &EventDraft) -> Result<(), AuditError> {
        if draft.reason.is_none() && self.requires(&draft.action, &draft.resource.kind) {
            tracing::warn!(
                target: "palisade_audit",
                event = palisade_telemetry::AUDIT_REFUSED,
                tenant = draft.tenant.as_str(),
                action = draft.action.as_str(),
                resource_type = draft.resource.kind.as_str(),
                cause = "reason_required",
                "audit event refused: a reason is required"
            );
            return Err(AuditError::ReasonRequired {
                action: draft.action.as_str().to_owned(),
                resource_type: draft.resource.kind.as_str().to_owned(),
            });
        }
        Ok(())
    }
}
