//! The robustness report's options and model files against the real
//! binary: each crafted option and model file gets a clear error naming
//! the option (or the file) and the cause, in under 2 s and 400 MB.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use genreid_testkit::{output_with_peak_rss, shared};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genreid-limits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The 5-s stereo clip the report used.
fn five_seconds() -> PathBuf {
    shared().join("fixtures/audio/rock_sectoid_escape_from_chaosland_stereo44k_5s.wav")
}

/// Runs genreid with `args`: its output, within 2 s and 400 MB.
fn refused_quickly(args: &[&str]) -> Output {
    let started = Instant::now();
    let (output, peak) = output_with_peak_rss(Command::new(env!("CARGO_BIN_EXE_genreid")).args(args));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "{args:?} took {took:?}");
    assert!(peak < 400.0, "{args:?} peaked at {peak:.0} MB");
    assert!(!output.status.success(), "{args:?} succeeded");
    assert_ne!(output.status.code(), Some(101), "{args:?} panicked");
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn unbounded_options_are_refused_naming_the_option() {
    let clip = five_seconds();
    let clip = clip.to_str().unwrap();
    let out = scratch("options");
    let csv = out.join("t.csv");
    let csv = csv.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["features", "--segment", "3", "--segment-hop", "0.00005", "--out", csv, clip], "--segment-hop"),
        (&["features", "--segment", "1e6", "--out", csv, clip], "--segment"),
        (&["features", "--segment", "1e15", "--out", csv, clip], "--segment"),
        (&["features", "--sr", "1", "--out", csv, clip], "--sr"),
        (&["features", "--sr", "10000000", "--out", csv, clip], "--sr"),
        (&["features", "-j", "100000", "--out", csv, clip], "-j"),
        (&["classify", "-j", "100000", clip], "-j"),
    ];
    for (args, option) in cases {
        let err = stderr(&refused_quickly(args));
        assert!(err.contains(option), "{args:?}: the error does not name {option}: {err}");
    }
    let spectrogram = out.join("s.png");
    let err = stderr(&refused_quickly(&[
        "spectrogram",
        "--sr",
        "10000000",
        "--out",
        spectrogram.to_str().unwrap(),
        clip,
    ]));
    assert!(err.contains("sample rate 10000000 Hz"), "{err}");
    let _ = std::fs::remove_dir_all(&out);
}

