//! Uploads in every library format get the verdict of the source they were
//! encoded from (`shared/fixtures/formats`), as a raw body named or typed
//! only by its media type, and as a browser's multipart form; WMA gets a
//! plain 415 naming the format.

mod common;

use std::time::Duration;

use common::start;
use genreid_server::Config;

fn formats(name: &str) -> Vec<u8> {
    let path = genreid_testkit::shared().join("fixtures/formats").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_library_format_gets_the_sources_verdict() {
    let addr = start("musicnn-gtzan", Config::default()).await;
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
    let classify = |body: Vec<u8>, query: &str, media_type: &str| {
        let request =
            http.post(format!("{base}/api/classify{query}")).header("content-type", media_type).body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, source) = classify(formats("source.wav"), "?name=source.wav", "audio/wav").await;
    assert_eq!(status, 200, "{source}");
    let genre = source["genre"].as_str().unwrap().to_string();
    let cases = [
        ("aac.m4a", "audio/mp4"),
        ("aac_tagged.m4a", "audio/mp4"),
        ("alac.m4a", "audio/mp4"),
        ("opus.opus", "audio/ogg"),
        ("opus.webm", "audio/webm"),
        ("aiff.aiff", "audio/aiff"),
        ("caf.caf", "audio/x-caf"),
        ("flac.mka", "audio/x-matroska"),
    ];
    for (name, media_type) in cases {
        // Named, as the page's uploads are; then by its media type alone.
        let (status, answer) =
            classify(formats(name), &format!("?name={name}"), "application/octet-stream").await;
        assert_eq!((status, answer["genre"].as_str()), (200, Some(genre.as_str())), "{name}: {answer}");
        assert!(answer["warnings"].as_array().unwrap().is_empty(), "{name}: {answer}");
        let (status, answer) = classify(formats(name), "", media_type).await;
        assert_eq!(
            (status, answer["genre"].as_str()),
            (200, Some(genre.as_str())),
            "{name} as {media_type}: {answer}"
        );
    }
    // A phone's upload: multipart with the file's own name.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(formats("aac.m4a"))
            .file_name("Voice memo.m4a")
            .mime_str("audio/mp4")
            .unwrap(),
    );
    let answer: serde_json::Value =
        http.post(format!("{base}/api/classify")).multipart(form).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["genre"].as_str(), Some(genre.as_str()), "{answer}");

    let (status, answer) = classify(formats("wma.wma"), "?name=old.wma", "audio/x-ms-wma").await;
    assert_eq!(status, 415, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(error.contains("old.wma") && error.contains("WMA") && error.contains("not supported"), "{error}");
}
