//! Hot reload: the current compiled policy behind an `arc-swap` cell.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::compile::PolicyCompiler;
use crate::error::PolicyError;
use crate::policy::Policy;

/// The current policy, shared by every check and replaced whole on reload: checks read it
/// without a lock (one atomic load, [`arc_swap`]), a reload is one pointer swap, and a check
/// in progress keeps the policy it started with. Clones share the same cell.
///
/// A reload that fails to compile changes nothing: the old policy stays in force.
#[derive(Debug, Clone)]
pub struct SharedPolicy {
    cell: Arc<ArcSwap<Policy>>,
}

impl SharedPolicy {
    /// A cell holding `policy`.
    pub fn new(policy: Policy) -> Self {
        Self {
            cell: Arc::new(ArcSwap::from_pointee(policy)),
        }
    }

    /// The current policy (keep the `Arc` for the duration of one request, so its checks all
    /// see the same policy).
    pub fn current(&self) -> Arc<Policy> {
        self.cell.load_full()
    }

    /// Replaces the policy.
    pub fn replace(&self, policy: Policy) {
        self.cell.store(Arc::new(policy));
    }

    /// Compiles `path` with `compiler` and, if it compiles, makes it the current policy.
    ///
    /// # Errors
    ///
    /// The located [`PolicyError`]; the current policy is then unchanged.
    pub fn reload(
        &self,
        compiler: &PolicyCompiler,
        path: impl AsRef<Path>,
    ) -> Result<(), PolicyError> {
        let policy = compiler.load(path)?;
        self.replace(policy);
        Ok(())
    }
}
