//! `genreid import-musicnn`: converts the TensorFlow checkpoints of an
//! unpacked `musicnn` 0.1.0 wheel into genreid model files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use genreid_models::pretrained::convert::{WHEEL_MODELS, convert_wheel_model};

/// Arguments of `genreid import-musicnn`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The unpacked wheel (the folder holding `musicnn/` and `musicnn-0.1.0.dist-info/`).
    wheel_root: PathBuf,
    /// Folder for the model files (`msd-musicnn.genreid`, ...).
    #[arg(long, default_value = "models")]
    out_dir: PathBuf,
}

/// File name of a converted wheel model (`MSD_musicnn` → `msd-musicnn.genreid`).
pub fn model_file_name(name: &str) -> String {
    format!("{}.genreid", name.to_lowercase().replace('_', "-"))
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.out_dir).with_context(|| args.out_dir.display().to_string())?;
    for (name, _, _) in WHEEL_MODELS {
        let file = convert_wheel_model(&args.wheel_root, name)?;
        let path = args.out_dir.join(model_file_name(name));
        file.save(&path)?;
        let params: usize = file.weights.values().map(|w| w.values.len()).sum();
        eprintln!("{name}: {} tensors, {params} parameters -> {}", file.weights.len(), path.display());
    }
    Ok(ExitCode::SUCCESS)
}
