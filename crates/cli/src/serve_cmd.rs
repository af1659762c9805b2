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
    /// Longest a request may take, in seconds, upload included (its work is
    /// then cancelled); at least 1.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Longest audio classified per upload, in seconds (longer audio is cut,
    /// and the answer says where).
    #[arg(long, default_value_t = 1200.0)]
    max_audio_seconds: f64,
    /// Seconds a client has to send its request headers; at least 1.
    #[arg(long, default_value_t = 15)]
    header_timeout: u64,
    /// Connections allowed to wait for their headers at once (more are closed).
    #[arg(long, default_value_t = 256)]
    max_pending_connections: usize,
    /// Uploads received at once, from all clients (more get 503); each holds
    /// at most 2 MiB of memory, the rest is spooled to a temporary file.
    #[arg(long, default_value_t = 64)]
    max_uploads: usize,
    /// Uploads received at once from one client address (more get 429).
    /// Behind a reverse proxy every client has the proxy's address: raise
    /// it to --max-uploads there.
    #[arg(long, default_value_t = 16)]
    max_uploads_per_client: usize,
    /// The slowest upload accepted, in KiB/s averaged from the start of the
    /// request (slower ones get 408); 0 accepts any rate.
    #[arg(long, default_value_t = 8)]
    min_upload_kib_per_second: u64,
    /// Seconds an upload may take before its rate is checked.
    #[arg(long, default_value_t = 10)]
    upload_grace: u64,
    /// A similarity library (`genreid embed --out`): uploads are also
    /// answered with the tracks that sound most like them (`/api/similar`,
    /// "sounds like" on the page).
    #[arg(long, value_name = "LIBRARY")]
    index: Option<std::path::PathBuf>,
}

/// Runs the service until Ctrl-C.
pub fn run(args: Args) -> Result<ExitCode> {
    let defaults = Config::default();
    let config = Config {
        max_upload_bytes: args.max_upload_mb.checked_mul(1 << 20).context("--max-upload-mb is too large")?,
        workers: args.workers.unwrap_or(defaults.workers),
        queue: args.queue.unwrap_or(defaults.queue),
        timeout: Duration::from_secs(args.timeout),
        max_audio_seconds: args.max_audio_seconds,
        header_timeout: Duration::from_secs(args.header_timeout),
        max_pending_connections: args.max_pending_connections,
        max_uploads: args.max_uploads,
        max_uploads_per_client: args.max_uploads_per_client,
        min_upload_rate: args.min_upload_kib_per_second.saturating_mul(1024),
        upload_grace: Duration::from_secs(args.upload_grace),
    };
    // Each limit names its option: `--timeout 0` is refused, not "no limit".
    config.validate().map_err(anyhow::Error::msg)?;
    let name = args.model.clone().unwrap_or_else(|| DEFAULT_MODEL.to_string());
    let model = load_model(Some(&name))?;
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
