//! `genreid export-torch`: an ImageNet network trained here, as a PyTorch
//! `state_dict` in safetensors with torchvision's keys.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use genreid_models::neural::{NetworkFile, export_torch};

/// Arguments of `genreid export-torch`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A network model file trained here (resnet18, mobilenet-v2, efficientnet-v2-s, vgg16, ...).
    #[arg(long)]
    pub model: PathBuf,
    /// Where to write the state_dict (.safetensors).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs the export.
pub fn run(args: Args) -> Result<ExitCode> {
    let file = NetworkFile::load(&args.model).with_context(|| format!("{}", args.model.display()))?;
    let n = export_torch(&file, &args.out).with_context(|| format!("{}", args.model.display()))?;
    eprintln!(
        "wrote {n} tensors to {} (labels, in output order: {})",
        args.out.display(),
        file.manifest.labels.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
