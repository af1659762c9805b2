//! The JSON API.
//!
//! `POST /api/classify` (and `POST /api/similar`, which adds `similar`) answers
//! `{name, model: {name, kind}, genre, vote, confidence, probabilities: {label: p},
//! tags: {tag: p}, segments?: [{start, end, genre, probabilities}],
//! spectrogram?: {bands, frames, seconds, data}, duration_seconds,
//! truncated_at_seconds?, warnings: [{code, message}],
//! timing_ms: {upload, queue, decode, inference, total}, similar?: [{rank, path,
//! similarity, genre, artist, album, title, tags}]}`, or an error
//! `{error, status}`: 400 malformed (body or query string), 404 no such
//! route, 405 wrong method, 408 upload too slow (below the minimum rate, or
//! not whole by the deadline), 409 no library loaded (`/api/similar`), 413
//! too large, 415 not a supported audio format, 422 corrupt audio, 429 this
//! client already sends its share of uploads, 503 busy (with
//! `Retry-After`), 504 classification too slow (its work is cancelled, and
//! the worker is free again), 507 the upload could not be spooled.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use genreid_audio::{AudioError, load_reader_checked};
use genreid_models::{BUILTIN_MODELS, Cancel, ModelError};
use genreid_pipeline::Model;
use genreid_pipeline::classify_and_embed_loaded;
use genreid_pipeline::similar::{Query as SimilarTo, neighbours_json};
use genreid_pipeline::verdict::{ClassifyOptions, classify_loaded, load_options};
use serde::Deserialize;
use serde_json::json;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::BroadcastStream;

use crate::admission::{ClientAddr, Refusal};
use crate::upload::{Pace, Received, UploadError, check_declared, discard_upload, receive_upload};
use crate::{AppState, Event, Live, spectrogram};

/// Query parameters of `POST /api/classify`.
#[derive(Debug, Default, Deserialize)]
pub struct ClassifyQuery {
    /// Include each 3-s patch's (or segment's) verdict.
    #[serde(default)]
    pub segments: bool,
    /// Include a small mel spectrogram for drawing.
    #[serde(default)]
    pub spectrogram: bool,
    /// The upload's name, for raw bodies.
    pub name: Option<String>,
    /// Also answer this many tracks of the library that sound most like
    /// the upload (`similar`; needs `serve --index`).
    pub similar: Option<usize>,
}

/// Query parameters of `POST /api/similar`: those of `/api/classify`, and `k`.
#[derive(Debug, Default, Deserialize)]
pub struct SimilarQuery {
    /// Neighbours to answer (default 10).
    pub k: Option<usize>,
    /// Include each 3-s patch's verdict.
    #[serde(default)]
    pub segments: bool,
    /// Include a small mel spectrogram for drawing.
    #[serde(default)]
    pub spectrogram: bool,
    /// The upload's name, for raw bodies.
    pub name: Option<String>,
}

/// Neighbours answered at most, whatever `k` asks.
const MAX_NEIGHBOURS: usize = 100;

/// An error answer: status and a JSON body naming the cause.
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), retry_after: None }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.message, "status": self.status.as_u16() }));
        let mut response = (self.status, body).into_response();
        // The upload may be left partly unread (refused before or while it
        // streamed in): the connection cannot carry another request, so say
        // so, or a pooling client sends its next one into a closed socket.
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn upload_error(e: UploadError) -> ApiError {
    let status = match e {
        UploadError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        UploadError::Empty | UploadError::Malformed(_) => StatusCode::BAD_REQUEST,
        UploadError::TooSlow { .. } => StatusCode::REQUEST_TIMEOUT,
        UploadError::Spool(_) => StatusCode::INSUFFICIENT_STORAGE,
    };
    ApiError::new(status, e.to_string())
}

fn model_kind(model: &Model) -> &'static str {
    match model {
        Model::Classical(_) => "classical",
        Model::Tagger(_) => "tagger",
        Model::Network(_) => "network",
        Model::Ensemble(_) => "ensemble",
    }
}

/// The request's query string, parsed; a malformed one is counted and is
/// a 400 with the JSON error body, after the upload sent with it is drained.
async fn parse_query<T: serde::de::DeserializeOwned>(
    state: &AppState,
    request: Request,
) -> Result<(T, Request), ApiError> {
    match Query::<T>::try_from_uri(request.uri()) {
        Ok(Query(query)) => Ok((query, request)),
        Err(rejection) => {
            state.record_error("malformed");
            drain(state, request).await;
            Err(ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text()))
        }
    }
}

/// Reads a refused request's upload and drops it (within the request
/// timeout), so its client receives the refusal rather than a broken pipe.
async fn drain(state: &AppState, request: Request) {
    let _ =
        tokio::time::timeout(state.config.timeout, discard_upload(request, state.config.max_upload_bytes))
            .await;
}

