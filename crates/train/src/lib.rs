//! Training and evaluation: fit classical models on feature tables and
//! networks on spectrogram segments over
//! honest splits, score them with scikit-learn's metric definitions, and
//! write reports (Markdown, JSON, plots).

pub mod classical;
mod experiment_report;
pub mod genre_head;
pub mod metrics;
pub mod neural;
pub mod projection;
pub mod report;

pub use classical::{Evaluation, Grid, Recipe, Tuned, evaluate, fit_model, tune};
pub use metrics::{Metrics, argmax};
