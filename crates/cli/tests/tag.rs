//! End-to-end tests of `genreid tag`: real files, the real binary, kill -9.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use genreid_tagging::{Digest, audio_digest, format_of, read_journal, temp_path};
use genreid_testkit::shared;

fn genreid() -> Command {
    Command::new(env!("CARGO_BIN_EXE_genreid"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genreid-tag-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Copies (content only: the shared files are read-only) a small library of
/// every taggable format: the audio fixtures and some FMA MP3s.
fn library(dir: &Path, fma: usize) -> Vec<(PathBuf, Vec<u8>)> {
    let fixtures = shared().join("fixtures/audio");
    let mut sources: Vec<PathBuf> = [
        "metal_muldjord_chaos_god.wav",
        "rock_sectoid_escape_from_chaosland_stereo44k.flac",
        "rock_sectoid_escape_from_chaosland_stereo44k_q4.ogg",
        "rock_sectoid_escape_from_chaosland_stereo44k_128k.mp3",
        "full_wesnoth_battle_epic.ogg",
        "asc_machine_wars_orig22k_cut.mp3",
    ]
    .iter()
    .map(|name| fixtures.join(name))
    .collect();
    let fma_dir = shared().join("data/fma/fma_small/000");
    let mut mp3s: Vec<PathBuf> = std::fs::read_dir(&fma_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", fma_dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    mp3s.sort();
    sources.extend(mp3s.into_iter().take(fma));
    sources
        .iter()
        .map(|source| {
            let bytes = std::fs::read(source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
            let to = dir.join(source.file_name().unwrap());
            std::fs::write(&to, &bytes).unwrap();
            (to, bytes)
        })
        .collect()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn genre_of(path: &Path) -> Option<String> {
    use lofty::prelude::{Accessor, TaggedFileExt};
    let file = lofty::read_from_path(path).unwrap();
    file.primary_tag().and_then(|t| t.genre().map(|g| g.into_owned()))
}

#[test]
fn tag_writes_the_verdict_keeps_timestamps_resumes_and_undoes() {
    let dir = scratch("e2e");
    let lib = dir.join("music");
    std::fs::create_dir_all(&lib).unwrap();
    let files = library(&lib, 3);
    // A file that is not audio and a read-only one: reported and skipped.
    std::fs::write(lib.join("broken.mp3"), b"ID3 this is not an mp3").unwrap();
    let locked = &files[1].0;
    let mut permissions = std::fs::metadata(locked).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(locked, permissions).unwrap();
    // A temporary file left by a run killed mid-write.
    std::fs::write(temp_path(&files[0].0), b"half-written").unwrap();
    let journal = dir.join("journal.jsonl");
    let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let old_mtime = mtime(&files[0].0);
    std::thread::sleep(Duration::from_millis(20));

    // Dry run: a plan, and not one byte written.
    let dry = genreid()
        .args([
            "tag",
            "--model",
            "gtzan57-logreg",
            "--mode",
            "replace",
            "--min-confidence",
            "0",
            "--dry-run",
            "--journal",
        ])
        .arg(&journal)
        .arg(&lib)
        .output()
        .unwrap();
    assert!(stdout(&dry).contains("would change"), "{}", stdout(&dry));
    for (path, bytes) in &files {
        assert!(&std::fs::read(path).unwrap() == bytes, "dry run wrote {}", path.display());
    }
    assert!(!journal.exists());

    let run = || {
        genreid()
            .args([
                "tag",
                "--model",
                "gtzan57-logreg",
                "--mode",
                "replace",
                "--min-confidence",
                "0",
                "--with-confidence",
                "--journal",
            ])
            .arg(&journal)
            .arg(&lib)
            .output()
            .unwrap()
    };
    let first = run();
    let text = stdout(&first);
    assert_eq!(first.status.code(), Some(1), "failures give status 1: {text}");
    let errors = String::from_utf8_lossy(&first.stderr);
    assert!(errors.contains("broken.mp3") && errors.contains("read-only"), "{errors}");
    assert!(text.contains(&format!("{} changed", files.len() - 1)), "{text}");

    // Each written genre is the verdict of `classify` with the same model.
    let verdicts = genreid()
        .args(["classify", "--model", "gtzan57-logreg", "--format", "json"])
        .args(files.iter().map(|(p, _)| p))
        .output()
        .unwrap();
    let verdicts: serde_json::Value = serde_json::from_slice(&verdicts.stdout).unwrap();
    for (i, (path, original)) in files.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let format = format_of(&bytes).unwrap();
        assert_eq!(audio_digest(format, &bytes), audio_digest(format, original), "{}", path.display());
        if path == locked {
            assert!(&bytes == original, "read-only file changed");
            continue;
        }
        let label = verdicts[i]["genre"].as_str().unwrap();
        assert_eq!(genre_of(path).as_deref(), Some(genreid_tagging::display_genre(label).as_str()));
    }
    assert_eq!(mtime(&files[0].0), old_mtime, "modification time kept");
    assert!(!temp_path(&files[0].0).exists(), "stale temporary file replaced and renamed");

    // Second run: nothing to do, nothing written.
    let tagged: Vec<Vec<u8>> = files.iter().map(|(p, _)| std::fs::read(p).unwrap()).collect();
    let second = run();
    assert!(stdout(&second).contains("done before"), "{}", stdout(&second));
    assert!(!stdout(&second).contains(" changed "), "{}", stdout(&second));
    for ((path, _), bytes) in files.iter().zip(&tagged) {
        assert!(&std::fs::read(path).unwrap() == bytes, "{} rewritten", path.display());
    }

    // Undo: every file back to its original bytes and timestamps.
    let undo = genreid().args(["tag", "--undo"]).arg(&journal).output().unwrap();
    assert!(undo.status.success(), "{}", String::from_utf8_lossy(&undo.stderr));
    assert!(stdout(&undo).contains(&format!("{} restored", files.len() - 1)), "{}", stdout(&undo));
    for (path, original) in &files {
        assert!(&std::fs::read(path).unwrap() == original, "{} not restored", path.display());
    }
    assert_eq!(mtime(&files[0].0), old_mtime);
    let _ = std::fs::remove_dir_all(&dir);
}

/// By default a person's own genre is kept, weak verdicts are not written,
/// and audio that cannot be judged (silence, a single sample) gets no tag;
/// `--mode replace` is needed to overwrite, and the summary says why each
/// file was left alone.
#[test]
fn tag_defaults_protect_peoples_own_genres() {
    let dir = scratch("defaults");
    let lib = dir.join("music");
    std::fs::create_dir_all(&lib).unwrap();
    let files = library(&lib, 4);
    let wav = |samples: &[i16]| {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut h = b"RIFF".to_vec();
        h.extend((36 + data.len() as u32).to_le_bytes());
        h.extend(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
        h.extend(22_050u32.to_le_bytes());
        h.extend(44_100u32.to_le_bytes());
        h.extend(b"\x02\0\x10\0data");
        h.extend((data.len() as u32).to_le_bytes());
        h.extend(data);
        h
    };
    std::fs::write(lib.join("silence.wav"), wav(&vec![0; 22_050 * 10])).unwrap();
    std::fs::write(lib.join("one.wav"), wav(&[3000])).unwrap();
    let own: Vec<(PathBuf, String)> =
        files.iter().filter_map(|(p, _)| genre_of(p).map(|g| (p.clone(), g))).collect();
    assert!(own.len() >= 4, "the FMA files carry their own genres");
    let journal = dir.join("journal.jsonl");
    let out = genreid().args(["tag", "--journal"]).arg(&journal).arg(&lib).output().unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    for (path, genre) in &own {
        assert_eq!(genre_of(path).as_deref(), Some(genre.as_str()), "{}: own genre replaced", path.display());
    }
    assert!(text.contains(&format!("{} left alone with their own genre", own.len())), "{text}");
    assert!(text.contains("2 left alone: silence or too short to judge"), "{text}");
    for name in ["silence.wav", "one.wav"] {
        assert_eq!(genre_of(&lib.join(name)), None, "{name} was tagged");
    }
    // Files without a genre got the verdict, if it was confident enough.
    let verdicts = genreid().args(["classify", "--format", "json"]).arg(&lib).output().unwrap();
    let verdicts: Vec<serde_json::Value> = serde_json::from_slice(&verdicts.stdout).unwrap();
    let mut written = 0;
    for v in &verdicts {
        let path = PathBuf::from(v["path"].as_str().unwrap());
        if own.iter().any(|(p, _)| *p == path) || !v["warnings"].as_array().unwrap().is_empty() {
            continue;
        }
        let confident = v["probabilities"][v["genre"].as_str().unwrap()].as_f64().unwrap() >= 0.5;
        let tagged = genre_of(&path);
        assert_eq!(tagged.is_some(), confident, "{}: {tagged:?} at {v}", path.display());
        written += usize::from(confident);
    }
    assert!(written > 0, "{text}");
    // Replacing takes an explicit --mode replace.
    let out = genreid()
        .args(["tag", "--mode", "replace", "--min-confidence", "0", "--journal"])
        .arg(&journal)
        .arg(&own[0].0)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_ne!(genre_of(&own[0].0).as_deref(), Some(own[0].1.as_str()), "{}", stdout(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The safety check: `genreid tag` killed with SIGKILL again and
/// again at spread-out moments; after every kill each file is either its
/// original bytes or a complete, journaled, tagged version with the same
/// audio; re-runs finish the job; undo restores every original byte.
#[test]
fn kill_9_in_a_loop_never_damages_a_file() {
    let dir = scratch("kill");
    let lib = dir.join("music");
    std::fs::create_dir_all(&lib).unwrap();
    let files = library(&lib, 14);
    let journal = dir.join("journal.jsonl");
    let spawn = || {
        genreid()
            .args([
                "tag",
                "--model",
                "gtzan57-logreg",
                "--mode",
                "replace",
                "--min-confidence",
                "0",
                "--with-confidence",
                "-j",
                "2",
            ])
            .arg("--journal")
            .arg(&journal)
            .arg(&lib)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let check = |after_kill: &str| -> usize {
        let records = if journal.exists() { read_journal(&journal).unwrap() } else { Vec::new() };
        let mut tagged = 0;
        for (path, original) in &files {
            let bytes = std::fs::read(path).unwrap();
            if &bytes == original {
                continue;
            }
            tagged += 1;
            let digest = Digest::of(&bytes);
            assert!(
                records.iter().any(|r| r.after == digest),
                "{after_kill}: {} is neither original nor a journaled version",
                path.display()
            );
            let format = format_of(&bytes).unwrap();
            assert_eq!(audio_digest(format, &bytes), audio_digest(format, original), "{}", path.display());
        }
        tagged
    };
    let (mut kills, mut mid_run) = (0, 0);
    for step in 0..12u64 {
        let mut child = spawn();
        // 40 ms to 2.2 s: from start-up through classification and writes.
        std::thread::sleep(Duration::from_millis(40 + step * step * 15));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL on Unix
            kills += 1;
        }
        child.wait().unwrap();
        let tagged = check(&format!("after kill at step {step}"));
        mid_run += usize::from(tagged > 0 && tagged < files.len());
    }
    assert!(kills >= 6, "only {kills} runs were still going when killed");
    assert!(mid_run >= 2, "only {mid_run} kills landed while files were being tagged");
    let done = spawn().wait().unwrap();
    assert!(done.success());
    assert_eq!(check("after the final run"), files.len());
    for (path, original) in &files {
        assert!(&std::fs::read(path).unwrap() != original, "{} never tagged", path.display());
        assert!(!temp_path(path).exists(), "temporary file left beside {}", path.display());
    }
    let undo = genreid().args(["tag", "--undo"]).arg(&journal).output().unwrap();
    assert!(undo.status.success(), "{}", String::from_utf8_lossy(&undo.stderr));
    for (path, original) in &files {
        assert!(&std::fs::read(path).unwrap() == original, "{} not restored", path.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The robustness report's case: two `tag` runs over one folder at once
/// (each with its own journal). Every file ends up tagged, and no error
/// names a temporary file: one writer at a time per file, and a run that
/// finds a file changed by the other says so.
#[test]
fn two_tag_runs_over_one_folder_at_once_tag_every_file() {
    let dir = scratch("concurrent");
    let lib = dir.join("music");
    std::fs::create_dir_all(&lib).unwrap();
    let files = library(&lib, 2);
    let run = |journal: &str| {
        genreid()
            .args(["tag", "--model", "gtzan57-logreg", "--min-confidence", "0", "-j", "1", "--journal"])
            .arg(dir.join(journal))
            .arg(&lib)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (run("a.jsonl"), run("b.jsonl"));
    let outputs = [first.wait_with_output().unwrap(), second.wait_with_output().unwrap()];
    for output in &outputs {
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(!err.contains("genreid-tmp"), "an error names a temporary file: {err}");
        assert_ne!(output.status.code(), Some(101), "{err}");
    }
    for (path, _) in &files {
        assert!(genre_of(path).is_some(), "{} is untagged", path.display());
        assert!(!temp_path(path).exists(), "a temporary file was left beside {}", path.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
