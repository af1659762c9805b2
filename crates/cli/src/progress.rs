//! Progress reporting for long batch jobs: files done, failed, and the rate.

use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar on standard error that counts successes and failures.
/// Drawn only when standard error is a terminal.
pub struct Progress {
    bar: ProgressBar,
    failed: AtomicUsize,
}

impl Progress {
    /// A bar for `total` files.
    pub fn new(total: usize, what: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let template =
            format!("{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}} {{msg}} {{per_sec}} ETA {{eta}}");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Self { bar, failed: AtomicUsize::new(0) }
    }

    /// Records one finished file.
    pub fn ok(&self) {
        self.bar.inc(1);
    }

    /// Records one failed file, printing its error above the bar.
    pub fn failed(&self, message: &str) {
        let n = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
        self.bar.suspend(|| eprintln!("warning: skipped {message}"));
        self.bar.set_message(format!("({n} failed)"));
        self.bar.inc(1);
    }

    /// Prints a line above the bar.
    pub fn note(&self, message: &str) {
        self.bar.suspend(|| eprintln!("{message}"));
    }

    /// Number of failures so far.
    pub fn failures(&self) -> usize {
        self.failed.load(Ordering::Relaxed)
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
