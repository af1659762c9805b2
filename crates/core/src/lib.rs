//! What every genreid crate shares, below the crates that follow the data
//! (`audio` → `features` → `data` → `models` → …): one way to replace a
//! file atomically ([`write_atomic`]), cooperative cancellation
//! ([`Cancel`]), and the seeded generator behind every split, forest and
//! augmentation ([`SplitMix64`]). It depends on nothing.

mod atomic;
mod cancel;
mod rng;

pub use atomic::{sync_dir, write_atomic, write_bytes_atomic};
pub use cancel::{Cancel, CancelOnDrop, Cancelled};
pub use rng::SplitMix64;
