//! `genreid embed`, `similar` and `playlist` on real clips: an incremental
//! library (unchanged files skipped, changed ones replaced, a bad file one
//! error row), neighbours that exclude the query and find a copy of it,
//! exact and approximate search agreeing, and an M3U playlist without repeats.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use arrow_array::{Array, RecordBatch};
use genreid_testkit::shared;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn genreid(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_genreid")).args(args).output().unwrap();
    assert!(output.status.code().is_some(), "killed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genreid-similar-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn link(source: &Path, dest: &Path) {
    assert!(source.is_file(), "{} is missing: ../shared/data is needed", source.display());
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(source, dest).unwrap();
}

/// 4 clips each of three GTZAN genres, one tagged FMA clip, one non-audio file.
fn collection(root: &Path) -> PathBuf {
    let music = root.join("music");
    for genre in ["metal", "classical", "hiphop"] {
        for i in 0..4 {
            let name = format!("{genre}.{i:05}.flac");
            link(&shared().join("data/gtzan").join(genre).join(&name), &music.join(genre).join(&name));
        }
    }
    link(&shared().join("data/fma/fma_small/000/000010.mp3"), &music.join("fma/000010.mp3"));
    std::fs::write(music.join("not-audio.wav"), b"a text file, not a WAV").unwrap();
    music
}

fn rows(path: &Path) -> Vec<RecordBatch> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap();
    assert_eq!(
        builder.schema().metadata().get("genreid.embedding").map(String::as_str),
        Some("penultimate/mean/l2"),
        "the library records how its embeddings were made"
    );
    builder.build().unwrap().map(Result::unwrap).collect()
}

