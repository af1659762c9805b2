//! The hostile-input report's reproductions against the real binary: crafted
//! rates, samples far beyond full scale, silence, a single sample, a
//! truncated file, error records in every format, no folder created
//! unasked, and `features` in bounded memory on a long file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use genreid_testkit::shared;

fn genreid() -> Command {
    Command::new(env!("CARGO_BIN_EXE_genreid"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genreid-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A 44-byte WAV header (`format` 1 PCM, 3 float) around `data`.
fn wav(format: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let block = u32::from(bits) / 8;
    let mut h = b"RIFF".to_vec();
    h.extend((36 + data.len() as u32).to_le_bytes());
    h.extend(b"WAVEfmt ");
    h.extend(16u32.to_le_bytes());
    h.extend(format.to_le_bytes());
    h.extend(1u16.to_le_bytes());
    h.extend(rate.to_le_bytes());
    h.extend(rate.wrapping_mul(block).to_le_bytes());
    h.extend((block as u16).to_le_bytes());
    h.extend(bits.to_le_bytes());
    h.extend(b"data");
    h.extend((data.len() as u32).to_le_bytes());
    h.extend_from_slice(data);
    h
}

fn rock() -> Vec<u8> {
    std::fs::read(shared().join("fixtures/audio/rock_sectoid_escape_from_chaosland.wav")).unwrap()
}

/// The report's files: 5 s of real audio behind absurd rates, the clip as
/// float times 1e30, 30 s of digital silence, one sample, 10 % of a WAV.
fn hostile_folder(dir: &Path) {
    let rock = rock();
    let pcm = &rock[44..44 + 5 * 22_050 * 2];
    for rate in [u32::MAX, 1 << 31, 8, 100, 1] {
        std::fs::write(dir.join(format!("rate_{rate}.wav")), wav(1, rate, 16, pcm)).unwrap();
    }
    let loud: Vec<u8> = rock[44..]
        .chunks_exact(2)
        .flat_map(|b| (f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0 * 1e30).to_le_bytes())
        .collect();
    std::fs::write(dir.join("loud.wav"), wav(3, 22_050, 32, &loud)).unwrap();
    std::fs::write(dir.join("silence.wav"), wav(1, 22_050, 16, &vec![0; 30 * 22_050 * 2])).unwrap();
    std::fs::write(dir.join("one.wav"), wav(1, 22_050, 16, &[0x00, 0x10])).unwrap();
    std::fs::write(dir.join("cut10.wav"), &rock[..rock.len() / 10]).unwrap();
    std::fs::write(dir.join("short.wav"), wav(1, 22_050, 16, &rock[44..44 + 22_050 * 2])).unwrap();
}

#[test]
fn classify_reports_every_file_with_its_doubts_in_every_format() {
    let dir = scratch("classify");
    hostile_folder(&dir);
    let started = Instant::now();
    let out = genreid().args(["classify", "--format", "json", "--segments"]).arg(&dir).output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(1), "bad files give status 1");
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(records.len(), 10, "one record per file, failed ones included");
    let by_name = |name: &str| -> &serde_json::Value {
        records.iter().find(|r| r["path"].as_str().unwrap().ends_with(name)).unwrap()
    };
    for rate in [u32::MAX, 1 << 31, 8, 100, 1] {
        let r = by_name(&format!("rate_{rate}.wav"));
        assert!(r["error"].as_str().unwrap().contains("sample rate"), "{r}");
        assert!(r.get("genre").is_none(), "{r}");
    }
    let loud = by_name("loud.wav");
    assert!(loud["error"].as_str().unwrap().contains("full scale"), "{loud}");
    let codes = |r: &serde_json::Value| -> Vec<String> {
        r["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(codes(by_name("silence.wav")), ["silence"]);
    assert_eq!(codes(by_name("one.wav")), ["too_short"]);
    assert_eq!(codes(by_name("cut10.wav")), ["truncated"]);
    let short = by_name("short.wav");
    assert!(codes(short).is_empty(), "{short}");
    let timeline = short["segments"].as_array().unwrap();
    assert_eq!(timeline.last().unwrap()["end"], 1.0, "the timeline ends where the file does: {short}");
    for r in &records {
        if let Some(p) = r.get("probabilities") {
            assert!(p.as_object().unwrap().values().all(|v| v.as_f64().is_some_and(f64::is_finite)), "{r}");
        }
    }
    // Messages name the file once.
    let errors = String::from_utf8_lossy(&out.stderr);
    let line = errors.lines().find(|l| l.contains("rate_8.wav")).unwrap();
    assert_eq!(line.matches("rate_8.wav").count(), 1, "{line}");

    // CSV: one row per segment with --segments, and error rows for bad files.
    let out = genreid().args(["classify", "--format", "csv", "--segments"]).arg(&dir).output().unwrap();
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..4], ["path", "start", "end", "genre"]);
    assert_eq!(header.last().unwrap(), "error");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let error_rows = rows.iter().filter(|r| !r[header.len() - 1].is_empty()).count();
    assert_eq!(error_rows, 6, "five crafted rates and the loud file");
    let silence_segments = rows.iter().filter(|r| r[0].ends_with("silence.wav")).count();
    assert_eq!(silence_segments, 10, "ten 3-s patches in 30 s of silence");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn features_refuse_crafted_files_and_create_no_folder() {
    let dir = scratch("features");
    hostile_folder(&dir);
    let table = dir.join("t.csv");
    let out = genreid().args(["features", "--out"]).arg(&table).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(errors.contains("rate_4294967295.wav") && errors.contains("sample rate"), "{errors}");
    assert!(errors.contains("loud.wav") && errors.contains("full scale"), "{errors}");
    let table = std::fs::read_to_string(&table).unwrap();
    assert_eq!(table.lines().count(), 1 + 4, "silence, one, cut10 and short have rows");
    assert!(!table.contains("NaN") && !table.contains("inf"), "{table}");

    let missing = dir.join("no/such/folder/t.csv");
    let out =
        genreid().args(["features", "--out"]).arg(&missing).arg(dir.join("short.wav")).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not exist"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.join("no").exists(), "a folder was created that nobody asked for");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The report's case 4: `features` on long files used ~145 MB per minute
/// of audio (8.46 GB for an hour). Read in blocks, a 20-minute file stays
/// within the bound an hour-long one does.
#[test]
fn features_of_a_long_file_stay_in_bounded_memory() {
    let dir = scratch("long");
    let rock = rock();
    let minutes = 20;
    let data: Vec<u8> = rock[44..].iter().copied().cycle().take(minutes * 60 * 22_050 * 2).collect();
    let long = dir.join("long.wav");
    std::fs::write(&long, wav(1, 22_050, 16, &data)).unwrap();
    drop(data);
    let mut command = genreid();
    command.args(["features", "-j", "1", "--out"]).arg(dir.join("t.csv")).arg(&long);
    let (output, peak) = genreid_testkit::output_with_peak_rss(&mut command);
    assert!(output.status.success());
    assert!(peak < 300.0, "features of a {minutes}-minute file peaked at {peak:.0} MB");
    let table = std::fs::read_to_string(dir.join("t.csv")).unwrap();
    let row: Vec<&str> = table.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row[1], (minutes * 60 * 22_050).to_string(), "the whole file is measured");
    let _ = std::fs::remove_dir_all(&dir);
}
