//! `genreid serve` as users run it: the real binary on a loopback port,
//! under a bounded load test, and driven by headless Chromium.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use genreid_testkit::fixture_audio;

/// A `genreid serve` process on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_genreid"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        // The address is on the line naming the page (a library line may come first).
        let mut line = String::new();
        for _ in 0..10 {
            line.clear();
            if stderr.read_line(&mut line).unwrap() == 0 || line.contains("http://") {
                break;
            }
        }
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in the server's first line: {line:?}"));
        // Keep draining stderr so the server never blocks on it.
        std::thread::spawn(move || for _ in stderr.lines() {});
        Self { child, addr }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Peak resident memory of the server process, in MiB.
    fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kib / 1024.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = fixture_audio(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The load test: 60 concurrent uploads on loopback (40 real clips,
/// raw and multipart; 10 that are not audio; 10 over the size limit). Every
/// answer must be right, nothing may crash, and the server's peak memory
/// must stay bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_test_of_concurrent_good_malformed_and_oversized_uploads() {
    // One test client stands for 60 users: its address may send them all.
    let server = Server::start(&[
        "--workers",
        "2",
        "--queue",
        "64",
        "--max-upload-mb",
        "4",
        "--max-uploads-per-client",
        "64",
    ]);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(300)).build().unwrap();
    let clip = fixture_bytes("rock_sectoid_escape_from_chaosland_stereo44k_5s.wav");
    let expected: serde_json::Value =
        http.post(server.url("/api/classify")).body(clip.clone()).send().await.unwrap().json().await.unwrap();
    let expected_genre = expected["genre"].as_str().unwrap().to_string();
    let idle_rss = server.peak_rss_mib();

    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..60usize {
        let (http, url, clip) = (http.clone(), server.url("/api/classify"), clip.clone());
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let request =
                match i % 6 {
                    // Not audio.
                    4 => http
                        .post(&url)
                        .body((0..200_000u32).map(|x| (x * 7919 % 251) as u8).collect::<Vec<_>>()),
                    // Over the 4 MB limit.
                    5 => http.post(&url).body(vec![0u8; 5 << 20]),
                    1 => http.post(&url).multipart(reqwest::multipart::Form::new().part(
                        "file",
                        reqwest::multipart::Part::bytes(clip).file_name(format!("clip{i}.wav")),
                    )),
                    _ => http.post(format!("{url}?name=clip{i}.wav")).body(clip),
                };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            (i, status, body, t0.elapsed())
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        let (i, status, body, latency) = task.await.unwrap();
        match i % 6 {
            4 => assert_eq!(status, 415, "upload {i}: {body}"),
            5 => assert_eq!(status, 413, "upload {i}: {body}"),
            _ => {
                assert_eq!(status, 200, "upload {i}: {body}");
                assert_eq!(body["genre"], expected_genre.as_str(), "upload {i}: same clip, same verdict");
                latencies.push(latency.as_secs_f64());
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let health: serde_json::Value =
        http.get(server.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok", "the server survived");
    let stats: serde_json::Value =
        http.get(server.url("/api/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["total"], 41);
    assert_eq!(stats["errors"], 20);
    let peak = server.peak_rss_mib();
    eprintln!(
        "load: 60 uploads (40 x 5-s WAV) in {elapsed:.2} s = {:.1} clips/s; latency p50 {:.2} s, p95 {:.2} s; \
         peak RSS {peak:.0} MiB (idle {idle_rss:.0} MiB)",
        40.0 / elapsed,
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 95 / 100],
    );
    assert!(peak < 1500.0, "peak RSS {peak:.0} MiB: memory not bounded");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Debian's ChromeDriver, which `.ci/run` installs with Chromium.
fn chromedriver() -> PathBuf {
    let path =
        PathBuf::from(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()));
    assert!(
        path.exists(),
        "{} not found: install Debian's chromium and chromium-driver (.ci/run does), or set CHROMEDRIVER",
        path.display()
    );
    path
}

/// A similarity library of 3 GTZAN clips each of metal, classical and
/// hiphop, made by `genreid embed` in `dir`.
fn small_library(dir: &std::path::Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let mut args = vec!["embed".to_string()];
    for genre in ["metal", "classical", "hiphop"] {
        for i in 0..3 {
            let clip = genreid_testkit::shared().join(format!("data/gtzan/{genre}/{genre}.{i:05}.flac"));
            assert!(clip.is_file(), "{} is missing: ../shared/data is needed", clip.display());
            args.push(clip.display().to_string());
        }
    }
    let library = dir.join("library.parquet");
    args.extend(["--out".to_string(), library.display().to_string()]);
    let made = Command::new(env!("CARGO_BIN_EXE_genreid")).args(&args).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    library
}

/// `POST /api/similar`: the upload's verdict and its neighbours in the
/// library, best first; 409 from a service without a library.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_answers_neighbours_from_the_library_and_409_without_one() {
    let dir = std::env::temp_dir().join(format!("genreid-serve-similar-{}", std::process::id()));
    let library = small_library(&dir);
    let server = Server::start(&["--index", library.to_str().unwrap()]);
    let http = reqwest::Client::new();
    let clip = fixture_bytes("metal_muldjord_chaos_god.wav");
    let answer =
        http.post(server.url("/api/similar?k=3&name=chaos.wav")).body(clip.clone()).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["genre"], "metal");
    let similar = body["similar"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(similar.len(), 3);
    assert_eq!(similar[0]["genre"], "metal", "{body}");
    let scores: Vec<f64> = similar.iter().map(|n| n["similarity"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let models: serde_json::Value =
        http.get(server.url("/api/models")).send().await.unwrap().json().await.unwrap();
    assert_eq!(models["library"]["tracks"], 9);
    assert_eq!(models["library"]["embedding"], "penultimate/mean/l2");
    // Without a library: a clear 409, and /api/classify answers no neighbours.
    let plain = Server::start(&[]);
    // A body larger than the socket buffers: refused without reading it,
    // the client would meet a broken pipe instead of the answer, so the
    // service reads it to its end first.
    let large = clip.repeat(12);
    let refused = http.post(plain.url("/api/similar")).body(large).send().await.unwrap();
    assert_eq!(refused.status(), 409);
    // A refusal always closes the connection: the answer says so, and the
    // next request below gets a fresh one.
    assert_eq!(refused.headers().get("connection").map(|v| v.as_bytes()), Some(&b"close"[..]));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("--index"), "{body}");
    let classified: serde_json::Value = http
        .post(plain.url("/api/classify?similar=3&name=chaos.wav"))
        .body(clip)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(classified["genre"], "metal");
    assert!(classified.get("similar").is_none(), "{classified}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The browser test: headless Chromium opens the page, uploads a
/// fixture through the file picker, and reads the verdict, the tracks that
/// sound like it, and the live dashboard from the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_classifies_an_upload_and_the_dashboard_updates_in_chromium() {
    let dir = std::env::temp_dir().join(format!("genreid-page-library-{}", std::process::id()));
    let library = small_library(&dir);
    let server = Server::start(&["--index", library.to_str().unwrap()]);
    let port = free_port();
    let mut driver = Command::new(chromedriver())
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile = std::env::temp_dir().join(format!("genreid-chromium-{}", std::process::id()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-quic", format!("--user-data-dir={}", profile.display())],
        }),
    );
    let mut client = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match fantoccini::ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let browser = client.expect("ChromeDriver did not start a Chromium session");
    let result = async {
        use fantoccini::Locator;
        browser.goto(&server.url("/")).await?;
        browser.wait().for_element(Locator::Css("#live-status")).await?;
        // Wait until the page is connected to the live stream.
        let deadline = Instant::now() + Duration::from_secs(20);
        while browser.find(Locator::Css("#live-status")).await?.text().await? != "live" {
            assert!(Instant::now() < deadline, "the page never connected to /api/events");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let file = std::fs::canonicalize(fixture_audio("metal_muldjord_chaos_god.wav")).unwrap();
        browser.find(Locator::Css("#file-input")).await?.send_keys(&file.display().to_string()).await?;
        let card = browser
            .wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Css(".result[data-genre]"))
            .await?;
        let genre = card.attr("data-genre").await?.unwrap_or_default();
        let verdict = card.find(Locator::Css(".verdict")).await?.text().await?;
        let has_spectrogram = !card.find_all(Locator::Css("canvas.spec")).await?.is_empty();
        let has_timeline = !card.find_all(Locator::Css(".timeline")).await?.is_empty();
        let mut sounds_like = Vec::new();
        for item in card.find_all(Locator::Css(".similar .neighbours li")).await? {
            sounds_like.push((item.attr("data-path").await?.unwrap_or_default(), item.text().await?));
        }
        // The dashboard counts the upload (it arrives over server-sent events).
        let deadline = Instant::now() + Duration::from_secs(20);
        while browser.find(Locator::Css("#dash-total")).await?.text().await? != "1" {
            assert!(Instant::now() < deadline, "the dashboard never counted the upload");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let bar =
            browser.find(Locator::Css(&format!("[data-genre-count=\"{genre}\"] .num"))).await?.text().await?;
        // Silence: the page says the verdict is a guess.
        let silence = std::env::temp_dir().join(format!("genreid-page-silence-{}.wav", std::process::id()));
        std::fs::write(&silence, silent_wav(10)).unwrap();
        browser.find(Locator::Css("#file-input")).await?.send_keys(&silence.display().to_string()).await?;
        let warning = browser
            .wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Css(".result .warning"))
            .await?
            .text()
            .await?;
        let _ = std::fs::remove_file(&silence);
        Ok::<_, fantoccini::error::CmdError>((
            genre,
            verdict,
            has_spectrogram,
            has_timeline,
            bar,
            warning,
            sounds_like,
        ))
    }
    .await;
    let _ = browser.close().await;
    let _ = driver.kill();
    let _ = driver.wait();
    let _ = std::fs::remove_dir_all(&profile);
    let _ = std::fs::remove_dir_all(&dir);
    let (genre, verdict, has_spectrogram, has_timeline, bar, warning, sounds_like) = result.unwrap();
    assert_eq!(genre, "metal");
    assert!(verdict.starts_with("metal ("), "{verdict}");
    assert!(has_spectrogram && has_timeline);
    assert_eq!(bar, "1");
    assert!(warning.contains("silence"), "{warning}");
    // "Sounds like": five tracks of the library, the nearest a metal clip.
    assert_eq!(sounds_like.len(), 5, "{sounds_like:?}");
    assert!(sounds_like[0].0.contains("/metal/"), "{sounds_like:?}");
    assert!(sounds_like[0].1.contains("metal ·"), "{sounds_like:?}");
}

/// `seconds` of 16-bit mono digital silence at 22,050 Hz, as a WAV file.
fn silent_wav(seconds: usize) -> Vec<u8> {
    let data = vec![0u8; seconds * 22_050 * 2];
    let mut h = b"RIFF".to_vec();
    h.extend((36 + data.len() as u32).to_le_bytes());
    h.extend(b"WAVEfmt ");
    h.extend(16u32.to_le_bytes());
    h.extend([1u8, 0, 1, 0]);
    h.extend(22_050u32.to_le_bytes());
    h.extend(44_100u32.to_le_bytes());
    h.extend([2u8, 0, 16, 0]);
    h.extend(b"data");
    h.extend((data.len() as u32).to_le_bytes());
    h.extend(data);
    h
}
