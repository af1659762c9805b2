//! Where `classify` spends a track's time with the built-in model, stage by
//! stage, on the current thread pool (`RAYON_NUM_THREADS=1` for one core):
//! decode (to mono at the file's rate), resample to 16 kHz, log-mel and
//! patches, the musicnn network, the genre head, and the rest of
//! `classify_path` (reading in blocks, the verdict and its notes, the JSON
//! line: the total less the stages before). Prints one
//! Markdown table: milliseconds per track (median over REPEATS per file,
//! summed over files, divided by the file count), and the network's
//! GFLOP/s against the cores' float32 peak.
//!
//! `cargo run --release -p genreid-pipeline --example classify_breakdown -- REPEATS GHZ FILE...`
//! (GHZ: the cores' clock, for the peak: 2 FMA x 8 lanes x 2 flops per cycle,
//! 16 lanes where the cores have AVX-512, which `gemm` then uses; on cores
//! that split 512-bit operations in two, such as Zen 4, the peak is half that).

#![allow(clippy::print_stdout)] // printing the measurements is what this example is for

use std::path::PathBuf;
use std::time::Instant;

use genreid_audio::LoadOptions;
use genreid_features::musicnn::musicnn_patches;
use genreid_models::pretrained::PATCH_FRAMES;
use genreid_pipeline::verdict::{ClassifyOptions, classify_path};
use genreid_pipeline::{Model, load_model};

/// The allocator the `genreid` binary uses, so timings match what users get.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Arithmetic musicnn executes per patch (multiply-adds counted as two):
/// the timbral branches through the DFT 0.90, the temporal branches 0.41,
/// the mid and back end 0.12 (`pretrained::musicnn_cpu`, `timbral_dft`).
const GFLOP_PER_PATCH: f64 = 1.43;
/// The same network as direct convolutions (timbral 2.3 instead of 0.9): the
/// work a framework without the DFT form does.
const DIRECT_GFLOP_PER_PATCH: f64 = 2.83;

fn median_ms(repeats: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [repeats, ghz, files @ ..] = args.as_slice() else {
        return Err("usage: classify_breakdown REPEATS GHZ FILE...".into());
    };
    let (repeats, ghz): (usize, f64) = (repeats.parse()?, ghz.parse()?);
    let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
    if files.is_empty() {
        return Err("no files".into());
    }
    let model = load_model(None)?;
    let Model::Tagger(tagger) = &model else { return Err("the built-in model is not a tagger".into()) };
    let head = tagger.manifest().genre_head.as_ref().ok_or("the built-in model has no genre head")?;
    // The same MSD musicnn network without a head, to time the network alone.
    let Model::Tagger(network) = load_model(Some("msd-musicnn"))? else {
        return Err("msd-musicnn is not a tagger".into());
    };
    let rate = tagger.manifest().input.sample_rate;
    let native = LoadOptions { sample_rate: None, ..Default::default() };
    let options = ClassifyOptions::default();

    let stages = [
        "decode",
        "resample",
        "log-mel + patches",
        "network",
        "genre head",
        "rest of classify_path",
        "total",
    ];
    let mut ms = [0.0f64; 7];
    let mut patches_total = 0usize;
    for path in &files {
        let signal = genreid_audio::load(path, &native)?;
        let resampled = genreid_audio::resample(&signal, rate)?;
        let (patches, n) = musicnn_patches(&resampled.samples, PATCH_FRAMES)?;
        let outputs = network.run(&patches)?;
        patches_total += n;
        ms[0] += median_ms(repeats, || drop(genreid_audio::load(path, &native).expect("decodes")));
        ms[1] += median_ms(repeats, || drop(genreid_audio::resample(&signal, rate).expect("resamples")));
        ms[2] +=
            median_ms(repeats, || drop(musicnn_patches(&resampled.samples, PATCH_FRAMES).expect("patches")));
        ms[3] += median_ms(repeats, || drop(network.run(&patches).expect("runs")));
        ms[4] += median_ms(repeats, || {
            for i in 0..n {
                let x = outputs.features(&head.inputs, i).expect("head inputs");
                std::hint::black_box(head.classifier.predict_proba(&head.scaler.transform(&x)));
            }
        });
        ms[6] += median_ms(repeats, || {
            let verdict = classify_path(&model, path, &options).expect("classifies");
            std::hint::black_box(serde_json::to_string(&verdict).expect("serialises"));
        });
    }
    let tracks = files.len() as f64;
    for m in &mut ms {
        *m /= tracks;
    }
    ms[5] = (ms[6] - ms[..5].iter().sum::<f64>()).max(0.0);
    let threads = rayon::current_num_threads();
    println!("| stage | ms per track | share |");
    println!("|---|---:|---:|");
    for (stage, m) in stages.iter().zip(ms) {
        println!("| {stage} | {m:.2} | {:.1} % |", 100.0 * m / ms[6]);
    }
    let per_track_patches = patches_total as f64 / tracks;
    let gflops = per_track_patches * GFLOP_PER_PATCH / (ms[3] / 1e3);
    let lanes = if avx512() { 16.0 } else { 8.0 };
    let peak = threads as f64 * ghz * 2.0 * lanes * 2.0;
    println!(
        "\n{} tracks, {per_track_patches:.1} patches each, {threads} thread(s): the network runs {gflops:.1} GFLOP/s \
         ({:.0} % of the {peak:.0} GFLOP/s float32 FMA peak at {ghz} GHz); counted as direct convolutions, \
         {:.1} GFLOP/s; {:.2} tracks/s end to end",
        files.len(),
        100.0 * gflops / peak,
        gflops * DIRECT_GFLOP_PER_PATCH / GFLOP_PER_PATCH,
        1e3 / ms[6],
    );
    Ok(())
}

/// Whether the cores have AVX-512 (gemm's 16-lane kernels).
fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    false
}
