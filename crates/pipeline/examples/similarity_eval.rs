//! Same-genre precision@5 of nearest neighbours on the shared GTZAN clips,
//! across artists: GTZAN's neighbouring ids of one genre are mostly one
//! artist, so each genre's clips are cut into blocks of five consecutive
//! ids and a query is answered only from the other blocks. Compares the
//! musicnn embeddings (layers and poolings), the 57 GTZAN features
//! (standardised, Euclidean) and, when its analysis is given as CSV,
//! bliss-audio's 23 features (Euclidean, as bliss ranks them); and times
//! genreid's analysis per track on the current thread pool.
//!
//! `cargo run --release -p genreid-pipeline --example similarity_eval -- SHARED [BLISS_CSV]`
//! (BLISS_CSV: `path,seconds,features` with the features space-separated).

#![allow(clippy::print_stdout)] // printing the measurements is what this example is for

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use genreid_pipeline::embed::{EmbeddingSpec, Pooling};
use genreid_pipeline::verdict::ClassifyOptions;
use genreid_pipeline::{Model, load_model};
use rayon::prelude::*;

struct Clip {
    path: PathBuf,
    id: String,
    genre: String,
    block: usize,
}

fn clips(shared: &Path) -> Vec<Clip> {
    let mut clips = Vec::new();
    let root = shared.join("data/gtzan");
    let mut genres: Vec<_> = std::fs::read_dir(&root).expect("data/gtzan").filter_map(|e| e.ok()).collect();
    genres.sort_by_key(|e| e.file_name());
    for genre in genres.iter().filter(|e| e.path().is_dir() && e.file_name() != "splits") {
        let mut files: Vec<PathBuf> = std::fs::read_dir(genre.path())
            .expect("genre folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "flac"))
            .collect();
        files.sort();
        for (i, path) in files.into_iter().enumerate() {
            let id = path.file_stem().unwrap().to_string_lossy().into_owned();
            clips.push(Clip {
                path,
                id,
                genre: genre.file_name().to_string_lossy().into_owned(),
                block: i / 5,
            });
        }
    }
    clips
}

/// Mean same-genre precision@5; `across` answers each query from other blocks only.
fn precision_at_5(clips: &[Clip], similarity: &dyn Fn(usize, usize) -> f64, across: bool) -> f64 {
    let mut total = 0.0;
    for (q, query) in clips.iter().enumerate() {
        let mut ranked: Vec<(usize, f64)> = (0..clips.len())
            .filter(|&c| {
                c != q && !(across && clips[c].genre == query.genre && clips[c].block == query.block)
            })
            .map(|c| (c, similarity(q, c)))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        total += ranked.iter().take(5).filter(|(c, _)| clips[*c].genre == query.genre).count() as f64 / 5.0;
    }
    total / clips.len() as f64
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b)).max(1e-12)
}

fn neg_euclidean(a: &[f64], b: &[f64]) -> f64 {
    -a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
}

fn standardised(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = rows[0].len();
    let n = rows.len() as f64;
    let mean: Vec<f64> = (0..d).map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n).collect();
    let sd: Vec<f64> = (0..d)
        .map(|j| (rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt().max(1e-12))
        .collect();
    rows.iter().map(|r| (0..d).map(|j| (r[j] - mean[j]) / sd[j]).collect()).collect()
}

fn gtzan57(shared: &Path, clips: &[Clip]) -> Vec<Vec<f64>> {
    let mut reader =
        csv::Reader::from_path(shared.join("data/gtzan/features_30_sec.csv")).expect("features_30_sec.csv");
    let mut rows: HashMap<String, Vec<f64>> = HashMap::new();
    for record in reader.records() {
        let record = record.expect("a row");
        let name = record[0].trim_end_matches(".wav").to_string();
        // filename, length, 57 features, label.
        let values = (2..record.len() - 1).map(|i| record[i].parse::<f64>().expect("a number")).collect();
        rows.insert(name, values);
    }
    standardised(&clips.iter().map(|c| rows[&c.id].clone()).collect::<Vec<_>>())
}

