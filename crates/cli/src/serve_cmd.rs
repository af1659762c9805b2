//! `genreid serve`: the HTTP service and web page (see `genreid-server`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use genreid_pipeline::similar::Library;
use genreid_pipeline::{DEFAULT_MODEL, load_model};
use genreid_server::{AppState, Config};

/// Arguments of `genreid serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Built-in model name or model file (as for `classify`).
    #[arg(long)]
    model: Option<String>,
    /// Largest accepted upload in MB (larger: 413).
    #[arg(long, default_value_t = 64)]
    max_upload_mb: usize,
    /// Uploads classified at once (default: half the cores, at least 1).
    #[arg(long)]
    workers: Option<usize>,
    /// Uploads allowed to wait for a worker; more get 503 with Retry-After (default: 4 x cores).
    #[arg(long)]
    queue: Option<usize>,
    /// Longest a request may take, in seconds (its work is then cancelled).
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Longest audio classified per upload, in seconds (longer audio is cut,
    /// and the answer says where).
    #[arg(long, default_value_t = 1200.0)]
    max_audio_seconds: f64,
    /// Seconds a client has to send its request headers.
    #[arg(long, default_value_t = 15)]
    header_timeout: u64,
    /// Connections allowed to wait for their headers at once (more are closed).
    #[arg(long, default_value_t = 256)]
    max_pending_connections: usize,
    /// A similarity library (`genreid embed --out`): uploads are also
    /// answered with the tracks that sound most like them (`/api/similar`,
    /// "sounds like" on the page).
    #[arg(long, value_name = "LIBRARY")]
    index: Option<std::path::PathBuf>,
}

/// Runs the service until Ctrl-C.
pub fn run(args: Args) -> Result<ExitCode> {
    let name = args.model.clone().unwrap_or_else(|| DEFAULT_MODEL.to_string());
    let model = load_model(Some(&name))?;
    let defaults = Config::default();
    let config = Config {
        max_upload_bytes: args.max_upload_mb.max(1) << 20,
        workers: args.workers.unwrap_or(defaults.workers).max(1),
        queue: args.queue.unwrap_or(defaults.queue),
        timeout: Duration::from_secs(args.timeout.max(1)),
        max_audio_seconds: args.max_audio_seconds,
        header_timeout: Duration::from_secs(args.header_timeout.max(1)),
        max_pending_connections: args.max_pending_connections.max(1),
    };
    if !(args.max_audio_seconds.is_finite() && args.max_audio_seconds > 0.0) {
        anyhow::bail!("--max-audio-seconds must be a positive number, not {}", args.max_audio_seconds);
    }
    let state = match &args.index {
        Some(path) => {
            let library = Library::open(path)?;
            eprintln!("library: {} tracks from {}", library.len(), path.display());
            AppState::with_library(model, name, config, library).map_err(anyhow::Error::msg)?
        }
        None => AppState::new(model, name, config),
    };
    genreid_server::run(args.addr, state).with_context(|| format!("cannot serve on {}", args.addr))?;
    Ok(ExitCode::SUCCESS)
}
