//! How similarity search scales past the shared clips: a synthetic library
//! of clustered unit vectors (genreid's width, 200; clusters stand in for
//! artists and styles), searched exactly and through the HNSW graph, with
//! the graph's build time, query time and recall@10 against exact search.
//!
//! `cargo run --release --example similar_scale -- ROWS [QUERIES]`

#![allow(clippy::print_stdout)] // printing the measurements is what this example is for

use std::time::Instant;

use genreid_pipeline::similar::{ApproxIndex, Library, Track, recall_at};

const DIM: usize = 200;

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().and_then(|a| a.parse().ok()).expect("usage: similar_scale ROWS [QUERIES]");
    let queries: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let mut state = 7u64;
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) as f32
    };
    // Gaussian-ish noise from sums of uniforms; one centre per 100 tracks.
    let mut noise = move || (0..4).map(|_| uniform()).sum::<f32>() - 2.0;
    let centres: Vec<Vec<f32>> =
        (0..(rows / 100).max(1)).map(|_| (0..DIM).map(|_| noise()).collect()).collect();
    let mut library = Library::default();
    for r in 0..rows {
        let centre = &centres[r % centres.len()];
        let mut v: Vec<f32> = centre.iter().map(|c| c + 1.2 * noise()).collect();
        genreid_pipeline::embed::l2_normalise(&mut v);
        library.push(Track { path: format!("track-{r}"), ..Default::default() }, &v).expect("one width");
    }
    let picked: Vec<usize> = (0..queries).map(|q| q * rows / queries).collect();
    let started = Instant::now();
    let found = library.similar(
        &picked
            .iter()
            .map(|&r| genreid_pipeline::similar::Query {
                name: String::new(),
                row: Some(r),
                vector: library.vector(r).to_vec(),
            })
            .collect::<Vec<_>>()[..1],
        10,
    );
    let one = started.elapsed().as_secs_f64();
    assert_eq!(found[0].len(), 10);
    let started = Instant::now();
    let index = ApproxIndex::build(&library);
    let build = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for &r in &picked {
        let _ = index.neighbours(library.vector(r), 10, &|row| row != r);
    }
    let approx = started.elapsed().as_secs_f64() / picked.len() as f64;
    let recall = recall_at(&library, &index, &picked, 10);
    println!(
        "{rows} tracks x {DIM}, {} threads: exact {:.1} ms per query; HNSW build {build:.1} s, {:.3} ms per query, recall@10 {recall:.3}",
        rayon::current_num_threads(),
        one * 1e3,
        approx * 1e3
    );
}
