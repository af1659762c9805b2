//! genreid's HTTP service: a genre for every upload, a live dashboard of
//! what is being uploaded, Prometheus metrics and a web page.
//!
//! Routes ([`router`]):
//! - `POST /api/classify[?segments=true&spectrogram=true&name=NAME]`: audio as
//!   the request body or as a `multipart/form-data` field; answers the verdict
//!   as JSON ([`api`]);
//! - `POST /api/similar[?k=10&…]` (with `serve --index LIBRARY`): the same
//!   upload answered with its verdict and its `similar` tracks in the
//!   library, from one analysis; `/api/classify?similar=K` adds them too;
//! - `GET /api/models`, `GET /api/stats`, `GET /api/events` (server-sent
//!   events: `verdict` per classified upload, `refused` per refused one), `GET /health`,
//!   `GET /metrics` (Prometheus text format);
//! - `GET /`: the page (HTML, JS and CSS embedded in the binary).
//!
//! An upload is first received whole ([`Config::max_uploads`] at once, at
//! most [`Config::max_uploads_per_client`] from one address, each at no
//! less than [`Config::min_upload_rate`] after [`Config::upload_grace`];
//! each holds at most 2 MiB of memory, the rest spooled to a temporary
//! file), and only then takes a place in the queue: a slow client never
//! holds a worker. The model is loaded once and shared; decoding and
//! inference run on Tokio's blocking pool, at most `workers` at a time,
//! with at most `queue` more waiting: beyond that a request is refused at
//! once with 503 and `Retry-After`.
//!
//! One request cannot stop the service: work is cancelled between blocks
//! and patches when its request times out or its client leaves (the worker
//! is free again within a step), `/health` and `/metrics` count work until
//! it has really stopped, a client has [`Config::header_timeout`] to send
//! its request headers, and at most [`Config::max_pending_connections`]
//! connections may be waiting for theirs (more are closed at once).

mod admission;
pub mod api;
mod connections;
mod metrics;
mod page;
mod spectrogram;
mod upload;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use genreid_pipeline::Model;
use genreid_pipeline::similar::Library;
use tokio::sync::{Semaphore, broadcast};

pub use metrics::Metrics;

/// Settings of a running service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest accepted upload, in bytes (larger: 413).
    pub max_upload_bytes: usize,
    /// Uploads decoded and classified at once.
    pub workers: usize,
    /// Uploads allowed to wait for a worker (beyond: 503).
    pub queue: usize,
    /// Longest a request may take from its first byte to its answer.
    pub timeout: Duration,
    /// Longest audio decoded per upload, in seconds (longer audio is cut,
    /// and the answer says so in `truncated_at_seconds`).
    pub max_audio_seconds: f64,
    /// Longest a client may take to send a request's headers (an idle
    /// keep-alive connection is closed after this too).
    pub header_timeout: Duration,
    /// Connections allowed to be waiting for their request headers at once;
    /// more are closed as they arrive.
    pub max_pending_connections: usize,
    /// Uploads received at once, from all clients (more: 503).
    pub max_uploads: usize,
    /// Uploads received at once from one client address (more: 429).
    pub max_uploads_per_client: usize,
    /// The slowest upload accepted, in bytes per second averaged from the
    /// start of the request (slower: 408); 0 accepts any rate.
    pub min_upload_rate: u64,
    /// Time an upload may take before its rate is checked.
    pub upload_grace: Duration,
}

impl Config {
    /// Checks that every limit is usable: a zero timeout or a zero-sized
    /// limit would refuse everything (or, for timeouts, silently mean "no
    /// limit" in the HTTP stack), so it is an error naming the option.
    pub fn validate(&self) -> Result<(), String> {
        let zero = [
            ("timeout (--timeout)", self.timeout.is_zero()),
            ("header timeout (--header-timeout)", self.header_timeout.is_zero()),
            ("upload limit (--max-upload-mb)", self.max_upload_bytes == 0),
            ("workers (--workers)", self.workers == 0),
            ("uploads at once (--max-uploads)", self.max_uploads == 0),
            ("uploads per client (--max-uploads-per-client)", self.max_uploads_per_client == 0),
            (
                "connections waiting for headers (--max-pending-connections)",
                self.max_pending_connections == 0,
            ),
        ];
        if let Some((name, _)) = zero.iter().find(|(_, is_zero)| *is_zero) {
            return Err(format!("the {name} must be greater than zero"));
        }
        if !(self.max_audio_seconds.is_finite() && self.max_audio_seconds > 0.0) {
            return Err(format!(
                "the longest audio (--max-audio-seconds) must be a positive number, not {}",
                self.max_audio_seconds
            ));
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            max_upload_bytes: 64 << 20,
            workers: cores.div_ceil(2),
            queue: 4 * cores,
            timeout: Duration::from_secs(120),
            max_audio_seconds: 20.0 * 60.0,
            header_timeout: Duration::from_secs(15),
            max_pending_connections: 256,
            max_uploads: 64,
            max_uploads_per_client: 16,
            min_upload_rate: 8 << 10,
            upload_grace: Duration::from_secs(10),
        }
    }
}

/// One classified upload, as the dashboard sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The upload's name.
    pub name: String,
    /// The verdict.
    pub genre: String,
    /// Its probability.
    pub confidence: f64,
}

