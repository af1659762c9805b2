//! Batch runs into Parquet (`genreid classify --out`, `genreid features
//! --out DIR/`): shards whose union is one unsharded run, resuming after
//! kill -9, an error row for a bad file, two workers in one folder,
//! manifests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, TimestampNanosecondType, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use genreid_testkit::shared;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn genreid() -> Command {
    Command::new(env!("CARGO_BIN_EXE_genreid"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genreid-batch-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small collection: `count` real GTZAN clips per genre, linked into
/// genre folders under `root/music`, plus a file that is not audio.
fn collection(root: &Path, genres: &[&str], count: usize) -> PathBuf {
    let music = root.join("music");
    for genre in genres {
        std::fs::create_dir_all(music.join(genre)).unwrap();
        for i in 0..count {
            let name = format!("{genre}.{i:05}.flac");
            let source = shared().join("data/gtzan").join(genre).join(&name);
            assert!(source.is_file(), "{} is missing: ../shared/data is needed", source.display());
            std::os::unix::fs::symlink(&source, music.join(genre).join(&name)).unwrap();
        }
    }
    std::fs::write(music.join(genres[0]).join("not-audio.wav"), b"this is a text file, not a WAV").unwrap();
    music
}

fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(output.status.code().is_some(), "killed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// Each cell of a column as text, structs and lists included.
fn cell(array: &ArrayRef, i: usize) -> String {
    if array.is_null(i) {
        return "null".into();
    }
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(i).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(i).to_string(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(i).to_string(),
        DataType::Float32 => format!("{:?}", array.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => format!("{:?}", array.as_primitive::<Float64Type>().value(i)),
        DataType::Timestamp(..) => array.as_primitive::<TimestampNanosecondType>().value(i).to_string(),
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let parts: Vec<String> =
                fields.iter().zip(s.columns()).map(|(f, c)| format!("{}={}", f.name(), cell(c, i))).collect();
            format!("{{{}}}", parts.join(","))
        }
        DataType::List(_) => {
            let item = array.as_list::<i32>().value(i);
            format!("[{}]", (0..item.len()).map(|j| cell(&item, j)).collect::<Vec<_>>().join(","))
        }
        DataType::FixedSizeList(..) => {
            let item = array.as_fixed_size_list().value(i);
            format!("[{}]", (0..item.len()).map(|j| cell(&item, j)).collect::<Vec<_>>().join(","))
        }
        other => panic!("unexpected column type {other}"),
    }
}

/// The verdict rows of every complete Parquet file under `out` (a file or
/// a folder's parts): column name → text, sorted by path.
fn rows(out: &Path) -> Vec<BTreeMap<String, String>> {
    rows_of(out, "genreid.classify/1")
}

/// The rows of every complete Parquet file under `out`, each of `schema`
/// (its `genreid.schema`): column name → text, sorted by path and row name.
fn rows_of(out: &Path, schema: &str) -> Vec<BTreeMap<String, String>> {
    let files: Vec<PathBuf> = if out.is_dir() {
        let mut parts: Vec<PathBuf> = std::fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        parts.sort();
        parts
    } else {
        vec![out.to_path_buf()]
    };
    let mut all = Vec::new();
    for file in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).unwrap())
            .unwrap_or_else(|e| panic!("{} is not readable Parquet: {e}", file.display()));
        assert_eq!(reader.schema().metadata().get("genreid.schema").map(String::as_str), Some(schema));
        for batch in reader.build().unwrap() {
            let batch = batch.unwrap();
            for i in 0..batch.num_rows() {
                let row = batch
                    .schema()
                    .fields()
                    .iter()
                    .zip(batch.columns())
                    .map(|(f, c)| (f.name().clone(), cell(c, i)))
                    .collect();
                all.push(row);
            }
        }
    }
    all.sort_by(|a: &BTreeMap<String, String>, b| {
        (&a["path"], a.get("filename")).cmp(&(&b["path"], b.get("filename")))
    });
    all
}

