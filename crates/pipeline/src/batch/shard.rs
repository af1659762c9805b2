//! A worker's share of a batch run: `K/N` takes the inputs whose stable
//! hash is `K` modulo `N`, so `N` workers split a collection with no
//! coordination, and the union of their shares is the whole.
//!
//! The hash is the first 8 bytes, big-endian, of the SHA-256 of a file's
//! path relative to the folder it was found in (`/`-separated, UTF-8):
//! the same on every machine and in every language
//! (`int.from_bytes(hashlib.sha256(rel.encode()).digest()[:8], "big") % N`).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Share `index` of `count` (0-based, as Kubernetes' `JOB_COMPLETION_INDEX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share, `0..count`.
    pub index: u64,
    /// How many shares the inputs are split into.
    pub count: u64,
}

impl Shard {
    /// All of the inputs (`0/1`).
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether the input with this relative path is in the share.
    pub fn holds(&self, relative: &str) -> bool {
        self.count <= 1 || shard_key(relative) % self.count == self.index
    }
}

/// The stable 64-bit hash shards are taken by (module docs).
pub fn shard_key(relative: &str) -> u64 {
    let digest = Sha256::digest(relative.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("shard {text:?}: expected K/N with 0 <= K < N (for example 0/4)");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, count: 5 }));
        for bad in ["5/5", "1/0", "a/2", "3", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(Shard { index: 1, count: 3 }.to_string(), "1/3");
    }

    #[test]
    fn shares_partition_the_inputs() {
        let names: Vec<String> = (0..500).map(|i| format!("blues/blues.{i:05}.wav")).collect();
        let mut seen = vec![0; names.len()];
        for index in 0..3 {
            let shard = Shard { index, count: 3 };
            let share: Vec<usize> = (0..names.len()).filter(|&i| shard.holds(&names[i])).collect();
            assert!(share.len() > 120, "share {index} has {} of 500", share.len());
            share.iter().for_each(|&i| seen[i] += 1);
        }
        assert!(seen.iter().all(|&n| n == 1));
        assert!(names.iter().all(|n| Shard::ALL.holds(n)));
    }

    #[test]
    fn the_key_is_sha256s_first_eight_bytes() {
        // printf 'a/b.wav' | sha256sum: 3549c5121e6b18d2 87ba06c9...
        assert_eq!(shard_key("a/b.wav"), 0x3549_c512_1e6b_18d2);
        // 0x3549c5121e6b18d2 % 7 == 6
        assert!(Shard { index: 6, count: 7 }.holds("a/b.wav"));
        assert!(!Shard { index: 0, count: 7 }.holds("a/b.wav"));
    }
}
