//! genreid's use-case API, one layer above the model kinds: the registry of
//! models ([`registry`]: a built-in name or a model file of any kind), a
//! track's verdict from any model ([`verdict`]), batch runs over many files
//! in parallel ([`batch`]), track embeddings ([`embed`]), and the training
//! and evaluation pipelines over datasets ([`training`]: networks, transfer
//! heads on a tagger's embeddings, any model scored on a split).
//!
//! The adapters (the `genreid` CLI, the HTTP service, the Python package)
//! translate their inputs into these calls and their results into their
//! own outputs; none holds logic another would need.

pub mod batch;
pub mod display;
pub mod embed;
mod error;
pub mod jobs;
pub mod registry;
pub mod similar;
pub mod spectrogram;
pub mod training;
pub mod verdict;

pub use batch::{FileOutcome, classify_files, record, table_files};
pub use embed::{
    EMBEDDING_LAYERS, EmbeddingSpec, Pooling, classify_and_embed_loaded, classify_and_embed_path,
    embed_analysis, embed_path, embed_signal, embedding_width,
};
pub use error::{PipelineError, Result};
pub use genreid_core::{write_atomic, write_bytes_atomic};
pub use genreid_data::path_text;
pub use genreid_models::BUILTIN_MODELS;
pub use registry::{DEFAULT_MODEL, Model, ModelIdentity, builtin, load_model, model_identity};
pub use verdict::{
    ClassifyOptions, Verdict, VerdictWarning, classify_bytes, classify_loaded, classify_path,
    classify_samples, classify_signal,
};