fn paths(batches: &[RecordBatch]) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let p = b.column_by_name("path").unwrap().as_string::<i32>();
            (0..b.num_rows()).map(|i| p.value(i).to_string()).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_library_is_built_incrementally_and_searched() {
    let root = scratch("library");
    let music = collection(&root);
    let library = root.join("library.parquet");
    let lib = library.to_str().unwrap();

    // First run: 13 tracks embedded, the text file an error row (exit 1).
    let first = genreid(&["embed", music.to_str().unwrap(), "--out", lib]);
    let (_, err) = text(&first);
    assert_eq!(first.status.code(), Some(1), "{err}");
    assert!(err.contains("not-audio.wav") && err.contains("embedded 13, failed 1"), "{err}");
    let batches = rows(&library);
    assert_eq!(paths(&batches).len(), 14);
    let mut artists = Vec::new();
    for batch in &batches {
        let embedding = batch.column_by_name("embedding").unwrap().as_fixed_size_list();
        assert_eq!(embedding.value_length(), 200);
        let errors = batch.column_by_name("error").unwrap().as_string::<i32>();
        let artist = batch.column_by_name("artist").unwrap().as_string::<i32>();
        for i in 0..batch.num_rows() {
            assert_eq!(
                embedding.is_valid(i),
                errors.is_null(i),
                "an embedding exactly where there is no error"
            );
            if embedding.is_valid(i) {
                let v = embedding.value(i);
                let v = v.as_primitive::<Float32Type>();
                let norm: f32 = v.values().iter().map(|x| x * x).sum::<f32>().sqrt();
                assert!((norm - 1.0).abs() < 1e-4, "L2-normalised, got norm {norm}");
            }
            if artist.is_valid(i) {
                artists.push(artist.value(i).to_string());
            }
        }
    }
    assert_eq!(artists, vec!["Kurt Vile".to_string()], "the FMA clip's own artist tag is in its row");

    // Second run: nothing new, nothing redone, the file untouched.
    let before = std::fs::metadata(&library).unwrap().modified().unwrap();
    let (_, err) = text(&genreid(&["embed", music.to_str().unwrap(), "--out", lib]));
    assert!(err.contains("embedded 0, failed 0, skipped 14"), "{err}");
    assert_eq!(std::fs::metadata(&library).unwrap().modified().unwrap(), before);

    // A new file is added; then a changed one replaces its row.
    let copy = music.join("metal/copy-of-metal.00000.flac");
    std::fs::copy(shared().join("data/gtzan/metal/metal.00000.flac"), &copy).unwrap();
    let (_, err) = text(&genreid(&["embed", music.to_str().unwrap(), "--out", lib]));
    assert!(err.contains("embedded 1, failed 0, skipped 14"), "{err}");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options().write(true).open(&copy).unwrap().set_modified(later).unwrap();
    let (_, err) = text(&genreid(&["embed", music.to_str().unwrap(), "--out", lib]));
    assert!(err.contains("embedded 1, failed 0, skipped 14"), "{err}");
    let all = paths(&rows(&library));
    assert_eq!(all.len(), 15);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 15, "no path twice");

    // A track of the library: its neighbours leave it out, best first, and
    // the nearest metal clip sounds like metal.
    let query = music.join("metal/metal.00001.flac");
    let found = genreid(&["similar", query.to_str().unwrap(), "--index", lib, "-k", "3", "--format", "json"]);
    let (out, err) = text(&found);
    assert!(found.status.success(), "{err}");
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    let neighbours = answer[0]["neighbours"].as_array().unwrap();
    assert_eq!(neighbours.len(), 3);
    let scores: Vec<f64> = neighbours.iter().map(|n| n["similarity"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(neighbours.iter().all(|n| n["path"] != query.to_str().unwrap()));
    assert_eq!(neighbours[0]["genre"], "metal", "{out}");

    // A file outside the library, embedded now: a copy of a track finds it.
    let outside = root.join("outside.flac");
    std::fs::copy(shared().join("data/gtzan/classical/classical.00002.flac"), &outside).unwrap();
    let (out, err) = text(&genreid(&[
        "similar",
        outside.to_str().unwrap(),
        "--index",
        lib,
        "-k",
        "1",
        "--format",
        "json",
    ]));
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let nearest = &answer[0]["neighbours"][0];
    assert!(nearest["path"].as_str().unwrap().ends_with("classical.00002.flac"), "{out}");
    assert!(nearest["similarity"].as_f64().unwrap() > 0.999, "{out}");

    // Approximate search agrees with exact search here, and its graph is kept.
    let exact =
        text(&genreid(&["similar", query.to_str().unwrap(), "--index", lib, "-k", "5", "--format", "m3u"])).0;
    let approximate =
        ["similar", query.to_str().unwrap(), "--index", lib, "-k", "5", "--format", "m3u", "--approximate"];
    let approx = genreid(&approximate);
    let (approx_out, approx_err) = text(&approx);
    assert_eq!(approx_out, exact);
    assert!(approx_err.contains("built the search graph of 14 tracks"), "{approx_err}");
    assert!(root.join("library.parquet.hnsw").is_file());
    let again = text(&genreid(&approximate));
    assert_eq!(again.0, exact);
    assert!(!again.1.contains("built"), "the kept graph is reused: {}", again.1);

    // A playlist from a seed: M3U, the seed first, no repeats.
    let list = root.join("list.m3u");
    let made = genreid(&[
        "playlist",
        query.to_str().unwrap(),
        "--index",
        lib,
        "--length",
        "6",
        "--out",
        list.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{}", text(&made).1);
    let m3u = std::fs::read_to_string(&list).unwrap();
    assert!(m3u.starts_with("#EXTM3U\n"), "{m3u}");
    let entries: Vec<&str> = m3u.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(entries.len(), 6, "{m3u}");
    assert_eq!(entries[0], query.to_str().unwrap());
    assert_eq!(entries.iter().collect::<HashSet<_>>().len(), 6, "no repeats: {m3u}");
    assert_eq!(m3u.lines().filter(|l| l.starts_with("#EXTINF:30,")).count(), 6, "{m3u}");

    // A k or a length past the library's size asks for every track (the
    // report's -k 1000000000 tried to allocate 16 GB).
    let all =
        genreid(&["similar", query.to_str().unwrap(), "--index", lib, "-k", "1000000000", "--format", "m3u"]);
    assert!(all.status.success(), "{}", text(&all).1);
    assert_eq!(text(&all).0.lines().filter(|l| !l.starts_with('#')).count(), 13, "every other track");
    let long = genreid(&["playlist", query.to_str().unwrap(), "--index", lib, "--length", "1000000000"]);
    assert!(long.status.success(), "{}", text(&long).1);
    assert_eq!(text(&long).0.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).count(), 14);

    // One library, one embedding: a part of another layer or model is
    // refused before any work, and so is a query model of another network.
    let (_, err) = text(&genreid(&["embed", music.to_str().unwrap(), "--out", lib, "--layer", "taggram"]));
    assert!(err.contains("penultimate/mean/l2 embeddings, not taggram/mean/l2"), "{err}");
    let (_, err) =
        text(&genreid(&["embed", music.to_str().unwrap(), "--out", lib, "--model", "mtt-musicnn"]));
    assert!(err.contains("embeddings by musicnn-gtzan (MSD_musicnn), not MTT_musicnn"), "{err}");
    let (_, err) =
        text(&genreid(&["similar", query.to_str().unwrap(), "--index", lib, "--model", "mtt-vgg"]));
    assert!(err.contains("embeds with MTT_vgg") && err.contains("MSD_musicnn"), "{err}");

    // Clear errors.
    let (_, err) = text(&genreid(&["similar", "no/such/file.mp3", "--index", lib]));
    assert!(err.contains("no/such/file.mp3: neither a track of the library nor an audio file"), "{err}");
    let missing = root.join("missing.parquet");
    let (_, err) =
        text(&genreid(&["similar", query.to_str().unwrap(), "--index", missing.to_str().unwrap()]));
    assert!(err.contains("no such library"), "{err}");
    let _ = std::fs::remove_dir_all(&root);
}
