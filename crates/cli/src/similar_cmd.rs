//! `genreid embed`, `similar` and `playlist`: a library of track embeddings
//! in Parquet (the batch rows of `classify --out`, with an L2-normalised
//! embedding and the files' artist, album and title), searched for the
//! tracks that sound most like a query, and walked into playlists.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::ValueEnum;
use genreid_models::pretrained::patch_hop_frames;
use genreid_pipeline::batch::{BatchOutput, ClassifyRows, Shard};
use genreid_pipeline::display::terminal_safe as safe;
use genreid_pipeline::similar::{
    ApproxIndex, Library, Neighbour, PlaylistOptions, Query, Spread, Track, library_batch, m3u,
    neighbours_json, playlist as walk, write_atomically,
};
use genreid_pipeline::verdict::ClassifyOptions;
use genreid_pipeline::{EmbeddingSpec, load_model, model_identity};
use serde_json::json;

use crate::batch_cmd::{Verb, run_rows, verdict_progress};
use crate::classify_cmd::inputs;

/// Arguments of `genreid embed`.
#[derive(Debug, clap::Args)]
pub struct EmbedArgs {
    /// Audio files or folders.
    #[arg(required_unless_present = "files_from")]
    paths: Vec<PathBuf>,
    /// Also embed the files a list names: one path a line, or the `path`
    /// column of a .csv or .parquet file.
    #[arg(long, value_name = "LIST")]
    files_from: Option<PathBuf>,
    /// The library: one `FILE.parquet` (rewritten atomically) or a folder of parts.
    #[arg(long, value_name = "FILE.parquet|DIR/")]
    out: PathBuf,
    /// A pretrained tagger (built-in name or file). Default: musicnn-gtzan.
    #[arg(long)]
    model: Option<String>,
    /// The tagger layer the embedding comes from.
    #[arg(long, default_value = "penultimate")]
    layer: String,
    /// How the layer's 3-s patches are pooled over the track (mean, mean+std).
    #[arg(long, default_value = "mean")]
    pooling: String,
    /// Take only share K of N (0-based) of the inputs (into a folder library).
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Files per part written into a folder library.
    #[arg(long, default_value_t = 256)]
    part_rows: usize,
    /// Files embedded at once (default: all cores).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
}

/// Runs `genreid embed`: adds the files not yet in the library (or changed
/// since: other size or modification time); exit status 1 when any failed.
pub fn embed(args: EmbedArgs) -> Result<ExitCode> {
    let model = load_model(args.model.as_deref())?;
    let spec = EmbeddingSpec::named(&args.layer, &args.pooling, true)?;
    let output = BatchOutput::parse(&args.out)?;
    let identity = model_identity(args.model.as_deref())?;
    Library::check_extends(&args.out, &spec, &model)?;
    let shard = args.shard.unwrap_or(Shard::ALL);
    let (schema, options) = library_batch(&model, &identity, spec, shard, args.part_rows)?;
    let files = inputs(&args.paths, args.files_from.as_deref())?;
    let pool = genreid_pipeline::jobs::thread_pool(args.jobs).map_err(anyhow::Error::msg)?;
    let verb = Verb { doing: "embed", done: "embedded" };
    let kind = ClassifyRows { model: &model, schema: &schema, options: &options };
    pool.install(|| run_rows(&kind, files, &output, &options.run, &args.out, verb, &verdict_progress))
}

/// Output formats of `similar`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimilarFormat {
    /// A readable table per query.
    Table,
    /// One JSON document: `[{query, neighbours: [{rank, path, similarity, genre, artist, title, tags}]}]`.
    Json,
    /// An M3U playlist of every query's neighbours, best first.
    M3u,
}

/// Arguments of `genreid similar`.
#[derive(Debug, clap::Args)]
pub struct SimilarArgs {
    /// Audio files, or paths of tracks already in the library.
    #[arg(required = true)]
    queries: Vec<String>,
    /// The library (`genreid embed --out`).
    #[arg(long)]
    index: PathBuf,
    /// Neighbours per query.
    #[arg(short, long, default_value_t = 10)]
    k: usize,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: SimilarFormat,
    /// Search an HNSW graph instead of the whole library (for millions of
    /// tracks; built once and kept beside the library as NAME.hnsw).
    #[arg(long)]
    approximate: bool,
    /// The model to embed query files with (default: the one that made the library).
    #[arg(long)]
    model: Option<String>,
}

