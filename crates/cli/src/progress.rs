//! Progress reporting for long batch jobs: files done, failed, and the rate.

use std::sync::atomic::{AtomicUsize, Ordering};

use genreid_pipeline::display::terminal_safe;
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
        self.bar.suspend(|| eprintln!("warning: skipped {}", terminal_safe(message)));
        self.bar.set_message(format!("({n} failed)"));
        self.bar.inc(1);
    }

    /// Prints a line above the bar.
    pub fn note(&self, message: &str) {
        self.bar.suspend(|| eprintln!("{}", terminal_safe(message)));
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

/// Draws a pipeline's events on standard error: notes and warnings as
/// lines (above any bar), passes over files as a counting bar, network
/// training as a bar of the running epoch's steps with its loss.
#[derive(Default)]
pub struct Reporter {
    pass: std::sync::Mutex<Option<Progress>>,
    training: std::sync::Mutex<Option<(ProgressBar, usize)>>,
}

impl Reporter {
    /// Prints `line` above whichever bar is showing.
    fn line(&self, line: &str) {
        if let Some(p) = self.pass.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            return p.note(line);
        }
        match self.training.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some((bar, _)) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// The pipeline's observer.
    pub fn event(&self, event: genreid_pipeline::training::Event<'_>) {
        use genreid_pipeline::training::Event;
        use genreid_train::neural::Progress as Step;
        match event {
            Event::Note(line) => self.line(line),
            Event::Warning(line) => self.line(&format!("warning: {line}")),
            Event::PassStarted { what, total } => {
                *self.pass.lock().unwrap_or_else(|e| e.into_inner()) = Some(Progress::new(total, what));
            }
            Event::PassProgress { done } => {
                if let Some(p) = self.pass.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                    p.bar.set_position(done as u64);
                }
            }
            Event::PassFailed(message) => {
                if let Some(p) = self.pass.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                    let n = p.failed.fetch_add(1, Ordering::Relaxed) + 1;
                    p.bar.suspend(|| eprintln!("warning: skipped {}", terminal_safe(message)));
                    p.bar.set_message(format!("({n} failed)"));
                }
            }
            Event::PassFinished => {
                if let Some(p) = self.pass.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    p.finish();
                }
            }
            Event::TrainingStarted { epochs } => {
                let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr());
                if let Ok(style) =
                    ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}")
                {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_prefix(format!("epoch 1/{epochs}"));
                *self.training.lock().unwrap_or_else(|e| e.into_inner()) = Some((bar, epochs));
            }
            Event::TrainingFinished => {
                if let Some((bar, _)) = self.training.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    bar.finish_and_clear();
                }
            }
            Event::Training(step) => {
                let guard = self.training.lock().unwrap_or_else(|e| e.into_inner());
                let Some((bar, epochs)) = guard.as_ref() else { return };
                match step {
                    Step::Step { epoch, step, steps, loss, accuracy } => {
                        bar.set_length(*steps as u64);
                        bar.set_position(*step as u64);
                        bar.set_prefix(format!("epoch {epoch}/{epochs}"));
                        bar.set_message(format!("loss {loss:.4} acc {accuracy:.3}"));
                    }
                    Step::Epoch(s) => bar.suspend(|| {
                        eprintln!(
                            "epoch {:>3}: lr {:.1e}  loss {:.4}  acc {:.3}  valid loss {:.4}  valid acc {:.3}  ({:.1} s)",
                            s.epoch, s.learning_rate, s.train_loss, s.train_accuracy, s.valid_loss, s.valid_accuracy, s.seconds
                        )
                    }),
                    Step::Resumed(n) => bar.suspend(|| eprintln!("resumed from the checkpoint after epoch {n}")),
                    Step::Imported { tensors } => {
                        bar.suspend(|| eprintln!("imported {tensors} pretrained tensors (the head starts fresh)"))
                    }
                    Step::Stopped { best_epoch } => bar.suspend(|| {
                        eprintln!("early stopping: no better validation loss since epoch {best_epoch}")
                    }),
                }
            }
        }
    }
}
