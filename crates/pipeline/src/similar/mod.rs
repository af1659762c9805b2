//! "More like this": a library of track embeddings (the rows `genreid
//! embed` writes), searched by cosine similarity: exactly, as a blocked
//! matrix product over the whole library ([`search`]), or approximately
//! through an HNSW graph for very large libraries ([`approx`]), and walked
//! into playlists that move smoothly from track to track ([`playlist`]).

pub mod approx;
pub mod library;
pub mod playlist;
pub mod query;
pub mod search;

pub use approx::{ApproxIndex, recall_at};
pub use library::{Library, Track};
pub use playlist::{PlaylistOptions, Spread, m3u, playlist, write_atomically};
pub use query::{Query, neighbours_json};
pub use search::{Neighbour, exact_neighbours};

use crate::batch::{BatchOptions, BatchSchema, RunOptions, Shard};
use crate::embed::EmbeddingSpec;
use crate::registry::{Model, ModelIdentity};
use crate::verdict::ClassifyOptions;

/// The schema and options of a library run (`genreid embed`, Python
/// `embed_library`): rows with `spec`'s embedding and the files' artist,
/// album and title, always incremental (files already in the library with
/// the same size and modification time are skipped; changed ones replaced).
pub fn library_batch(
    model: &Model,
    identity: &ModelIdentity,
    spec: EmbeddingSpec,
    shard: Shard,
    part_rows: usize,
) -> crate::Result<(BatchSchema, BatchOptions)> {
    let schema = BatchSchema::for_model(model, identity, false, Some(&spec))?.with_file_tags();
    let options = BatchOptions {
        run: RunOptions { shard, resume: true, part_rows },
        embedding: Some(spec),
        file_tags: true,
        classify: ClassifyOptions::default(),
    };
    Ok((schema, options))
}