/// What the live stream carries.
#[derive(Debug, Clone)]
enum Live {
    /// An upload was classified (SSE event `verdict`).
    Verdict(Event),
    /// An upload was refused or failed (SSE event `refused`, data `{"kind": ...}`).
    Refused(&'static str),
}

/// Running totals for `/api/stats`.
#[derive(Debug, Default, serde::Serialize)]
pub struct Stats {
    /// Uploads classified.
    pub total: u64,
    /// Uploads refused or failed.
    pub errors: u64,
    /// Verdicts by genre.
    pub by_genre: std::collections::BTreeMap<String, u64>,
    /// The most recent verdicts, newest last.
    pub recent: std::collections::VecDeque<Event>,
}

/// Recent verdicts kept for the dashboard.
const RECENT: usize = 50;

/// Everything the handlers share.
pub struct AppState {
    /// The model, loaded once.
    pub model: Arc<Model>,
    /// Its name (built-in name or file path).
    pub model_name: String,
    /// The similarity library uploads are compared with (`serve --index`).
    pub library: Option<Arc<Library>>,
    /// Limits.
    pub config: Config,
    uploads: Arc<admission::UploadPlaces>,
    admission: Arc<Semaphore>,
    workers: Arc<Semaphore>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Frames between a tagger's 3-s patches (back to back, as musicnn).
    hop: usize,
    events: broadcast::Sender<Live>,
    stats: Mutex<Stats>,
    started: Instant,
}

impl AppState {
    /// A state serving `model` under `config`.
    pub fn new(model: Model, model_name: String, config: Config) -> Arc<Self> {
        Arc::new(Self::build(model, model_name, config, None))
    }

    /// A state serving `model` under `config` that also compares uploads
    /// with `library` (`model` must be a tagger, to embed them).
    pub fn with_library(
        model: Model,
        model_name: String,
        config: Config,
        library: Library,
    ) -> Result<Arc<Self>, String> {
        if !matches!(model, Model::Tagger(_)) {
            return Err(format!("--index needs a tagger model to embed uploads; {model_name} is not one"));
        }
        library.check_model(&model).map_err(|e| e.to_string())?;
        Ok(Arc::new(Self::build(model, model_name, config, Some(Arc::new(library)))))
    }

    fn build(model: Model, model_name: String, config: Config, library: Option<Arc<Library>>) -> Self {
        let (events, _) = broadcast::channel(256);
        Self {
            model: Arc::new(model),
            model_name,
            library,
            uploads: admission::UploadPlaces::new(config.max_uploads, config.max_uploads_per_client),
            admission: Arc::new(Semaphore::new(config.workers.max(1) + config.queue)),
            workers: Arc::new(Semaphore::new(config.workers.max(1))),
            config,
            metrics: Metrics::default(),
            hop: genreid_models::pretrained::patch_hop_frames(0.0).expect("zero overlap is valid"),
            events,
            stats: Mutex::new(Stats::default()),
            started: Instant::now(),
        }
    }

    fn record(&self, event: Event) {
        self.metrics.genre(&event.genre);
        {
            let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            stats.total += 1;
            *stats.by_genre.entry(event.genre.clone()).or_default() += 1;
            stats.recent.push_back(event.clone());
            while stats.recent.len() > RECENT {
                stats.recent.pop_front();
            }
        }
        // No subscriber is fine: nobody is watching the dashboard.
        let _ = self.events.send(Live::Verdict(event));
    }

    fn record_error(&self, kind: &'static str) {
        self.metrics.error(kind);
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).errors += 1;
        let _ = self.events.send(Live::Refused(kind));
    }
}

/// The service's routes over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/style.css", get(page::style))
        .route("/api/classify", post(api::classify))
        .route("/api/similar", post(api::similar))
        .route("/api/models", get(api::models))
        .route("/api/stats", get(api::stats))
        .route("/api/events", get(api::events))
        .route("/health", get(api::health))
        .route("/metrics", get(api::metrics))
        // JSON error bodies for unknown routes and wrong methods (set after
        // the routes: the method fallback applies to the routes it finds).
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        // Uploads are read with genreid's own limit (413 with a JSON reason).
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::count_requests))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then lets the
/// open connections finish (at most the request timeout).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    connections::accept(listener, state, shutdown).await
}

/// Binds `addr`, prints where it listens, and serves until Ctrl-C.
pub fn run(addr: SocketAddr, state: Arc<AppState>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        eprintln!("genreid serve: model {} on http://{local}/ (Ctrl-C stops)", state.model_name);
        serve(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_limits_are_refused_by_name() {
        assert!(Config::default().validate().is_ok());
        let zero_timeout = Config { timeout: Duration::ZERO, ..Config::default() };
        assert!(zero_timeout.validate().unwrap_err().contains("--timeout"));
        let zero_headers = Config { header_timeout: Duration::ZERO, ..Config::default() };
        assert!(zero_headers.validate().unwrap_err().contains("--header-timeout"));
        let endless = Config { max_audio_seconds: f64::INFINITY, ..Config::default() };
        assert!(endless.validate().unwrap_err().contains("--max-audio-seconds"));
    }
}
