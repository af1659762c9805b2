//! A binary delta that rebuilds a file's original bytes from its tagged
//! bytes (librsync's format via `fast_rsync`): the audio, unchanged but
//! possibly moved, is copied from the tagged file; only the old tag bytes
//! are stored.

use fast_rsync::{Signature, SignatureOptions, apply, diff};
use sha2::{Digest as _, Sha256};

/// Block sizes tried in turn: small blocks find more of a re-paginated Ogg
/// stream, large ones make smaller signatures.
const BLOCK_SIZES: [u32; 2] = [1024, 128];

/// A delta turning `new` back into `old`, checked by applying it; falls
/// back to a literal copy of `old` when no delta reproduces it.
pub(crate) fn make(old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut best: Option<Vec<u8>> = None;
    for block_size in BLOCK_SIZES {
        let signature = Signature::calculate(new, SignatureOptions { block_size, crypto_hash_size: 16 });
        let mut delta = Vec::new();
        if diff(&signature.index(), old, &mut delta).is_err() {
            continue;
        }
        if restore(new, &delta).as_deref() == Some(old) && best.as_ref().is_none_or(|b| delta.len() < b.len())
        {
            let small = delta.len() < old.len() / 20;
            best = Some(delta);
            if small {
                break;
            }
        }
    }
    best.unwrap_or_else(|| literal(old))
}

/// A delta that ignores the base and writes `old` out whole.
fn literal(old: &[u8]) -> Vec<u8> {
    let signature = Signature::calculate(&[], SignatureOptions { block_size: 1024, crypto_hash_size: 16 });
    let mut delta = Vec::new();
    diff(&signature.index(), old, &mut delta).expect("diff against an empty base writes literals only");
    delta
}

/// The bytes `delta` makes from `base`, or `None` if it does not apply.
pub(crate) fn restore(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    apply(base, delta, &mut out).ok()?;
    Some(out)
}

/// SHA-256 of bytes, as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_rebuilds_the_original_and_stays_small() {
        let audio: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let old = [b"ID3 old tag".as_slice(), &audio].concat();
        let new = [b"ID3 a new and longer tag with a genre in it".as_slice(), &audio].concat();
        let delta = make(&old, &new);
        assert_eq!(restore(&new, &delta).unwrap(), old);
        assert!(delta.len() < 3000, "delta of {} bytes", delta.len());
    }

    #[test]
    fn unrelated_bytes_fall_back_to_literals() {
        let old = vec![7u8; 5000];
        let new = vec![9u8; 100];
        let delta = make(&old, &new);
        assert_eq!(restore(&new, &delta).unwrap(), old);
    }
}
