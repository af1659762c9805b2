//! `genreid spectrogram`: one file's STFT, mel, MFCC or chroma as a NumPy
//! array or a picture.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use genreid_audio::{LoadOptions, load};
use genreid_features::{
    CqtConfig, DbConfig, DbRef, Matrix, MelConfig, MelFilterbank, Stft, StftConfig, amplitude_to_db,
    chroma_cqt, chroma_stft, cqt_magnitude, mfcc_from_db, power_to_db,
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
    /// Chroma from the CQT (`chroma_cqt`: 7 octaves, 36 bins per octave, estimated tuning).
    ChromaCqt,
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
    /// Convert stft/mel to dB relative to the maximum (`ref=np.max`, top_db 80).
    #[arg(long)]
    db: bool,
    /// Sample rate to analyse at (Hz).
    #[arg(long, default_value_t = 22_050)]
    sr: u32,
    /// Output: .npy (float32, librosa's [bins, frames] layout), .png or .svg.
    #[arg(long)]
    out: PathBuf,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let hop = args.hop.unwrap_or(args.n_fft / 4);
    let options = LoadOptions { sample_rate: Some(args.sr), ..Default::default() };
    let signal = load(&args.file, &options)?;
    let sr = f64::from(signal.sample_rate);
    let stft = Stft::new(StftConfig::new(args.n_fft, hop));
    let context = || format!("{}", args.file.display());
    let mel = |power: &Matrix| -> Result<Matrix> {
        Ok(MelFilterbank::new(&MelConfig::new(sr, args.n_fft, args.n_mels))?.apply(power)?)
    };
    let (matrix, y_label, unit) = match args.kind {
        Kind::Stft => {
            let mag = stft.spectrogram(&signal.samples, 1.0).with_context(context)?;
            if args.db {
                (amplitude_to_db(&mag, DbRef::Max, Some(80.0)), "Frequency bin", "dB")
            } else {
                (mag, "Frequency bin", "magnitude")
            }
        }
        Kind::Mel => {
            let m = mel(&stft.spectrogram(&signal.samples, 2.0).with_context(context)?)?;
            if args.db {
                (power_to_db(&m, &DbConfig::ref_max()), "Mel band", "dB")
            } else {
                (m, "Mel band", "power")
            }
        }
        Kind::Mfcc => {
            let m = mel(&stft.spectrogram(&signal.samples, 2.0).with_context(context)?)?;
            (mfcc_from_db(&power_to_db(&m, &DbConfig::default()), args.n_mfcc)?, "MFCC", "coefficient")
        }
        Kind::Chroma => {
            let power = stft.spectrogram(&signal.samples, 2.0).with_context(context)?;
            (chroma_stft(&power, sr, 12, None)?.0, "Pitch class (C at bottom)", "chroma")
        }
        Kind::Cqt => {
            let config = CqtConfig { hop_length: hop, ..CqtConfig::default() };
            let c = cqt_magnitude(&signal.samples, sr, &config).with_context(context)?;
            if args.db {
                (amplitude_to_db(&c, DbRef::Max, Some(80.0)), "CQT bin (C1 at bottom)", "dB")
            } else {
                (c, "CQT bin (C1 at bottom)", "magnitude")
            }
        }
        Kind::ChromaCqt => {
            (chroma_cqt(&signal.samples, sr).with_context(context)?, "Pitch class (C at bottom)", "chroma")
        }
    };
    let extension = args.out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match extension.as_str() {
        "npy" => write_npy(&args.out, &matrix)?,
        "png" | "svg" => {
            let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let map = genreid_plot::Heatmap {
                data: &matrix.data,
                rows: matrix.rows,
                cols: matrix.cols,
                seconds_per_col: hop as f64 / sr,
                title: format!(
                    "{name}: {}{}",
                    format!("{:?}", args.kind).to_lowercase(),
                    if args.db { " (dB)" } else { "" }
                ),
                y_label: y_label.into(),
                value_label: unit.into(),
            };
            genreid_plot::heatmap(&map, &args.out)?;
        }
        _ => bail!("{}: write .npy, .png or .svg", args.out.display()),
    }
    eprintln!("wrote {} x {} {:?} to {}", matrix.rows, matrix.cols, args.kind, args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn write_npy(path: &std::path::Path, m: &Matrix) -> Result<()> {
    let tmp = path.with_extension("npy.tmp");
    {
        let file = std::io::BufWriter::new(
            std::fs::File::create(&tmp).with_context(|| format!("{}: cannot write", tmp.display()))?,
        );
        let mut writer = npyz::WriteOptions::<f32>::new()
            .default_dtype()
            .shape(&[m.rows as u64, m.cols as u64])
            .writer(file)
            .begin_nd()?;
        writer.extend(m.data.iter().copied())?;
        writer.finish()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}
