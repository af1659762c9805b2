//! The service under hostile input: crafted uploads, work that outlives its
//! request, slow and idle connections. After each, a valid upload is served.

mod common;

use std::time::{Duration, Instant};

use common::{read, start};
use genreid_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap()
}

/// A 44-byte WAV header around 16-bit mono `samples`.
fn wav(rate: u32, samples: &[i16]) -> Vec<u8> {
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut h = b"RIFF".to_vec();
    h.extend((36 + data.len() as u32).to_le_bytes());
    h.extend(b"WAVEfmt ");
    h.extend(16u32.to_le_bytes());
    for v in [1u16, 1] {
        h.extend(v.to_le_bytes());
    }
    h.extend(rate.to_le_bytes());
    h.extend((rate.wrapping_mul(2)).to_le_bytes());
    for v in [2u16, 16] {
        h.extend(v.to_le_bytes());
    }
    h.extend(b"data");
    h.extend((data.len() as u32).to_le_bytes());
    h.extend(data);
    h
}

/// `seconds` of a loud, changing signal at `rate` Hz (music-like enough to
/// be classified, and not silence).
fn noise(rate: u32, seconds: f64) -> Vec<i16> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..(seconds * f64::from(rate)) as usize)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let tone = (i as f64 * 0.031).sin() * 6000.0;
            (tone + (state % 8000) as f64 - 4000.0) as i16
        })
        .collect()
}

async fn health(base: &str) -> serde_json::Value {
    client().get(format!("{base}/health")).send().await.unwrap().json().await.unwrap()
}

/// An hour at 16 kHz (115 MB; no resampling, so decoding is quick):
/// 1,200 patches, at least 14 s of work on two free cores, far past the
/// tests' deadlines.
fn hour_upload() -> Vec<u8> {
    wav(16_000, &noise(16_000, 3600.0))
}

/// A service for [`hour_upload`]: one worker, an hour of audio, 256 MB uploads.
fn hour_config(timeout: Duration) -> Config {
    Config {
        workers: 1,
        timeout,
        max_audio_seconds: 3600.0,
        max_upload_bytes: 256 << 20,
        ..Config::default()
    }
}

/// Waits (10 s at most) until no work runs, and checks that it stopped by
/// cancellation, not by finishing.
async fn wait_until_cancelled(base: &str, after_what: &str) {
    let after = Instant::now();
    loop {
        let h = health(base).await;
        if h["running"] == 0 && h["in_flight"] == 0 {
            assert_eq!(h["cancelled"], 1, "the job stopped by cancellation, not by finishing: {h}");
            return;
        }
        assert!(
            after.elapsed() < Duration::from_secs(10),
            "work still running {:?} after {after_what}: {h}",
            after.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn classify(base: &str, body: Vec<u8>, name: &str) -> (u16, serde_json::Value) {
    let answer = client().post(format!("{base}/api/classify?name={name}")).body(body).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap())
}

/// The report's reproductions: 5 s of real audio behind headers claiming
/// absurd rates. Each is refused at once, and the valid upload right after
/// them gets its verdict in ordinary time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crafted_rates_are_refused_and_the_next_upload_is_served() {
    let addr = start("musicnn-gtzan", Config::default()).await;
    let base = format!("http://{addr}");
    let speech = read("speech_espeak_en.wav");
    let samples: Vec<i16> = speech[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .cycle()
        .take(5 * 22_050)
        .collect();
    for rate in [u32::MAX, 1 << 31, 8, 100, 1] {
        let started = Instant::now();
        let (status, body) = classify(&base, wav(rate, &samples), &format!("rate{rate}.wav")).await;
        assert_eq!(status, 422, "{rate} Hz: {body}");
        assert!(body["error"].as_str().unwrap().contains("sample rate"), "{body}");
        assert!(started.elapsed() < Duration::from_secs(5), "{rate} Hz took {:?}", started.elapsed());
    }
    let h = health(&base).await;
    assert_eq!((h["in_flight"].as_i64(), h["running"].as_i64()), (Some(0), Some(0)), "{h}");
    let started = Instant::now();
    let (status, body) = classify(&base, read("metal_muldjord_chaos_god.wav"), "metal.wav").await;
    assert_eq!((status, body["genre"].as_str()), (200, Some("metal")), "{body}");
    assert!(started.elapsed() < Duration::from_secs(20), "valid upload took {:?}", started.elapsed());
    assert_eq!(body["warnings"], serde_json::json!([]), "{body}");

    // Silence and a single sample: answered, with the doubt said.
    let (status, body) = classify(&base, wav(22_050, &vec![0; 22_050 * 30]), "silence.wav").await;
    assert_eq!(status, 200);
    assert_eq!(body["warnings"][0]["code"], "silence", "{body}");
    let (_, body) = classify(&base, wav(22_050, &[4000]), "one.wav").await;
    assert_eq!(body["warnings"][0]["code"], "too_short", "{body}");
    assert!(body["duration_seconds"].as_f64().unwrap() < 0.001, "{body}");
}

/// Longer audio than the service decodes is cut, and the answer says where.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_past_the_limit_is_cut_and_the_answer_says_so() {
    let config = Config { max_audio_seconds: 20.0, ..Config::default() };
    let addr = start("gtzan57-logreg", config).await;
    let (status, body) =
        classify(&format!("http://{addr}"), wav(22_050, &noise(22_050, 26.0)), "long.wav").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["truncated_at_seconds"], 20.0, "{body}");
    assert_eq!(body["duration_seconds"], 20.0, "{body}");
    assert_eq!(body["warnings"][0]["code"], "cut", "{body}");
}

