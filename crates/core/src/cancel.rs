//! Cooperative cancellation: long work (decoding, blocks, batches of
//! patches and segments) checks a [`Cancel`] between its steps, so a
//! service whose client left or whose deadline passed gets its worker back
//! within one step instead of when the work would have finished.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The work was cancelled (its client left, or its deadline passed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// A flag that work checks between its steps; cheap to clone and share.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Option<Arc<AtomicBool>>);

impl Cancel {
    /// A token that is never cancelled (command-line work).
    pub fn never() -> Self {
        Self(None)
    }

    /// A token that [`Cancel::cancel`] can set, from any thread.
    pub fn new() -> Self {
        Self(Some(Arc::new(AtomicBool::new(false))))
    }

    /// Asks the work holding this token (or a clone) to stop.
    pub fn cancel(&self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// `Err(Cancelled)` once cancelled: `cancel.check()?` between steps
    /// (each crate's error converts from [`Cancelled`]).
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() { Err(Cancelled) } else { Ok(()) }
    }

    /// A guard that cancels this token when dropped (a request handler's
    /// future dropped by a timeout or a client that hung up).
    pub fn on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(Some(self.clone()))
    }
}

/// Cancels its token when dropped; see [`Cancel::on_drop`].
#[derive(Debug)]
pub struct CancelOnDrop(Option<Cancel>);

impl CancelOnDrop {
    /// Lets the work finish: dropping the guard no longer cancels it.
    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(token) = &self.0 {
            token.cancel();
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag_and_guards_cancel_on_drop() {
        let never = Cancel::never();
        never.cancel();
        assert!(never.check().is_ok());
        let token = Cancel::new();
        let worker = token.clone();
        assert!(worker.check().is_ok());
        drop(token.on_drop());
        assert!(matches!(worker.check(), Err(Cancelled)));
        let other = Cancel::new();
        other.on_drop().disarm();
        assert!(!other.is_cancelled());
    }
}