#[test]
fn three_shards_make_one_run_and_a_bad_file_is_an_error_row() {
    let dir = scratch("shards");
    let music = collection(&dir, &["blues", "metal", "jazz"], 3);
    let whole = dir.join("whole.parquet");
    let output = run(genreid().args(["classify", "--segments", "--out"]).arg(&whole).arg(&music));
    assert_eq!(output.status.code(), Some(1), "a failed file gives exit status 1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("classified 9, failed 1, skipped 0"), "{stderr}");
    let expected = rows(&whole);
    assert_eq!(expected.len(), 10, "a row per input");
    let bad = expected.iter().find(|r| r["path"].ends_with("not-audio.wav")).unwrap();
    assert_eq!(bad["genre"], "null");
    assert!(bad["error"].contains("not-audio.wav"), "the error names the file: {}", bad["error"]);
    for row in expected.iter().filter(|r| !r["path"].ends_with("not-audio.wav")) {
        assert_eq!(row["error"], "null", "{row:?}");
        assert_eq!(row["model"], "musicnn-gtzan");
        assert!(row["model_version"].starts_with("sha256:"));
        assert_eq!(row["content_sha256"].len(), 64);
        assert!(row["segments"].starts_with("[{start=0.0,"), "{}", row["segments"]);
        let label = row["relative_path"].split('/').next().unwrap();
        assert!(row["probabilities"].contains(&format!("{label}=")), "{}", row["probabilities"]);
    }
    assert!(
        expected
            .iter()
            .filter(|r| r["genre"] != "null")
            .filter(|r| r["relative_path"].starts_with(&r["genre"]))
            .count()
            >= 7
    );

    // Three workers at once, each its own share, all into one folder: the
    // container command of deploy/k8s/classify-job.yaml for K = 0, 1, 2.
    let parts = dir.join("parts");
    let workers: Vec<_> = (0..3)
        .map(|k| {
            let args = kubernetes_args(k, &music, &parts);
            genreid().args(&args).stderr(std::process::Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for worker in workers {
        let output = worker.wait_with_output().unwrap();
        assert!(output.status.code().is_some(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(rows(&parts), expected, "the union of the shards is the unsharded run");
}

/// `genreid features --out DIR/`: three workers' shards make the unsharded
/// run, whose rows are the CSV table's, row for row and value for value; a
/// bad file is an error row; resuming skips what is there and does what is new.
#[test]
fn feature_rows_shard_resume_and_equal_the_table() {
    let dir = scratch("features");
    let music = collection(&dir, &["blues", "metal"], 3);
    let table = ["features", "--duration", "6", "--segment", "3"];
    let whole = dir.join("whole");
    let output = run(genreid().args(table).arg("--out").arg(format!("{}/", whole.display())).arg(&music));
    assert_eq!(output.status.code(), Some(1), "a failed file gives exit status 1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("analysed 6, failed 1, skipped 0"), "{stderr}");
    let expected = rows_of(&whole, "genreid.features/1");
    assert_eq!(expected.len(), 6 * 2 + 1, "two 3-s segments per clip, and an error row");
    let bad: Vec<_> = expected.iter().filter(|r| r["path"].ends_with("not-audio.wav")).collect();
    assert_eq!(bad.len(), 1);
    assert!(bad[0]["error"].contains("not-audio.wav"), "the error names the file: {}", bad[0]["error"]);
    assert_eq!((bad[0]["filename"].as_str(), bad[0]["tempo"].as_str()), ("null", "null"));
    for row in expected.iter().filter(|r| r["error"] == "null") {
        assert_eq!(row["settings"], "gtzan57 sr=22050 duration=6 segment=3/3");
        assert_eq!(row["content_sha256"].len(), 64);
        assert_eq!(row["label"], row["relative_path"].split('/').next().unwrap());
    }

    // The same rows from three workers at once, into one folder.
    let parts = dir.join("parts");
    let workers: Vec<_> = (0..3)
        .map(|k| {
            genreid()
                .args(table)
                .args(["--shard", &format!("{k}/3"), "--resume", "--out"])
                .arg(format!("{}/", parts.display()))
                .arg(&music)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for worker in workers {
        let output = worker.wait_with_output().unwrap();
        assert!(output.status.code().is_some(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(
        rows_of(&parts, "genreid.features/1"),
        expected,
        "the union of the shards is the unsharded run"
    );

    // Row for row the table `features --out table.csv` writes.
    let csv_path = dir.join("table.csv");
    run(genreid().args(table).arg("--out").arg(&csv_path).arg(&music));
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut compared = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let row =
            expected.iter().find(|r| r["filename"] == record[0]).expect("each table row is in the parts");
        for (name, value) in header.iter().zip(record.iter()) {
            assert_eq!(&row[name], value, "{name} of {}", &record[0]);
        }
        compared += 1;
    }
    assert_eq!(compared, 12);

    // Resuming: nothing to do; then a new file, and only it is done.
    let output = run(genreid().args(table).args(["--resume", "--out"]).arg(&parts).arg(&music));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("analysed 0, failed 0, skipped 7"),
        "its error row stands for the bad file: {stderr}"
    );
    let copy = music.join("metal/copied.flac");
    std::fs::copy(shared().join("data/gtzan/metal/metal.00005.flac"), &copy).unwrap();
    let output = run(genreid().args(table).args(["--resume", "--out"]).arg(&parts).arg(&music));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("analysed 1, failed 0, skipped 7"), "{stderr}");
    let after = rows_of(&parts, "genreid.features/1");
    let copied = copy.display().to_string();
    assert_eq!(after.iter().filter(|r| r["path"] == copied).count(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `args` of the Kubernetes example's container for index `k`, with
/// its volumes replaced by `music` and `out`.
fn kubernetes_args(k: usize, music: &Path, out: &Path) -> Vec<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/k8s/classify-job.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let line = text.lines().find_map(|l| l.trim().strip_prefix("args: ")).expect("an args line");
    let args: Vec<String> = serde_json::from_str(line).expect("args as a flow list of quoted strings");
    assert!(args.iter().any(|a| a == "--resume"), "the example resumes a retried pod");
    args.into_iter()
        .map(|a| match a.as_str() {
            "/music" => music.display().to_string(),
            "/results/" => format!("{}/", out.display()),
            _ => a.replace("$(JOB_COMPLETION_INDEX)", &k.to_string()),
        })
        .collect()
}

#[test]
fn a_run_killed_mid_way_resumes_to_the_complete_set() {
    let dir = scratch("resume");
    let music = collection(&dir, &["classical", "country", "disco", "hiphop"], 3);
    let out = dir.join("out");
    let mut worker = genreid()
        .args(["classify", "--part-rows", "1", "-j", "1", "--out"])
        .arg(&out)
        .arg(&music)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let parts = |out: &Path| -> usize {
        std::fs::read_dir(out).map_or(0, |d| {
            d.filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("part-")).count()
        })
    };
    while parts(&out) < 3 {
        assert!(started.elapsed() < Duration::from_secs(120), "no parts written");
        assert!(worker.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    worker.kill().unwrap(); // SIGKILL
    worker.wait().unwrap();
    let before = rows(&out);
    assert!(before.len() >= 3 && before.len() < 13, "{} rows before resuming", before.len());

    let output = run(genreid().args(["classify", "--resume", "--out"]).arg(&out).arg(&music));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("skipped {} already in", before.len())), "{stderr}");
    let after = rows(&out);
    let paths: Vec<&String> = after.iter().map(|r| &r["path"]).collect();
    let mut unique = paths.clone();
    unique.dedup();
    assert_eq!(unique.len(), paths.len(), "no duplicates");
    assert_eq!(after.len(), 13, "every input once");
    for row in &before {
        assert!(after.contains(row), "rows written before the kill are kept as they were");
    }

    // Nothing left to do: a second resume writes nothing.
    let output = run(genreid().args(["classify", "--resume", "--out"]).arg(&out).arg(&music));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("classified 0, failed 0, skipped 13"), "{stderr}");
    assert_eq!(rows(&out).len(), 13);
}

#[test]
fn a_manifest_names_the_inputs_and_embeddings_are_rows() {
    let dir = scratch("manifest");
    let music = collection(&dir, &["pop", "reggae"], 2);
    let list = dir.join("list.csv");
    let files = [music.join("pop/pop.00001.flac"), music.join("reggae/reggae.00000.flac")];
    let text = format!("title,path\na,{}\nb,{}\n", files[0].display(), files[1].display());
    std::fs::write(&list, text).unwrap();
    let out = dir.join("e.parquet");
    let output = run(genreid()
        .args(["classify", "--embedding", "penultimate", "--files-from"])
        .arg(&list)
        .arg("--out")
        .arg(&out));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let got = rows(&out);
    assert_eq!(got.len(), 2);
    for row in &got {
        let values: Vec<f32> =
            row["embedding"].trim_matches(['[', ']']).split(',').map(|v| v.parse().unwrap()).collect();
        assert_eq!(values.len(), 200, "musicnn's penultimate layer");
        assert!(values.iter().all(|v| v.is_finite()) && values.iter().any(|&v| v != 0.0));
        assert!(row["tags"].contains("rock="), "a tagger's tags are a column");
    }

    // Resuming into one file keeps its rows and rewrites it only with new ones;
    // rows of another model are never mixed into it.
    let output = run(genreid()
        .args(["classify", "--embedding", "penultimate", "--resume", "--files-from"])
        .arg(&list)
        .arg("--out")
        .arg(&out));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && err.contains("classified 0, failed 0, skipped 2"), "{err}");
    assert_eq!(rows(&out), got);
    let output = run(genreid()
        .args(["classify", "--model", "mtt-musicnn", "--embedding", "penultimate", "--resume"])
        .arg(music.join("pop"))
        .arg("--out")
        .arg(&out));
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("name a new file"), "{err}");
    assert_eq!(rows(&out), got, "the file is untouched");
    // A manifest's paths shard by the text written in it.
    let output =
        run(genreid().args(["classify", "--shard", "3/3", "--files-from"]).arg(&list).arg("--out").arg(&out));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("expected K/N"));
}