/// `POST /api/similar`: the verdict and the `k` most similar tracks of the
/// library (`similar: [{rank, path, similarity, genre, artist, album,
/// title, tags}]`); 409 when the service has no library.
pub async fn similar(
    State(state): State<Arc<AppState>>,
    request: Request,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (query, request) = parse_query::<SimilarQuery>(&state, request).await?;
    if state.library.is_none() {
        state.record_error("no_library");
        drain(&state, request).await;
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no library loaded: start the service with `genreid serve --index LIBRARY.parquet`",
        ));
    }
    let query = ClassifyQuery {
        segments: query.segments,
        spectrogram: query.spectrogram,
        name: query.name,
        similar: Some(query.k.unwrap_or(10)),
    };
    classify_parsed(state, query, request).await
}

/// `POST /api/classify`.
pub async fn classify(
    State(state): State<Arc<AppState>>,
    request: Request,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (query, request) = parse_query::<ClassifyQuery>(&state, request).await?;
    classify_parsed(state, query, request).await
}

/// `POST /api/classify` once its query string is read.
async fn classify_parsed(
    state: Arc<AppState>,
    query: ClassifyQuery,
    request: Request,
) -> Result<Json<serde_json::Value>, ApiError> {
    let start = Instant::now();
    let result = classify_upload(&state, query, request, start).await;
    if let Err(e) = &result {
        let kind = match e.status.as_u16() {
            408 | 504 => "timeout",
            429 => "client_busy",
            413 => "too_large",
            415 => "unsupported",
            422 => "corrupt",
            503 => "busy",
            400 => "malformed",
            _ => "internal",
        };
        state.record_error(kind);
    }
    result
}

async fn classify_upload(
    state: &Arc<AppState>,
    query: ClassifyQuery,
    request: Request,
    start: Instant,
) -> Result<Json<serde_json::Value>, ApiError> {
    check_declared(request.headers(), state.config.max_upload_bytes).map_err(upload_error)?;
    // Counted until the work stops, which may be after the answer left.
    let gauge = state.metrics.enter();
    let deadline = start + state.config.timeout;
    // The upload is received whole before it takes a place in the queue: a
    // slow client holds an upload place (bounded in number, per client and
    // in memory), never a worker.
    let client = request.extensions().get::<ClientAddr>().map(|c| c.0);
    let place = state.uploads.enter(client, state.metrics.receive()).map_err(|refusal| {
        let (status, message) = match refusal {
            Refusal::Full => {
                (StatusCode::SERVICE_UNAVAILABLE, "too many uploads arriving; retry shortly".into())
            }
            Refusal::ClientFull(cap) => (
                StatusCode::TOO_MANY_REQUESTS,
                format!("this client already sends {cap} uploads at once; wait for one to finish"),
            ),
        };
        let mut e = ApiError::new(status, message);
        e.retry_after = Some(1);
        e
    })?;
    let pace = Pace { min_rate: state.config.min_upload_rate, grace: state.config.upload_grace };
    let received = tokio::time::timeout_at(
        deadline.into(),
        receive_upload(request, state.config.max_upload_bytes, pace, query.name.clone()),
    )
    .await
    .map_err(|_| ApiError::new(StatusCode::REQUEST_TIMEOUT, "upload not received in time"))?
    .map_err(|e| {
        if matches!(e, UploadError::TooSlow { .. }) {
            state.metrics.slow_upload();
        }
        upload_error(e)
    })?;
    drop(place);
    let received_in = start.elapsed();
    // Admission: a bounded number of received uploads wait or run.
    let Ok(admitted) = state.admission.clone().try_acquire_owned() else {
        let mut e =
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "too many uploads in flight; retry shortly");
        e.retry_after = Some(1);
        return Err(e);
    };
    // Dropped with this future (a deadline, a client that hung up): the
    // job stops at its next step and gives its worker back.
    let cancel = Cancel::new();
    let _cancel_on_drop = cancel.on_drop();
    let worker = tokio::time::timeout_at(deadline.into(), state.workers.clone().acquire_owned())
        .await
        .map_err(|_| ApiError::new(StatusCode::GATEWAY_TIMEOUT, "no worker became free in time"))?
        .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting down"))?;
    let queued = start.elapsed() - received_in;
    let with_segments = query.segments;
    let with_picture = query.spectrogram;
    // Neighbours only where a library is loaded (the page asks whenever it is).
    let neighbours = query.similar.filter(|_| state.library.is_some()).map(|k| k.min(MAX_NEIGHBOURS));
    let job_state = state.clone();
    let Received { name, body } = received;
    let job = tokio::task::spawn_blocking(move || {
        let (_admitted, _worker, _gauge, _running) = (admitted, worker, gauge, job_state.metrics.run());
        let model = &job_state.model;
        let mut load = load_options(model);
        load.max_seconds = job_state.config.max_audio_seconds;
        let t0 = Instant::now();
        let reader = body
            .into_reader()
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{name}: {e}")))?;
        let loaded = load_reader_checked(&name, reader, &load).map_err(|e| {
            let status = match e {
                AudioError::Unsupported { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            ApiError::new(status, e.to_string())
        })?;
        let decoded = t0.elapsed();
        let options = ClassifyOptions {
            hop: job_state.hop,
            segments: with_segments,
            cancel,
            max_seconds: job_state.config.max_audio_seconds,
        };
        let failed = |e: ModelError| match e {
            ModelError::Cancelled => {
                job_state.metrics.cancel();
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, "cancelled")
            }
            e => {
                let message = e.to_string();
                let message = if message.starts_with(&name) { message } else { format!("{name}: {message}") };
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
            }
        };
        let (verdict, similar) = match (neighbours, &job_state.library) {
            (Some(k), Some(library)) => {
                let spec = library.embedding_spec();
                let (verdict, vector) =
                    classify_and_embed_loaded(model, &loaded, &name, &spec, &options).map_err(failed)?;
                library
                    .check_width(&name, &vector)
                    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
                let query = SimilarTo { name: name.clone(), row: None, vector };
                let found = library.similar(std::slice::from_ref(&query), k).pop().unwrap_or_default();
                (verdict, Some(neighbours_json(library, &found)))
            }
            _ => (classify_loaded(model, &loaded, &name, &options).map_err(failed)?, None),
        };
        let picture = with_picture.then(|| spectrogram::picture(&loaded.signal)).flatten();
        let inferred = t0.elapsed() - decoded;
        Ok::<_, ApiError>((verdict, similar, picture, decoded, inferred))
    });
    let (verdict, similar, picture, decoded, inferred) = tokio::time::timeout_at(deadline.into(), job)
        .await
        .map_err(|_| ApiError::new(StatusCode::GATEWAY_TIMEOUT, "classification did not finish in time"))?
        .map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("classification failed: {e}"))
        })??;

    let total = start.elapsed();
    state.metrics.latency(total.as_secs_f64());
    let confidence = verdict.confidence();
    state.record(Event {
        time_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        name: verdict.path.clone(),
        genre: verdict.genre.clone(),
        confidence,
    });
    let ms = |d: Duration| (d.as_secs_f64() * 1e3 * 10.0).round() / 10.0;
    let mut body = json!({
        "name": verdict.path,
        "model": { "name": state.model_name, "kind": model_kind(&state.model), "version": env!("CARGO_PKG_VERSION") },
        "genre": verdict.genre,
        "vote": verdict.vote,
        "confidence": confidence,
        "probabilities": verdict.probabilities,
        "tags": verdict.tags,
        "duration_seconds": verdict.duration_seconds,
        "warnings": verdict.warnings,
        "timing_ms": {
            "upload": ms(received_in),
            "queue": ms(queued),
            "decode": ms(decoded),
            "inference": ms(inferred),
            "total": ms(total),
        },
    });
    if let Some(at) = verdict.truncated_at_seconds {
        body["truncated_at_seconds"] = json!(at);
    }
    if let Some(segments) = verdict.segments {
        body["segments"] = json!(segments);
    }
    if let Some(picture) = picture {
        body["spectrogram"] = json!(picture);
    }
    if let Some(similar) = similar {
        body["similar"] = json!(similar);
    }
    Ok(Json(body))
}

