//! Approximate nearest neighbours for libraries too large to scan per
//! query: an HNSW graph (the `instant-distance` crate, chosen over
//! `hnsw_rs` on build time, query time and recall: BENCHMARKS.md) over the
//! library's unit vectors, saved beside the library so it is built once.
//! Its answers are checked against exact search by recall@10.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use instant_distance::{Builder, HnswMap, Search};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::library::Library;
use super::search::Neighbour;
use crate::error::{PipelineError, Result};

/// A library track's unit vector, as the graph stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UnitVector(Vec<f32>);

impl instant_distance::Point for UnitVector {
    fn distance(&self, other: &Self) -> f32 {
        let dot: f32 = self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum();
        (1.0 - dot).max(0.0)
    }
}

/// An HNSW graph over a library's tracks.
#[derive(Serialize, Deserialize)]
pub struct ApproxIndex {
    /// What library the graph was built from (rows, width, paths).
    fingerprint: String,
    map: HnswMap<UnitVector, usize>,
}

impl std::fmt::Debug for ApproxIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApproxIndex").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

/// Candidates explored per query (higher: better recall, slower queries).
const EF_SEARCH: usize = 100;

fn fingerprint(library: &Library) -> String {
    let mut hash = Sha256::new();
    hash.update(format!("{}x{}", library.len(), library.dim));
    for track in &library.tracks {
        hash.update(track.path.as_bytes());
        hash.update([0]);
    }
    // The vectors too: an update that re-embedded a file changes them.
    for v in &library.vectors {
        hash.update(v.to_le_bytes());
    }
    hash.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

impl ApproxIndex {
    /// The graph over `library`'s tracks (minutes for a million; use
    /// [`ApproxIndex::open_or_build`] to keep it).
    pub fn build(library: &Library) -> Self {
        let points: Vec<UnitVector> =
            (0..library.len()).map(|r| UnitVector(library.vector(r).to_vec())).collect();
        let rows: Vec<usize> = (0..library.len()).collect();
        let map = Builder::default().ef_search(EF_SEARCH).seed(0x6e72).build(points, rows);
        ApproxIndex { fingerprint: fingerprint(library), map }
    }

    /// Where the graph of the library at `library_path` is kept: beside it, `NAME.hnsw`.
    pub fn sidecar(library_path: &Path) -> PathBuf {
        let mut name = library_path.as_os_str().to_owned();
        if library_path.is_dir() {
            return library_path.join("_index.hnsw");
        }
        name.push(".hnsw");
        PathBuf::from(name)
    }

    /// The saved graph of `library` when it is current, else a new one,
    /// saved (atomically) for next time; `true` when it was built now.
    pub fn open_or_build(library_path: &Path, library: &Library) -> Result<(Self, bool)> {
        let sidecar = Self::sidecar(library_path);
        let wanted = fingerprint(library);
        let saved = File::open(&sidecar)
            .ok()
            .and_then(|file| ciborium::from_reader::<ApproxIndex, _>(BufReader::new(file)).ok());
        if let Some(index) = saved.filter(|index| index.fingerprint == wanted) {
            return Ok((index, false));
        }
        let index = Self::build(library);
        index.save(&sidecar)?;
        Ok((index, true))
    }

    fn save(&self, path: &Path) -> Result<()> {
        let failed = |e: &dyn std::fmt::Display| {
            PipelineError::Output(format!("{}: cannot save the search graph: {e}", path.display()))
        };
        genreid_core::write_atomic(path, |writer| {
            ciborium::into_writer(self, writer).map_err(std::io::Error::other)
        })
        .map_err(|e| failed(&e))
    }

    /// About the `k` tracks most like `query` (a unit vector), best first,
    /// among the rows `keep` allows.
    pub fn neighbours(&self, query: &[f32], k: usize, keep: &dyn Fn(usize) -> bool) -> Vec<Neighbour> {
        let mut search = Search::default();
        self.map
            .search(&UnitVector(query.to_vec()), &mut search)
            .filter(|item| keep(*item.value))
            .take(k)
            .map(|item| Neighbour { row: *item.value, score: 1.0 - item.distance })
            .collect()
    }
}

/// The share of the exact top `k` that the approximate search finds, over
/// `queries` library rows (each left out of its own answer): recall@k.
pub fn recall_at(library: &Library, index: &ApproxIndex, queries: &[usize], k: usize) -> f64 {
    let dim = library.dim;
    let flat: Vec<f32> = queries.iter().flat_map(|&r| library.vector(r).iter().copied()).collect();
    let exact = super::search::exact_neighbours(&library.vectors, &flat, dim, k, &|q, r| queries[q] != r);
    let mut found = 0usize;
    let mut wanted = 0usize;
    for (q, truth) in exact.iter().enumerate() {
        let got = index.neighbours(library.vector(queries[q]), k, &|r| r != queries[q]);
        wanted += truth.len();
        found += truth.iter().filter(|t| got.iter().any(|g| g.row == t.row)).count();
    }
    found as f64 / wanted.max(1) as f64
}