fn bliss(csv_path: &Path, clips: &[Clip]) -> (Vec<Vec<f64>>, f64) {
    let mut reader = csv::Reader::from_path(csv_path).expect("bliss CSV");
    let mut rows: HashMap<String, (f64, Vec<f64>)> = HashMap::new();
    for record in reader.records() {
        let record = record.expect("a row");
        let values = record[2].split(' ').map(|v| v.parse::<f64>().expect("a number")).collect();
        rows.insert(record[0].to_string(), (record[1].parse().expect("seconds"), values));
    }
    let picked: Vec<&(f64, Vec<f64>)> = clips.iter().map(|c| &rows[&c.path.display().to_string()]).collect();
    let seconds = picked.iter().map(|(s, _)| s).sum::<f64>() / picked.len() as f64;
    (picked.into_iter().map(|(_, v)| v.clone()).collect(), seconds)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let shared = PathBuf::from(args.next().expect("usage: similarity_eval SHARED [BLISS_CSV]"));
    let bliss_csv = args.next().map(PathBuf::from);
    let clips = clips(&shared);
    assert!(!clips.is_empty(), "no GTZAN clips under {}", shared.display());
    let model = load_model(None).expect("the built-in model");
    let Model::Tagger(tagger) = &model else { panic!("the built-in model is a tagger") };
    let options = ClassifyOptions::default();
    let started = Instant::now();
    let analyses: Vec<_> = clips
        .par_iter()
        .map(|c| {
            tagger
                .analyse_file_with(&c.path, options.hop, &options.cancel, options.max_seconds)
                .expect("analysis")
        })
        .collect();
    let seconds_per_track = started.elapsed().as_secs_f64() / clips.len() as f64;
    println!(
        "{} clips, {} threads; genreid analysis {:.3} s per track (decode, mel, musicnn)",
        clips.len(),
        rayon::current_num_threads(),
        seconds_per_track
    );
    println!();
    println!("| representation | width | precision@5, across blocks | precision@5, any neighbour |");
    println!("|---|---:|---:|---:|");
    let specs = [
        ("penultimate", Pooling::Mean),
        ("penultimate", Pooling::MeanStd),
        ("taggram", Pooling::Mean),
        ("taggram", Pooling::MeanStd),
        ("mean_pool", Pooling::Mean),
        ("max_pool", Pooling::Mean),
    ];
    for (layer, pooling) in specs {
        let spec = EmbeddingSpec { layer: layer.into(), pooling, normalise: true };
        let vectors: Vec<Vec<f32>> = analyses.iter().map(|a| spec.embed(a).expect("embedding")).collect();
        let sim = |a: usize, b: usize| cosine(&vectors[a], &vectors[b]);
        println!(
            "| musicnn {} (cosine) | {} | {:.3} | {:.3} |",
            spec.label(),
            vectors[0].len(),
            precision_at_5(&clips, &sim, true),
            precision_at_5(&clips, &sim, false)
        );
    }
    let table = gtzan57(&shared, &clips);
    let sim = |a: usize, b: usize| neg_euclidean(&table[a], &table[b]);
    println!(
        "| GTZAN-57 features, standardised (Euclidean) | 57 | {:.3} | {:.3} |",
        precision_at_5(&clips, &sim, true),
        precision_at_5(&clips, &sim, false)
    );
    if let Some(csv_path) = bliss_csv {
        let (rows, seconds) = bliss(&csv_path, &clips);
        let sim = |a: usize, b: usize| neg_euclidean(&rows[a], &rows[b]);
        println!(
            "| bliss-audio 0.11.4 analysis (Euclidean) | {} | {:.3} | {:.3} |",
            rows[0].len(),
            precision_at_5(&clips, &sim, true),
            precision_at_5(&clips, &sim, false)
        );
        println!();
        println!("bliss-audio analysis (its symphonia decoding + features): {seconds:.3} s per track");
    }
}
