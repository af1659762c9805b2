//! Counters in Prometheus' text exposition format, written by hand: a few
//! counters and one histogram need no metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// Upper bounds (seconds) of the classification latency histogram.
const BUCKETS: [f64; 12] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    genres: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    in_flight: Arc<AtomicI64>,
    running: Arc<AtomicI64>,
    refused_connections: AtomicU64,
    cancelled: AtomicU64,
    receiving: Arc<AtomicI64>,
    slow_uploads: AtomicU64,
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
    *map.lock().unwrap_or_else(|p| p.into_inner()).entry(key.to_string()).or_default() += 1;
}

impl Metrics {
    pub(crate) fn genre(&self, genre: &str) {
        bump(&self.genres, genre);
    }

    pub(crate) fn error(&self, kind: &str) {
        bump(&self.errors, kind);
    }

    /// Records one classification's latency.
    pub(crate) fn latency(&self, seconds: f64) {
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Uploads being received, queued or classified now, counted until
    /// their work has really stopped (not merely until their answer left).
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Decoding and inference jobs running on the blocking pool now.
    pub fn running(&self) -> i64 {
        self.running.load(Ordering::Relaxed)
    }

    /// Connections closed on arrival because too many were waiting for headers.
    pub fn refused_connections(&self) -> u64 {
        self.refused_connections.load(Ordering::Relaxed)
    }

    /// Jobs stopped part-way because their request timed out or its client left.
    pub fn cancelled(&self) -> u64 {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Uploads being received now (not yet holding a worker or a queue place).
    pub fn receiving(&self) -> i64 {
        self.receiving.load(Ordering::Relaxed)
    }

    /// Uploads cut off because they arrived slower than the minimum rate.
    pub fn slow_uploads(&self) -> u64 {
        self.slow_uploads.load(Ordering::Relaxed)
    }

    pub(crate) fn slow_upload(&self) {
        self.slow_uploads.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one upload being received until the guard is dropped.
    pub(crate) fn receive(&self) -> Gauge {
        Gauge::enter(&self.receiving)
    }

    pub(crate) fn cancel(&self) {
        self.cancelled.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn refused_connection(&self) {
        self.refused_connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one upload in flight until the guard is dropped.
    pub(crate) fn enter(&self) -> Gauge {
        Gauge::enter(&self.in_flight)
    }

    /// Counts one running job until the guard is dropped.
    pub(crate) fn run(&self) -> Gauge {
        Gauge::enter(&self.running)
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP genreid_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE genreid_requests_total counter\n");
        for ((route, status), n) in self.requests.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "genreid_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
        out.push_str("# HELP genreid_classify_seconds Time from upload received to verdict.\n");
        out.push_str("# TYPE genreid_classify_seconds histogram\n");
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let n = bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "genreid_classify_seconds_bucket{{le=\"{bound}\"}} {n}");
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "genreid_classify_seconds_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "genreid_classify_seconds_sum {sum}");
        let _ = writeln!(out, "genreid_classify_seconds_count {count}");
        out.push_str("# HELP genreid_genre_total Verdicts by genre.\n# TYPE genreid_genre_total counter\n");
        for (genre, n) in self.genres.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "genreid_genre_total{{genre=\"{}\"}} {n}", escape(genre));
        }
        out.push_str("# HELP genreid_errors_total Refused or failed uploads by kind.\n");
        out.push_str("# TYPE genreid_errors_total counter\n");
        for (kind, n) in self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "genreid_errors_total{{kind=\"{kind}\"}} {n}");
        }
        out.push_str(
            "# HELP genreid_in_flight Uploads being classified now.\n# TYPE genreid_in_flight gauge\n",
        );
        let _ = writeln!(out, "genreid_in_flight {}", self.in_flight());
        out.push_str(
            "# HELP genreid_running Decoding and inference jobs running now.\n# TYPE genreid_running gauge\n",
        );
        let _ = writeln!(out, "genreid_running {}", self.running());
        out.push_str(
            "# HELP genreid_cancelled_total Jobs stopped part-way (request timed out or client left).\n",
        );
        out.push_str("# TYPE genreid_cancelled_total counter\n");
        let _ = writeln!(out, "genreid_cancelled_total {}", self.cancelled());
        out.push_str(
            "# HELP genreid_uploads_receiving Uploads being received now (before they take a worker).\n",
        );
        out.push_str("# TYPE genreid_uploads_receiving gauge\n");
        let _ = writeln!(out, "genreid_uploads_receiving {}", self.receiving());
        out.push_str(
            "# HELP genreid_slow_uploads_total Uploads cut off for arriving slower than the minimum rate.\n",
        );
        out.push_str("# TYPE genreid_slow_uploads_total counter\n");
        let _ = writeln!(out, "genreid_slow_uploads_total {}", self.slow_uploads());
        out.push_str("# HELP genreid_refused_connections_total Connections closed on arrival (too many waiting for headers).\n");
        out.push_str("# TYPE genreid_refused_connections_total counter\n");
        let _ = writeln!(out, "genreid_refused_connections_total {}", self.refused_connections());
        out
    }
}

/// Label values escaped as the exposition format requires.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// One unit of a gauge, given back when dropped; owned, so it can move
/// into the blocking job and count the work until the work ends.
pub(crate) struct Gauge(Arc<AtomicI64>);

impl Gauge {
    pub(crate) fn enter(gauge: &Arc<AtomicI64>) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        Self(gauge.clone())
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Middleware counting every request by matched route and status.
pub(crate) async fn count_requests(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    *state.metrics.requests.lock().unwrap_or_else(|p| p.into_inner()).entry((route, status)).or_default() +=
        1;
    response
}