/// Work whose request timed out is cancelled: the worker is free again
/// within a step, `/health` counts the work until it has stopped, and the
/// next upload is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_past_its_deadline_is_cancelled_and_frees_its_worker() {
    let addr = start("musicnn-gtzan", hour_config(Duration::from_secs(4))).await;
    let base = format!("http://{addr}");
    let (status, body) = classify(&base, hour_upload(), "hour.wav").await;
    // 504 while classifying (408 if a loaded machine was still receiving it).
    assert!(matches!(status, 504 | 408), "{status}: {body}");
    wait_until_cancelled(&base, "its 504").await;
    let clip = read("rock_sectoid_escape_from_chaosland_stereo44k_5s.wav");
    let (status, body) = classify(&base, clip, "rock.wav").await;
    assert_eq!(status, 200, "{body}");
}

/// Work whose client hung up is cancelled too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_whose_client_left_is_cancelled() {
    let addr = start("musicnn-gtzan", hour_config(Duration::from_secs(120))).await;
    let base = format!("http://{addr}");
    let impatient = reqwest::Client::builder().timeout(Duration::from_secs(4)).build().unwrap();
    let gone = impatient.post(format!("{base}/api/classify?name=hour.wav")).body(hour_upload()).send().await;
    assert!(gone.is_err_and(|e| e.is_timeout()), "the client was meant to give up first");
    wait_until_cancelled(&base, "the client left").await;
}

/// Reads until the server closes the connection; `None` if it is still
/// open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        let left = limit.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// Headers sent a byte at a time are cut off at the header timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off() {
    let config = Config { header_timeout: Duration::from_secs(1), ..Config::default() };
    let addr = start("gtzan57-logreg", config).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /api/classify HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();
    let mut closed = false;
    for _ in 0..40 {
        if slow.write_all(b"a").await.is_err() {
            closed = true;
            break;
        }
        if closed_within(&mut slow, Duration::from_millis(250)).await.is_some() {
            closed = true;
            break;
        }
    }
    assert!(closed, "slow headers still open after {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(4), "closed only after {:?}", started.elapsed());
    let (status, _) =
        classify(&format!("http://{addr}"), read("metal_muldjord_chaos_god.wav"), "m.wav").await;
    assert_eq!(status, 200);
}

/// Many connections that never send a byte: beyond the cap they are closed
/// at once, the rest at the header timeout; then uploads are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_capped_and_timed_out() {
    let config =
        Config { header_timeout: Duration::from_secs(1), max_pending_connections: 16, ..Config::default() };
    let addr = start("gtzan57-logreg", config).await;
    let base = format!("http://{addr}");
    let mut idle = Vec::new();
    for _ in 0..64 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    let started = Instant::now();
    for (i, stream) in idle.iter_mut().enumerate() {
        let left = Duration::from_secs(4).saturating_sub(started.elapsed());
        assert!(
            closed_within(stream, left).await.is_some(),
            "idle connection {i} still open after {:?}",
            started.elapsed()
        );
    }
    let metrics = client().get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("genreid_refused_connections_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(refused >= 64 - 16, "{refused} refused of 64 idle connections with room for 16");
    let (status, _) = classify(&base, read("metal_muldjord_chaos_god.wav"), "m.wav").await;
    assert_eq!(status, 200);
}

