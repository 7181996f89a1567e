//! A bounded cache of per-field derived state (AEAD key schedules, keyed HMACs), so the
//! HKDF derivation and the key schedule run once per (key, field) rather than per message.

use std::hash::{Hash, Hasher};
use std::sync::{PoisonError, RwLock};

use hashbrown::{DefaultHashBuilder, Equivalent, HashMap};

use crate::{KeyId, PiiError};

/// At most this many (key, field) entries are kept; past it, state is derived per call.
/// Field names are application constants, so a real application stays far below it.
pub(crate) const MAX_ENTRIES: usize = 4096;

#[derive(PartialEq, Eq)]
struct Owned {
    key_id: KeyId,
    tag: u8,
    table: Box<str>,
    column: Box<str>,
}

struct Borrowed<'a> {
    key_id: KeyId,
    tag: u8,
    table: &'a str,
    column: &'a str,
}

fn hash_parts<H: Hasher>(h: &mut H, key_id: KeyId, tag: u8, table: &str, column: &str) {
    key_id.hash(h);
    tag.hash(h);
    table.hash(h);
    column.hash(h);
}

impl Hash for Owned {
    fn hash<H: Hasher>(&self, h: &mut H) {
        hash_parts(h, self.key_id, self.tag, &self.table, &self.column);
    }
}

impl Hash for Borrowed<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        hash_parts(h, self.key_id, self.tag, self.table, self.column);
    }
}

impl Equivalent<Owned> for Borrowed<'_> {
    fn equivalent(&self, k: &Owned) -> bool {
        self.key_id == k.key_id
            && self.tag == k.tag
            && self.table == &*k.table
            && self.column == &*k.column
    }
}

/// Derived values per (key id, tag, table, column); `tag` separates algorithms.
pub(crate) struct FieldCache<V> {
    map: RwLock<HashMap<Owned, V, DefaultHashBuilder>>,
}

impl<V> Default for FieldCache<V> {
    fn default() -> Self {
        Self {
            map: RwLock::new(HashMap::default()),
        }
    }
}

impl<V> FieldCache<V> {
    /// Runs `f` on the cached value for this field, deriving it with `derive` first when
    /// absent.
    pub(crate) fn with<R>(
        &self,
        key_id: KeyId,
        tag: u8,
        table: &str,
        column: &str,
        derive: impl FnOnce() -> Result<V, PiiError>,
        f: impl FnOnce(&V) -> R,
    ) -> Result<R, PiiError> {
        let probe = Borrowed {
            key_id,
            tag,
            table,
            column,
        };
        {
            // A panic while holding the lock cannot leave the map inconsistent: entries are
            // inserted whole. So a poisoned lock is used as is.
            let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(v) = map.get(&probe) {
                return Ok(f(v));
            }
        }
        let value = derive()?;
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            return Ok(f(&value));
        }
        let owned = Owned {
            key_id,
            tag,
            table: table.into(),
            column: column.into(),
        };
        let v = map.entry(owned).or_insert(value);
        Ok(f(v))
    }

    /// Forgets every entry of `key_id` (after its key was removed).
    pub(crate) fn forget(&mut self, key_id: KeyId) {
        self.map
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|k, _| k.key_id != key_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Looks a field up, counting derivations.
    fn probe(cache: &FieldCache<u32>, id: u32, tag: u8, field: (&str, &str), derived: &mut u32) {
        let id = KeyId::new(id).unwrap();
        let v = cache
            .with(
                id,
                tag,
                field.0,
                field.1,
                || {
                    *derived += 1;
                    Ok(7)
                },
                |v| *v,
            )
            .unwrap();
        assert_eq!(v, 7);
    }

    #[test]
    fn derives_once_per_field_and_forgets_removed_keys() {
        let mut cache = FieldCache::<u32>::default();
        let mut derived = 0;
        for _ in 0..3 {
            probe(&cache, 1, 1, ("leads", "phone"), &mut derived);
        }
        assert_eq!(derived, 1);
        // Another algorithm, field or key is another entry.
        probe(&cache, 1, 2, ("leads", "phone"), &mut derived);
        probe(&cache, 1, 1, ("leads", "email"), &mut derived);
        probe(&cache, 1, 1, ("leadsp", "hone"), &mut derived);
        probe(&cache, 2, 1, ("leads", "phone"), &mut derived);
        assert_eq!(derived, 5);
        cache.forget(KeyId::FIRST);
        probe(&cache, 1, 1, ("leads", "phone"), &mut derived);
        assert_eq!(derived, 6);
    }
}
