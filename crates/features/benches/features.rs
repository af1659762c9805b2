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

/// The FFTs of a 30-s clip's STFT alone (1,292 real transforms of 2,048
/// points, as `Stft` plans them) in `f64`, as genreid computes them, and in
/// `f32`, the cheaper precision: how much of the STFT is the transform.
fn stft_transforms(c: &mut Criterion) {
    fn frames<T: realfft::FftNum>(c: &mut Criterion, name: &str) {
        let fft = realfft::RealFftPlanner::<T>::new().plan_fft_forward(2048);
        let mut input = fft.make_input_vec();
        for (i, x) in input.iter_mut().enumerate() {
            *x = T::from_f64((i as f64 * 0.37).sin()).expect("a small float");
        }
        let mut frame = fft.make_input_vec();
        let mut output = fft.make_output_vec();
        let mut scratch = fft.make_scratch_vec();
        let mut group = c.benchmark_group("30s_clip");
        group.sample_size(20);
        group.bench_function(name, |b| {
            b.iter(|| {
                for _ in 0..1292 {
                    // The transform overwrites its input, as the STFT's
                    // windowed frame is overwritten each frame.
                    frame.copy_from_slice(&input);
                    fft.process_with_scratch(&mut frame, &mut output, &mut scratch).expect("sizes match");
                }
            })
        });
        group.finish();
    }
    frames::<f64>(c, "stft_transforms_f64");
    frames::<f32>(c, "stft_transforms_f32");
}

criterion_group!(benches, features, median_filters, stft_transforms);
criterion_main!(benches);
