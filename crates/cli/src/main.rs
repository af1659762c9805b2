//! `genreid`: music genre classification and librosa-equal audio features
//! from the command line.

#![allow(clippy::print_stdout)] // a command line's results go to standard output

mod batch_cmd;
mod classify_cmd;
mod dataset;
mod experiment_cmd;
mod export_cmd;
mod features_cmd;
mod head_cmd;
mod import_cmd;
mod network_cmd;
mod params;
mod progress;
mod serve_cmd;
mod similar_cmd;
mod spectrogram_cmd;
mod table;
mod tag_cmd;
mod train_cmd;
mod transfer_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc keeps freed pages for reuse; glibc's malloc returns every large
/// spectrogram buffer to the kernel and faults it back in on the next file.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Music genre classification and audio features.
#[derive(Debug, Parser)]
#[command(name = "genreid", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the genre of audio files (built-in model, or --model FILE).
    Classify(classify_cmd::Args),
    /// Write each track's embedding (for similarity search) into a library file; re-runs add new or changed files.
    Embed(similar_cmd::EmbedArgs),
    /// List the tracks of a library that sound most like each query (a file, or a track of the library).
    Similar(similar_cmd::SimilarArgs),
    /// Make a playlist that moves smoothly from the seeds through a library, as M3U.
    Playlist(similar_cmd::PlaylistArgs),
    /// Write each file's genre into its own tags (journaled; --undo JOURNAL restores).
    Tag(tag_cmd::Args),
    /// Serve the HTTP API and web page (genre on upload, live dashboard).
    Serve(serve_cmd::Args),
    /// Train a classical model on a feature table, or a network on spectrograms, and save it.
    Train(Box<train_cmd::TrainArgs>),
    /// Evaluate a model file on a feature table's test rows and write a report.
    Eval(train_cmd::EvalArgs),
    /// Compare model families on one feature table and split.
    Compare(train_cmd::CompareArgs),
    /// Compute a feature table (one row per file or segment) as CSV.
    Features(features_cmd::Args),
    /// Compute a spectrogram of one file as .npy (librosa layout) or a picture.
    Spectrogram(spectrogram_cmd::Args),
    /// Train a genre head on a pretrained tagger from a folder-per-genre dataset.
    TrainHead(head_cmd::Args),
    /// Train and compare the networks an experiment file lists, into one report.
    Experiment(experiment_cmd::Args),
    /// Convert the TensorFlow checkpoints of an unpacked musicnn 0.1.0 wheel into model files.
    ImportMusicnn(import_cmd::Args),
    /// Write an ImageNet network trained here as a PyTorch state_dict (.safetensors).
    ExportTorch(export_cmd::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Classify(args) => classify_cmd::run(args),
        Command::Tag(args) => tag_cmd::run(args),
        Command::Embed(args) => similar_cmd::embed(args),
        Command::Similar(args) => similar_cmd::similar(args),
        Command::Playlist(args) => similar_cmd::playlist(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Train(args) => train_cmd::train(*args),
        Command::Eval(args) => train_cmd::eval(args),
        Command::Compare(args) => train_cmd::compare(args),
        Command::Features(args) => features_cmd::run(args),
        Command::Spectrogram(args) => spectrogram_cmd::run(args),
        Command::TrainHead(args) => head_cmd::run(args),
        Command::Experiment(args) => experiment_cmd::run(args),
        Command::ImportMusicnn(args) => import_cmd::run(args),
        Command::ExportTorch(args) => export_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
