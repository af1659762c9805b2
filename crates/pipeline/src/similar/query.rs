//! What a search is asked about: a track already in the library (by path),
//! or an audio file, embedded as the library's tracks were.

use std::path::Path;

use super::library::Library;
use super::search::{Neighbour, exact_neighbours};
use crate::embed::{EmbeddingSpec, embed_path};
use crate::error::{PipelineError, Result};
use crate::registry::{Model, load_model};
use crate::verdict::ClassifyOptions;

/// One query: its name, its row when it is in the library, and its vector.
#[derive(Debug, Clone)]
pub struct Query {
    /// The query as given.
    pub name: String,
    /// Its row in the library, when it is one of its tracks (left out of its own answer).
    pub row: Option<usize>,
    /// Its embedding.
    pub vector: Vec<f32>,
}

impl Library {
    /// The embedding spec of this library's tracks (libraries from
    /// `classify --embedding LAYER` name none: the plain patch mean).
    pub fn embedding_spec(&self) -> EmbeddingSpec {
        self.spec.clone().unwrap_or_else(|| EmbeddingSpec::mean_of("penultimate"))
    }

    /// The model that embedded this library, loaded (to embed new queries alike).
    pub fn load_model(&self) -> Result<Model> {
        let name = self.model.as_deref().ok_or_else(|| {
            PipelineError::Invalid("the library does not name the model that made it; pass --model".into())
        })?;
        Ok(load_model(Some(name))?)
    }

    /// An error when `model` embeds with another network than the one that
    /// made this library (`similar --model`): its vectors would be compared
    /// with vectors of another vocabulary. A library whose model cannot be
    /// loaded (a file moved away) is not checked.
    pub fn check_model(&self, model: &Model) -> Result<()> {
        let Some(library_model) = self.model.as_deref() else { return Ok(()) };
        let Ok(made_by) = load_model(Some(library_model)) else { return Ok(()) };
        if made_by.embedder() == model.embedder() {
            return Ok(());
        }
        Err(PipelineError::Invalid(format!(
            "the query model embeds with {}, but the library was embedded by {library_model} ({}): \
             query with --model {library_model}, or rebuild the library",
            model.embedder().unwrap_or("no embedding network"),
            made_by.embedder().unwrap_or("no embedding network"),
        )))
    }

    /// The queries `names`: library paths are looked up, other names are
    /// audio files embedded by `model` (loaded from the library's model
    /// name when `None` and needed).
    pub fn queries(
        &self,
        names: &[String],
        model: Option<&Model>,
        options: &ClassifyOptions,
    ) -> Result<Vec<Query>> {
        let spec = self.embedding_spec();
        if let Some(model) = model {
            self.check_model(model)?;
        }
        let mut loaded = None;
        let mut queries = Vec::with_capacity(names.len());
        for name in names {
            if let Some(row) = self.find(name) {
                queries.push(Query { name: name.clone(), row: Some(row), vector: self.vector(row).to_vec() });
                continue;
            }
            if !Path::new(name).is_file() {
                return Err(PipelineError::Invalid(format!(
                    "{name}: neither a track of the library nor an audio file"
                )));
            }
            let model = match model {
                Some(m) => m,
                None => loaded.get_or_insert(self.load_model()?),
            };
            let vector = embed_path(model, Path::new(name), &spec, options)?;
            self.check_width(name, &vector)?;
            queries.push(Query { name: name.clone(), row: None, vector });
        }
        Ok(queries)
    }

    /// An error when `vector` cannot be compared with this library's.
    pub fn check_width(&self, name: &str, vector: &[f32]) -> Result<()> {
        if vector.len() == self.dim {
            return Ok(());
        }
        Err(PipelineError::Invalid(format!(
            "{name}: its embedding is {} wide, the library's {} (another model or layer made the library)",
            vector.len(),
            self.dim
        )))
    }

    /// The `k` tracks most like each query, best first, exactly (the query
    /// itself left out, and any track at the query's path). `k` beyond the
    /// library's size asks for every track.
    pub fn similar(&self, queries: &[Query], k: usize) -> Vec<Vec<Neighbour>> {
        let k = k.min(self.tracks.len());
        let dim = self.dim;
        let flat: Vec<f32> = queries.iter().flat_map(|q| q.vector.iter().copied()).collect();
        let keep =
            |q: usize, row: usize| queries[q].row != Some(row) && self.tracks[row].path != queries[q].name;
        exact_neighbours(&self.vectors, &flat, dim, k, &keep)
    }
}

/// The JSON records of neighbours, best first: `{rank, path, similarity,
/// genre, artist, album, title, tags: [tag]}` (what `similar --format json`
/// prints and the service answers).
pub fn neighbours_json(library: &Library, found: &[Neighbour]) -> Vec<serde_json::Value> {
    found
        .iter()
        .enumerate()
        .map(|(rank, n)| {
            let track = &library.tracks[n.row];
            serde_json::json!({
                "rank": rank + 1,
                "path": track.path,
                "similarity": (f64::from(n.score) * 1e4).round() / 1e4,
                "genre": track.genre,
                "artist": track.artist,
                "album": track.album,
                "title": track.title,
                "tags": track.top_tags.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>(),
            })
        })
        .collect()
}
