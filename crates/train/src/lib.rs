//! Training and evaluation: fit classical models on feature tables over
//! honest splits, score them with scikit-learn's metric definitions, and
//! write reports (Markdown, JSON, plots).

pub mod classical;
pub mod genre_head;
pub mod metrics;
pub mod report;

pub use classical::{Evaluation, evaluate, fit_model};
pub use metrics::Metrics;