/// `GET /api/models`: the loaded model and the built-in ones.
pub async fn models(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let builtin: Vec<_> =
        BUILTIN_MODELS.iter().map(|(name, about, _)| json!({ "name": name, "description": about })).collect();
    Json(json!({
        "loaded": {
            "name": state.model_name,
            "kind": model_kind(&state.model),
            "labels": state.model.labels(),
            "tags": state.model.tags(),
        },
        "library": state.library.as_ref().map(|l| json!({
            "tracks": l.len(),
            "embedding": l.embedding_spec().label(),
        })),
        "builtin": builtin,
    }))
}

/// `GET /api/stats`: totals, counts by genre, recent verdicts.
pub async fn stats(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let stats = state.stats.lock().unwrap_or_else(|p| p.into_inner());
    Json(json!({
        "total": stats.total,
        "errors": stats.errors,
        "by_genre": stats.by_genre,
        "recent": stats.recent,
        "labels": state.model.labels(),
        "uptime_seconds": state.started.elapsed().as_secs_f64(),
    }))
}

/// `GET /api/events`: a server-sent `verdict` event per classified upload
/// (`{time_ms, name, genre, confidence}`) and a `refused` event per refused
/// or failed one (`{kind}`).
pub async fn events(
    State(state): State<Arc<AppState>>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let stream = BroadcastStream::new(state.events.subscribe()).filter_map(|live| {
        // A slow client that fell behind skips what it missed.
        let event = match live.ok()? {
            Live::Verdict(event) => SseEvent::default().event("verdict").json_data(&event),
            Live::Refused(kind) => SseEvent::default().event("refused").json_data(json!({ "kind": kind })),
        };
        event.ok().map(Ok)
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `GET /health`: `in_flight` counts uploads until their work has stopped,
/// `running` the decoding and inference jobs on the blocking pool.
pub async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "model": state.model_name,
        "in_flight": state.metrics.in_flight(),
        "running": state.metrics.running(),
        "cancelled": state.metrics.cancelled(),
        "workers": state.config.workers.max(1),
        "uptime_seconds": state.started.elapsed().as_secs_f64(),
    }))
}

/// Any route that does not exist: 404 with the JSON error body.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no such route: {}", uri.path()))
}

/// A route asked with the wrong method: 405 with the JSON error body.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not allowed on {}", uri.path()))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}