/// `--segment 100` on a 5-s file: the row is written, and the padding said.
#[test]
fn a_segment_longer_than_the_file_is_padded_with_a_warning() {
    let out = scratch("padded");
    let csv = out.join("t.csv");
    let output = Command::new(env!("CARGO_BIN_EXE_genreid"))
        .args([
            "features",
            "--segment",
            "100",
            "--out",
            csv.to_str().unwrap(),
            five_seconds().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("padded: 5.00 s of audio is shorter than one 100-s segment"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 2, "a header and one row");
    let _ = std::fs::remove_dir_all(&out);
}

/// The report's model files: a logistic regression whose labels and weight
/// rows disagree, and one asking for a 4,294,967,295-Hz resampler. Both are
/// refused by `classify` and by `serve` at start-up, naming the file.
#[test]
fn inconsistent_model_files_are_refused_by_classify_and_serve() {
    let dir = scratch("models");
    let builtin: serde_json::Value = serde_json::from_slice(
        &std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/gtzan57-logreg.genreid"))
            .unwrap(),
    )
    .unwrap();
    let mut three_labels = builtin.clone();
    three_labels["labels"] = serde_json::json!(["blues", "classical", "country"]);
    let mut huge_rate = builtin.clone();
    huge_rate["preprocessing"]["sample_rate"] = serde_json::json!(4_294_967_295u32);
    let mut nan_scale = builtin;
    nan_scale["scaler"]["scale"][0] = serde_json::json!(0.0);
    let clip = five_seconds();
    for (name, model, cause) in [
        ("three_labels.genreid", three_labels, "3 x 57"),
        ("huge_rate.genreid", huge_rate, "sample_rate 4294967295 Hz"),
        ("zero_scale.genreid", nan_scale, "scale is zero"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec(&model).unwrap()).unwrap();
        let path = path.to_str().unwrap();
        let err = stderr(&refused_quickly(&["classify", "--model", path, clip.to_str().unwrap()]));
        assert!(err.contains(name) && err.contains(cause), "{name}: {err}");
        let err = stderr(&refused_quickly(&["serve", "--addr", "127.0.0.1:0", "--model", path]));
        assert!(err.contains(name) && err.contains(cause), "serve {name}: {err}");
    }
    let err = stderr(&refused_quickly(&["serve", "--addr", "127.0.0.1:0", "--timeout", "0"]));
    assert!(err.contains("--timeout"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file name holding an escape sequence is printed escaped in the table,
/// and kept as it is in JSON (where it is data, quoted).
#[test]
fn escape_sequences_in_names_are_printed_escaped() {
    let dir = scratch("escapes");
    let hostile = dir.join("rock\x1b]0;PWNED\x07\x1b[2J.wav");
    std::fs::copy(five_seconds(), &hostile).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_genreid"))
        .args(["classify", "--model", "gtzan57-logreg"])
        .arg(&hostile)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(!table.contains('\x1b') && !table.contains('\x07'), "raw control characters printed: {table:?}");
    assert!(table.contains("rock\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J.wav"), "{table}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file name that is not UTF-8 keeps its bytes in JSON records (`\xNN`),
/// and a batch `--out` named like another format is refused, not turned
/// into a folder of Parquet parts.
#[test]
fn odd_names_and_odd_outputs() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("names");
    let odd = dir.join(std::ffi::OsStr::from_bytes(b"caf\xe9.wav"));
    std::fs::copy(five_seconds(), &odd).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_genreid"))
        .args(["classify", "--model", "gtzan57-logreg", "--format", "json"])
        .arg(&odd)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let records: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let path = records[0]["path"].as_str().unwrap();
    assert!(path.ends_with("caf\\xE9.wav"), "{path}");
    let csv = dir.join("results.csv");
    let err = stderr(&refused_quickly(&[
        "classify",
        "--model",
        "gtzan57-logreg",
        "--out",
        csv.to_str().unwrap(),
        five_seconds().to_str().unwrap(),
    ]));
    assert!(err.contains("writes Parquet, not .csv"), "{err}");
    assert!(!csv.exists(), "a folder was made");
    let _ = std::fs::remove_dir_all(&dir);
}

/// One missing path among several is reported like a bad file (an error
/// record, exit status 1) while the others are classified.
#[test]
fn a_missing_path_among_several_is_a_bad_file_not_the_end_of_the_run() {
    let output = Command::new(env!("CARGO_BIN_EXE_genreid"))
        .args(["classify", "--model", "gtzan57-logreg", "--format", "json", "/no/such/song.mp3"])
        .arg(five_seconds())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let records: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    let missing = records.iter().find(|r| r["path"] == "/no/such/song.mp3").unwrap();
    assert!(missing["error"].as_str().is_some_and(|e| e.contains("No such file")), "{missing}");
    assert!(records.iter().any(|r| r["genre"].is_string()), "{records:?}");
}

/// A subfolder that cannot be searched (here a link that loops back; an
/// unreadable folder behaves alike, but root, who runs CI, reads every
/// folder) is reported with the reason while the rest is processed.
#[test]
fn a_subfolder_that_cannot_be_searched_is_reported() {
    let out = scratch("loop");
    let music = out.join("music");
    std::fs::create_dir_all(music.join("sub")).unwrap();
    std::fs::copy(five_seconds(), music.join("clip.wav")).unwrap();
    std::os::unix::fs::symlink("..", music.join("sub/up")).unwrap();
    let csv = out.join("t.csv");
    let output = Command::new(env!("CARGO_BIN_EXE_genreid"))
        .args(["features", "--out", csv.to_str().unwrap(), music.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("sub/up: a folder that could not be searched"), "{err}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 2, "the clip's row was written");
    let _ = std::fs::remove_dir_all(&out);
}

/// The 5-s stereo 44.1-kHz clip repeated into a WAV of `minutes`.
fn long_stereo_wav(dir: &std::path::Path, minutes: usize) -> PathBuf {
    let clip = std::fs::read(five_seconds()).unwrap();
    assert_eq!(&clip[36..40], b"data", "a canonical 44-byte WAV header");
    let data = &clip[44..];
    let repeats = minutes * 12;
    let size = (data.len() * repeats) as u32;
    let mut header = clip[..44].to_vec();
    header[4..8].copy_from_slice(&(36 + size).to_le_bytes());
    header[40..44].copy_from_slice(&size.to_le_bytes());
    let path = dir.join("long.wav");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    file.write_all(&header).unwrap();
    for _ in 0..repeats {
        file.write_all(data).unwrap();
    }
    file.flush().unwrap();
    path
}

/// The report's one-hour 44.1-kHz stereo WAV: its FMA-518 row (beside a
/// short file) and its spectrogram are computed in blocks, within 400 MB
/// (the row asked for 1.27 GB at once and aborted the batch; measured
/// now: 240 MB).
#[test]
fn long_files_are_read_in_bounded_memory() {
    let out = scratch("long");
    let long = long_stereo_wav(&out, 60);
    let csv = out.join("t.csv");
    let (output, peak) = output_with_peak_rss(Command::new(env!("CARGO_BIN_EXE_genreid")).args([
        "features",
        "--set",
        "fma518",
        "--out",
        csv.to_str().unwrap(),
        long.to_str().unwrap(),
        five_seconds().to_str().unwrap(),
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(peak < 400.0, "features --set fma518 peaked at {peak:.0} MB");
    let table = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(table.lines().count(), 3, "a header and both rows");
    assert!(
        table.lines().all(|l| l.split(',').count() == 2 + 518 + 1),
        "filename, length, 518 features, label"
    );

    let png = out.join("s.png");
    let (output, peak) = output_with_peak_rss(Command::new(env!("CARGO_BIN_EXE_genreid")).args([
        "spectrogram",
        "--db",
        "--out",
        png.to_str().unwrap(),
        long.to_str().unwrap(),
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(peak < 400.0, "spectrogram peaked at {peak:.0} MB");
    assert_eq!(&std::fs::read(&png).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    let _ = std::fs::remove_dir_all(&out);
}
