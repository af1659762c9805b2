//! `genreid`: music genre classification and librosa-equal audio features
//! from the command line.

mod features_cmd;
mod progress;
mod spectrogram_cmd;
mod table;
mod walk;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Music genre classification and audio features.
#[derive(Debug, Parser)]
#[command(name = "genreid", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute a feature table (one row per file or segment) as CSV.
    Features(features_cmd::Args),
    /// Compute a spectrogram of one file as .npy (librosa layout) or a picture.
    Spectrogram(spectrogram_cmd::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Features(args) => features_cmd::run(args),
        Command::Spectrogram(args) => spectrogram_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
