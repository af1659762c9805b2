//! `genreid spectrogram`: one file's STFT, mel, MFCC or chroma as a NumPy
//! array or a picture, in memory that does not grow with the file
//! (`genreid_pipeline::spectrogram`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use genreid_pipeline::PipelineError;
use genreid_pipeline::spectrogram::{
    SpectrogramKind, SpectrogramOptions, SpectrogramSummary, spectrogram_frames, spectrogram_picture,
};
use npyz::WriterBuilder;

/// Which representation to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Magnitude STFT `|X|` (`librosa.stft`), `[1 + n_fft/2, frames]`.
    Stft,
    /// Mel power spectrogram (`librosa.feature.melspectrogram`).
    Mel,
    /// MFCCs (`librosa.feature.mfcc`, 20 coefficients by default).
    Mfcc,
    /// Chroma from the STFT with estimated tuning (`chroma_stft`).
    Chroma,
    /// Magnitude constant-Q transform (`np.abs(librosa.cqt)`: 84 bins from C1, 12 per octave).
    Cqt,
    /// Chroma from the CQT (`chroma_cqt`: 7 octaves, 36 bins per octave, estimated tuning, hop 512).
    ChromaCqt,
}

impl From<Kind> for SpectrogramKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Stft => SpectrogramKind::Stft,
            Kind::Mel => SpectrogramKind::Mel,
            Kind::Mfcc => SpectrogramKind::Mfcc,
            Kind::Chroma => SpectrogramKind::Chroma,
            Kind::Cqt => SpectrogramKind::Cqt,
            Kind::ChromaCqt => SpectrogramKind::ChromaCqt,
        }
    }
}

/// Arguments of `genreid spectrogram`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Audio file.
    file: PathBuf,
    /// What to compute.
    #[arg(long, value_enum, default_value = "mel")]
    kind: Kind,
    /// FFT length.
    #[arg(long, default_value_t = 2048)]
    n_fft: usize,
    /// Hop length in samples (default n_fft / 4).
    #[arg(long)]
    hop: Option<usize>,
    /// Mel bands (mel and mfcc).
    #[arg(long, default_value_t = 128)]
    n_mels: usize,
    /// MFCC coefficients.
    #[arg(long, default_value_t = 20)]
    n_mfcc: usize,
    /// Convert stft/mel/cqt to dB relative to the maximum (`ref=np.max`, top_db 80).
    #[arg(long)]
    db: bool,
    /// Sample rate to analyse at (Hz).
    #[arg(long, default_value_t = 22_050)]
    sr: u32,
    /// Output: .npy (float32, librosa's [bins, frames] shape), .png or .svg.
    #[arg(long)]
    out: PathBuf,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let options = SpectrogramOptions {
        kind: args.kind.into(),
        n_fft: args.n_fft,
        hop: args.hop.unwrap_or(args.n_fft / 4),
        n_mels: args.n_mels,
        n_mfcc: args.n_mfcc,
        db: args.db,
        sample_rate: args.sr,
        ..SpectrogramOptions::default()
    };
    let extension = args.out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let summary = match extension.as_str() {
        "npy" => write_npy(&args.file, &options, &args.out)?,
        "png" | "svg" => {
            let (matrix, seconds_per_col, summary) = spectrogram_picture(&args.file, &options)?;
            let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let (y_label, unit) = options.labels();
            let map = genreid_plot::Heatmap {
                data: &matrix.data,
                rows: matrix.rows,
                cols: matrix.cols,
                seconds_per_col,
                title: format!(
                    "{}: {}{}",
                    genreid_pipeline::display::terminal_safe(&name),
                    format!("{:?}", args.kind).to_lowercase(),
                    if args.db { " (dB)" } else { "" }
                ),
                y_label: y_label.into(),
                value_label: unit.into(),
            };
            genreid_plot::heatmap(&map, &args.out)?;
            summary
        }
        _ => bail!("{}: write .npy, .png or .svg", args.out.display()),
    };
    for warning in &summary.warnings {
        eprintln!("warning: {}: {warning}", args.file.display());
    }
    eprintln!("wrote {} x {} {:?} to {}", summary.rows, summary.frames, args.kind, args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// Streams the frames into a `.npy` in Fortran order (frame after frame;
/// NumPy reads it as the same `[bins, frames]` array), written atomically
/// (`genreid_pipeline::write_atomic`).
fn write_npy(file: &Path, options: &SpectrogramOptions, path: &Path) -> Result<SpectrogramSummary> {
    let mut summary = None;
    let mut failure = None;
    let written = genreid_pipeline::write_atomic(path, |sink| {
        let mut sink = Some(sink);
        let mut writer = None;
        let run = spectrogram_frames(file, options, |m| {
            let w = match &mut writer {
                Some(w) => w,
                None => writer.insert(
                    npyz::WriteOptions::<f32>::new()
                        .default_dtype()
                        .order(npyz::Order::Fortran)
                        .writer(sink.take().expect("the writer is made once"))
                        .begin_2d(m.rows as u64)
                        .map_err(|e| PipelineError::Output(e.to_string()))?,
                ),
            };
            for t in 0..m.cols {
                for r in 0..m.rows {
                    w.push(&m.get(r, t)).map_err(|e| PipelineError::Output(e.to_string()))?;
                }
            }
            Ok(())
        });
        match run {
            Ok(s) => summary = Some(s),
            Err(e) => {
                failure = Some(e);
                return Err(std::io::Error::other("the spectrogram failed"));
            }
        }
        writer.map_or(Ok(()), |w| w.finish())
    });
    if let Some(e) = failure {
        return Err(e.into());
    }
    written.with_context(|| format!("{}: cannot write", path.display()))?;
    summary.context("no frames")
}
