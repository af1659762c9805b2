//! Exact similarity search: one query and a batch of 64 against a library
//! of unit vectors as wide as genreid's embedding (200), blocked matrix
//! products on rayon's pool (all cores).

use criterion::{Criterion, criterion_group, criterion_main};
use genreid_pipeline::similar::exact_neighbours;

const DIM: usize = 200;

/// `rows` pseudo-random unit vectors (a fixed LCG: the same every run).
fn unit_vectors(rows: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    let mut values: Vec<f32> = (0..rows * DIM)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        })
        .collect();
    for row in values.chunks_exact_mut(DIM) {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        row.iter_mut().for_each(|v| *v /= norm);
    }
    values
}

fn exact_search(c: &mut Criterion) {
    let mut group = c.benchmark_group("exact_search");
    group.sample_size(10);
    for rows in [100_000usize, 1_000_000] {
        let library = unit_vectors(rows, 1);
        let one = unit_vectors(1, 2);
        let batch = unit_vectors(64, 3);
        group.bench_function(format!("1 query x {rows} tracks, k=10"), |b| {
            b.iter(|| exact_neighbours(&library, &one, DIM, 10, &|_, _| true))
        });
        group.bench_function(format!("64 queries x {rows} tracks, k=10"), |b| {
            b.iter(|| exact_neighbours(&library, &batch, DIM, 10, &|_, _| true))
        });
    }
    group.finish();
}

criterion_group!(benches, exact_search);
criterion_main!(benches);
