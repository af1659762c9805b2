//! The HTTP API over real TCP: answers, limits and errors, stats, metrics
//! and the server-sent event stream.

mod common;

use std::time::Duration;

use common::{read, start};
use futures_util::StreamExt;
use genreid_server::Config;

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap()
}

/// Reads a server-sent event stream until `needle` appears (10 s per chunk at most).
async fn read_events_until(
    events: &mut (impl futures_util::Stream<Item = reqwest::Result<axum::body::Bytes>> + Unpin),
    needle: &str,
) -> String {
    let mut seen = String::new();
    while !seen.contains(needle) {
        let chunk =
            tokio::time::timeout(Duration::from_secs(10), events.next()).await.unwrap().unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classify_answers_and_feeds_stats_metrics_and_events() {
    let addr = start("musicnn-gtzan", Config::default()).await;
    let base = format!("http://{addr}");
    let http = client();

    // Listen to the live stream before uploading.
    let mut events = http.get(format!("{base}/api/events")).send().await.unwrap().bytes_stream();

    let metal = read("metal_muldjord_chaos_god.wav");
    let answer: serde_json::Value = http
        .post(format!("{base}/api/classify?segments=true&spectrogram=true&name=metal.wav"))
        .body(metal.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["genre"], "metal", "{answer}");
    assert_eq!(answer["name"], "metal.wav");
    assert_eq!(answer["model"]["name"], "musicnn-gtzan");
    assert_eq!(answer["segments"].as_array().unwrap().len(), 10, "ten 3-s patches in 30 s");
    assert_eq!(answer["spectrogram"]["bands"], 64);
    assert!(answer["tags"]["metal"].as_f64().unwrap() > 0.5);
    let sum: f64 = answer["probabilities"].as_object().unwrap().values().map(|v| v.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-6);
    assert!(answer["timing_ms"]["total"].as_f64().unwrap() > 0.0);

    // Multipart, as a browser form sends it: the same verdict.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(metal).file_name("chaos god.wav"));
    let response = http.post(format!("{base}/api/classify")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["genre"], "metal");
    assert_eq!(answer["name"], "chaos god.wav");
    assert!(answer.get("segments").is_none());

    // The event stream saw a verdict.
    let seen = read_events_until(&mut events, "event: verdict").await;
    assert!(seen.contains("\"genre\":\"metal\""), "{seen}");

    let stats: serde_json::Value =
        http.get(format!("{base}/api/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["total"], 2);
    assert_eq!(stats["by_genre"]["metal"], 2);
    assert_eq!(stats["recent"].as_array().unwrap().len(), 2);

    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("genreid_genre_total{genre=\"metal\"} 2"), "{metrics}");
    assert!(
        metrics.contains("genreid_requests_total{route=\"/api/classify\",status=\"200\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("genreid_classify_seconds_count 2"), "{metrics}");

    let health: serde_json::Value =
        http.get(format!("{base}/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let models: serde_json::Value =
        http.get(format!("{base}/api/models")).send().await.unwrap().json().await.unwrap();
    assert_eq!(models["loaded"]["labels"].as_array().unwrap().len(), 10);
    assert!(models["builtin"].as_array().unwrap().len() >= 6);

    let page = http.get(&base).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<script src=\"/app.js\">"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_get_clear_http_errors() {
    let config = Config { max_upload_bytes: 1 << 20, ..Config::default() };
    let addr = start("musicnn-gtzan", config).await;
    let url = format!("http://{addr}/api/classify");
    let http = client();
    let mut events = http.get(format!("http://{addr}/api/events")).send().await.unwrap().bytes_stream();
    let status_and_error = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        (status, body["error"].as_str().unwrap_or_default().to_string())
    };

    let (status, error) =
        status_and_error(http.post(&url).body(vec![7u8; 3 << 20]).send().await.unwrap()).await;
    assert_eq!(status, 413, "{error}");
    let (status, error) = status_and_error(http.post(&url).body("no audio here").send().await.unwrap()).await;
    assert_eq!(status, 415, "{error}");
    assert!(error.contains("not a supported audio file"), "{error}");
    let (status, error) =
        status_and_error(http.post(&url).body(Vec::<u8>::new()).send().await.unwrap()).await;
    assert_eq!(status, 400, "{error}");
    // A WAV whose header claims zero channels: damaged, not foreign.
    let mut broken = read("metal_muldjord_chaos_god.wav");
    broken.truncate(200_000);
    broken[22] = 0;
    broken[23] = 0;
    let (status, error) =
        status_and_error(http.post(format!("{url}?name=broken.wav")).body(broken).send().await.unwrap())
            .await;
    assert_eq!(status, 422, "{error}");
    assert!(error.contains("broken.wav"), "the error names the upload: {error}");
    // A FLAC cut after its header: no audio.
    let mut cut = read("rock_sectoid_escape_from_chaosland_stereo44k.flac");
    cut.truncate(300);
    let (status, error) = status_and_error(http.post(&url).body(cut).send().await.unwrap()).await;
    assert_eq!(status, 422, "{error}");

    // The live stream tells the dashboard about refusals too.
    let seen = read_events_until(&mut events, "\"kind\":\"corrupt\"").await;
    assert!(seen.contains("event: refused") && seen.contains("\"kind\":\"too_large\""), "{seen}");

    let metrics = http.get(format!("http://{addr}/metrics")).send().await.unwrap().text().await.unwrap();
    for kind in ["too_large", "unsupported", "malformed", "corrupt"] {
        assert!(metrics.contains(&format!("genreid_errors_total{{kind=\"{kind}\"}}")), "{kind}: {metrics}");
    }
}

/// A body that sends one chunk, then stalls for `stall`.
fn slow_body(stall: Duration) -> reqwest::Body {
    let chunks = futures_util::stream::iter([0u8, 1]).then(move |i| async move {
        if i == 1 {
            tokio::time::sleep(stall).await;
        }
        Ok::<_, std::io::Error>(vec![0u8; 1024])
    });
    reqwest::Body::wrap_stream(chunks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upload_times_out_without_holding_the_worker() {
    // The deadline covers upload and inference alike; the stall (10 s)
    // outlasts it, and the grace before the rate check (10 s) too.
    let config = Config { workers: 1, queue: 0, timeout: Duration::from_secs(4), ..Config::default() };
    let addr = start("musicnn-gtzan", config).await;
    let url = format!("http://{addr}/api/classify");
    let http = client();
    let stalled = tokio::spawn({
        let (http, url) = (http.clone(), url.clone());
        async move { http.post(&url).body(slow_body(Duration::from_secs(10))).send().await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The only worker is free for others while the stalled upload arrives.
    let clip = read("rock_sectoid_escape_from_chaosland_stereo44k_5s.wav");
    let beside = http.post(&url).body(clip.clone()).send().await.unwrap();
    assert_eq!(beside.status(), 200);
    let stalled = stalled.await.unwrap();
    assert_eq!(stalled.status(), 408, "the stalled upload times out after 4 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_says_503_with_retry_after() {
    // One worker and no queue: of uploads received together, one runs and
    // the others are refused at once.
    let config = Config { workers: 1, queue: 0, ..Config::default() };
    let addr = start("musicnn-gtzan", config).await;
    let url = format!("http://{addr}/api/classify");
    let http = client();
    let clip = read("metal_muldjord_chaos_god.wav");
    let answers: Vec<_> = (0..4)
        .map(|_| {
            let (http, url, clip) = (http.clone(), url.clone(), clip.clone());
            tokio::spawn(async move { http.post(&url).body(clip).send().await.unwrap() })
        })
        .collect();
    let mut statuses = Vec::new();
    for answer in answers {
        let answer = answer.await.unwrap();
        if answer.status() == 503 {
            assert_eq!(answer.headers()["retry-after"], "1");
        }
        statuses.push(answer.status().as_u16());
    }
    assert!(statuses.contains(&200) && statuses.contains(&503), "{statuses:?}");
    // Free again: a normal upload is answered.
    let again = http.post(&url).body(clip).send().await.unwrap();
    assert_eq!(again.status(), 200);
}
