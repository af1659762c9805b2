//! Criterion benchmarks of each feature family on a real 30-s clip
//! (single-threaded). Run: `cargo bench -p genreid-features`.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use genreid_features::hpss::hpss_spectrogram;
use genreid_features::stft::{Stft, StftConfig};
use genreid_features::timing::{WORKLOADS, run};

fn clip() -> Vec<f32> {
    let shared = std::env::var_os("GENREID_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = shared.join("fixtures/audio/rock_sectoid_escape_from_chaosland.wav");
    genreid_audio::load(&path, &Default::default())
        .unwrap_or_else(|e| panic!("benchmark clip missing ({e}); set GENREID_SHARED"))
        .samples
}

fn features(c: &mut Criterion) {
    let y = clip();
    let mut group = c.benchmark_group("30s_clip");
    group.sample_size(10);
    for name in WORKLOADS.iter().chain(&["gtzan57"]) {
        group.bench_function(*name, |b| b.iter(|| run(name, &y, 22_050.0).unwrap()));
    }
    group.finish();
}

/// The two 31-point median filters and soft masks of HPSS alone, on the
/// clip's STFT (2.6 M medians).
fn median_filters(c: &mut Criterion) {
    let y = clip();
    let stft = Stft::new(StftConfig::new(2048, 512)).complex(&y).unwrap();
    let mut group = c.benchmark_group("30s_clip");
    group.sample_size(10);
    group.bench_function("hpss_median_filters", |b| b.iter(|| hpss_spectrogram(&stft, 31)));
    group.finish();
}

criterion_group!(benches, features, median_filters);
criterion_main!(benches);