/// Runs `genreid similar`.
pub fn similar(args: SimilarArgs) -> Result<ExitCode> {
    let library = Library::open(&args.index)?;
    let model = args.model.as_deref().map(|m| load_model(Some(m))).transpose()?;
    let options = ClassifyOptions { hop: patch_hop_frames(0.0)?, ..Default::default() };
    let queries = library.queries(&args.queries, model.as_ref(), &options)?;
    let answers = if args.approximate {
        let started = Instant::now();
        let (index, built) = ApproxIndex::open_or_build(&args.index, &library)?;
        if built {
            eprintln!(
                "built the search graph of {} tracks in {:.1} s (kept as {})",
                library.len(),
                started.elapsed().as_secs_f64(),
                ApproxIndex::sidecar(&args.index).display()
            );
        }
        queries
            .iter()
            .map(|q| {
                let own = |row: usize| q.row != Some(row) && library.tracks[row].path != q.name;
                index.neighbours(&q.vector, args.k, &own)
            })
            .collect()
    } else {
        library.similar(&queries, args.k)
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        SimilarFormat::Table => write_table(&mut out, &library, &queries, &answers)?,
        SimilarFormat::Json => {
            let records: Vec<_> = queries
                .iter()
                .zip(&answers)
                .map(|(q, found)| json!({ "query": q.name, "neighbours": neighbours_json(&library, found) }))
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&records)?)?;
        }
        SimilarFormat::M3u => {
            let rows: Vec<usize> = answers.iter().flatten().map(|n| n.row).collect();
            out.write_all(m3u(&library, &rows).as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_table(
    out: &mut impl Write,
    library: &Library,
    queries: &[Query],
    answers: &[Vec<Neighbour>],
) -> Result<()> {
    for (q, found) in queries.iter().zip(answers) {
        writeln!(out, "{}", safe(&q.name))?;
        for (rank, n) in found.iter().enumerate() {
            let track = &library.tracks[n.row];
            let who = match (&track.artist, &track.title) {
                (Some(a), Some(t)) => format!("  ({} – {})", safe(a), safe(t)),
                _ => String::new(),
            };
            let genre = safe(track.genre.as_deref().unwrap_or("-"));
            writeln!(out, "  {:>2}. {:.3}  {genre:<10} {}{who}", rank + 1, n.score, safe(&track.path))?;
        }
    }
    Ok(())
}

/// What a playlist keeps apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpreadArg {
    /// Nothing.
    None,
    /// Artists, as the files' tags name them.
    Artist,
    /// Albums.
    Album,
}

/// Arguments of `genreid playlist`.
#[derive(Debug, clap::Args)]
pub struct PlaylistArgs {
    /// The tracks to start from: audio files, or tracks of the library.
    #[arg(required = true)]
    seeds: Vec<String>,
    /// The library (`genreid embed --out`).
    #[arg(long)]
    index: PathBuf,
    /// Tracks in the playlist, seeds included.
    #[arg(long, default_value_t = 20)]
    length: usize,
    /// Write the playlist (M3U) here instead of printing it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep tracks of one artist (or album) apart.
    #[arg(long, value_enum, default_value = "none")]
    spread: SpreadArg,
    /// How many preceding tracks --spread looks back over.
    #[arg(long, default_value_t = 3)]
    spread_window: usize,
    /// Pull towards the seeds, 0 (a pure track-to-track walk) to 0.99.
    #[arg(long, default_value_t = 0.25)]
    anchor: f32,
    /// The model to embed seed files with (default: the one that made the library).
    #[arg(long)]
    model: Option<String>,
}

/// Runs `genreid playlist`.
pub fn playlist(args: PlaylistArgs) -> Result<ExitCode> {
    if args.length == 0 {
        bail!("--length must be at least 1");
    }
    if !(0.0..1.0).contains(&args.anchor) {
        bail!("--anchor must lie in [0, 1), got {}", args.anchor);
    }
    let mut library = Library::open(&args.index)?;
    let model = args.model.as_deref().map(|m| load_model(Some(m))).transpose()?;
    let options = ClassifyOptions { hop: patch_hop_frames(0.0)?, ..Default::default() };
    let queries = library.queries(&args.seeds, model.as_ref(), &options)?;
    // Seed files not in the library join it for this playlist.
    let mut seeds = Vec::with_capacity(queries.len());
    for q in queries {
        match q.row {
            Some(row) => seeds.push(row),
            None => {
                let track = Track { path: q.name.clone(), ..Default::default() };
                library.push(track, &q.vector)?;
                seeds.push(library.len() - 1);
            }
        }
    }
    let spread = match args.spread {
        SpreadArg::None => Spread::None,
        SpreadArg::Artist => Spread::Artist,
        SpreadArg::Album => Spread::Album,
    };
    let options = PlaylistOptions {
        length: args.length,
        anchor: args.anchor,
        spread,
        spread_window: args.spread_window,
    };
    let list = walk(&library, &seeds, &options);
    let rows: Vec<usize> = list.iter().map(|(row, _)| *row).collect();
    let text = m3u(&library, &rows);
    match &args.out {
        Some(path) => {
            write_atomically(path, text.as_bytes())?;
            let mean =
                list.iter().skip(1).map(|(_, s)| f64::from(*s)).sum::<f64>() / (list.len().max(2) - 1) as f64;
            eprintln!(
                "wrote {} tracks to {} (mean similarity of neighbours {mean:.3})",
                list.len(),
                path.display()
            );
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
