//! A set of roles of one compiled policy, as a bitset over its role ids.

/// A set of roles, resolved against one [`Policy`](crate::policy::Policy) (see
/// [`Policy::role_set`](crate::policy::Policy::role_set)): one bit per role, the first 64
/// roles inline (no allocation for policies of up to 64 roles).
///
/// A role set remembers the policy that made it: checked against another policy (after a
/// reload, when ids may name other roles) it allows nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSet {
    pub(crate) policy: u64,
    pub(crate) first: u64,
    pub(crate) rest: Vec<u64>,
}

impl RoleSet {
    pub(crate) fn empty(policy: u64) -> Self {
        Self {
            policy,
            first: 0,
            rest: Vec::new(),
        }
    }

    pub(crate) fn insert(&mut self, role: u32) {
        let (word, bit) = ((role / 64) as usize, role % 64);
        if word == 0 {
            self.first |= 1 << bit;
            return;
        }
        if self.rest.len() < word {
            self.rest.resize(word, 0);
        }
        if let Some(w) = self.rest.get_mut(word - 1) {
            *w |= 1 << bit;
        }
    }

    pub(crate) fn union_with(&mut self, other: &Self) {
        self.first |= other.first;
        if self.rest.len() < other.rest.len() {
            self.rest.resize(other.rest.len(), 0);
        }
        for (a, b) in self.rest.iter_mut().zip(&other.rest) {
            *a |= b;
        }
    }

    /// The words of the set, the first 64 roles first.
    pub(crate) fn words(&self) -> impl Iterator<Item = u64> + '_ {
        std::iter::once(self.first).chain(self.rest.iter().copied())
    }

    /// The role ids in the set, in increasing order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.words().zip(0u32..).flat_map(|(mut word, index)| {
            std::iter::from_fn(move || {
                if word == 0 {
                    return None;
                }
                let bit = word.trailing_zeros();
                word &= word - 1;
                Some(index * 64 + bit)
            })
        })
    }

    /// Whether the set holds no role.
    pub fn is_empty(&self) -> bool {
        self.words().all(|w| w == 0)
    }

    /// How many roles the set holds.
    pub fn len(&self) -> usize {
        self.words().map(|w| w.count_ones() as usize).sum()
    }

    /// The lowest role id held both here and in `bits` (one word per 64 roles).
    #[inline]
    pub(crate) fn first_common(&self, bits: &[u64]) -> Option<u32> {
        let mut words = bits.iter();
        let first = words.next().map_or(0, |w| w & self.first);
        if first != 0 {
            return Some(first.trailing_zeros());
        }
        for ((w, mine), index) in words.zip(&self.rest).zip(1u32..) {
            let common = w & mine;
            if common != 0 {
                return Some(index * 64 + common.trailing_zeros());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_beyond_the_first_word() {
        let mut set = RoleSet::empty(1);
        for r in [0, 63, 64, 200] {
            set.insert(r);
        }
        assert_eq!(set.ids().collect::<Vec<_>>(), vec![0, 63, 64, 200]);
        assert_eq!(set.len(), 4);
        let mut bits = vec![0u64; 4];
        bits[3] = 1 << (200 - 192);
        assert_eq!(set.first_common(&bits), Some(200));
        bits[1] = 1;
        assert_eq!(set.first_common(&bits), Some(64));
        assert!(RoleSet::empty(1).is_empty());
    }
}