/// Unknown routes and wrong methods answer with the API's JSON error body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_and_wrong_method_answer_json() {
    let addr = start("gtzan57-logreg", Config::default()).await;
    let base = format!("http://{addr}");
    let answer = client().get(format!("{base}/no/such/page")).send().await.unwrap();
    assert_eq!(answer.status(), 404);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["status"], 404);
    assert!(body["error"].as_str().unwrap().contains("/no/such/page"), "{body}");
    let answer = client().get(format!("{base}/api/classify")).send().await.unwrap();
    assert_eq!(answer.status(), 405);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["status"], 405, "{body}");
}

/// A client at `from` (a loopback address) that declares an 880-KB WAV and
/// sends it at 2 KB/s, as the report's slow uploader; answers the status
/// line it gets, or "" when the connection ends without one.
async fn trickle(addr: std::net::SocketAddr, from: std::net::IpAddr) -> String {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::new(from, 0)).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let head = "POST /api/classify?name=slow.wav HTTP/1.1\r\nHost: x\r\nContent-Length: 880000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sending = async move {
        let chunk = [0u8; 2000];
        for _ in 0..60 {
            if writer.write_all(&chunk).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        std::future::pending::<()>().await;
    };
    let mut answer = Vec::new();
    let reading = async {
        let mut buf = [0u8; 1024];
        while let Ok(n @ 1..) = reader.read(&mut buf).await {
            answer.extend_from_slice(&buf[..n]);
            if answer.windows(2).any(|w| w == b"\r\n") {
                break;
            }
        }
    };
    tokio::select! {
        () = sending => {}
        () = reading => {}
    }
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string()
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
        .parse()
        .unwrap()
}

/// The report's reproduction: twenty clients trickle uploads at 2 KB/s (from
/// twenty addresses), and a valid upload beside them is answered in its
/// normal time, because an upload takes a worker only once it is whole.
/// The trickling ones are cut off with 408 after the grace period, and
/// `/metrics` counts them while they arrive and once they are cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_trickling_uploads_do_not_delay_a_valid_one() {
    let config = Config { workers: 1, upload_grace: Duration::from_secs(8), ..Config::default() };
    let addr = start("gtzan57-logreg", config).await;
    let base = format!("http://{addr}");
    let started = Instant::now();
    let slow: Vec<_> =
        (0..20u8).map(|i| tokio::spawn(trickle(addr, std::net::IpAddr::from([127, 0, 0, 2 + i])))).collect();
    loop {
        let text = client().get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
        if metric(&text, "genreid_uploads_receiving") >= 20.0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the trickling uploads did not all start:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let asked = Instant::now();
    let (status, body) = classify(&base, read("metal_muldjord_chaos_god.wav"), "metal.wav").await;
    assert_eq!(status, 200, "{body}");
    assert!(asked.elapsed() < Duration::from_secs(10), "valid upload took {:?}", asked.elapsed());
    assert!(started.elapsed() < Duration::from_secs(8), "answered only after the slow uploads were cut");
    for client in slow {
        let status = client.await.unwrap();
        assert!(status.contains(" 408 "), "a trickling upload got {status:?}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "slow uploads cut only after {:?}",
        started.elapsed()
    );
    let text = client().get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert_eq!(metric(&text, "genreid_slow_uploads_total"), 20.0, "{text}");
    assert_eq!(metric(&text, "genreid_uploads_receiving"), 0.0, "{text}");
}

/// One address may not take every upload place: past its share it gets
/// 429 at once, while another address is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_gets_only_its_share_of_upload_places() {
    let config = Config { max_uploads_per_client: 2, ..Config::default() };
    let addr = start("gtzan57-logreg", config).await;
    let local = std::net::IpAddr::from([127, 0, 0, 1]);
    let held: Vec<_> = (0..2).map(|_| tokio::spawn(trickle(addr, local))).collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let third = trickle(addr, local).await;
    assert!(third.contains(" 429 "), "the third upload from one address got {third:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "refused only after {:?}", started.elapsed());
    let other =
        reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 9])).build().unwrap();
    let answer = other
        .post(format!("http://{addr}/api/classify?name=m.wav"))
        .body(read("metal_muldjord_chaos_god.wav"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    for client in held {
        client.abort();
    }
}

/// A malformed query string is a 400 with the API's JSON error body, and
/// the upload sent with it is read and dropped so the client gets the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_string_errors_answer_json() {
    let addr = start("gtzan57-logreg", Config::default()).await;
    for query in ["segments=maybe", "similar=-3", "spectrogram=2"] {
        let answer = client()
            .post(format!("http://{addr}/api/classify?{query}"))
            .body(read("metal_muldjord_chaos_god.wav"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{query}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["status"], 400, "{query}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{query}: {body}");
    }
}
