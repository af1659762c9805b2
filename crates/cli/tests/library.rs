//! A real music library as a test: nested folders with non-ASCII names,
//! every format of `shared/fixtures/formats` (some with a person's genre
//! and cover art, some without), a WMA file and a damaged copy of each
//! container. `classify` gives a verdict for every decodable file and a
//! clear error for the rest; `tag` fills only empty genres, leaves every
//! file's audio bit-identical and the cover art in place; `tag --undo`
//! gives back every byte.

use std::path::{Path, PathBuf};
use std::process::Command;

use genreid_tagging::{audio_digest, format_of};
use genreid_testkit::shared;

fn genreid() -> Command {
    Command::new(env!("CARGO_BIN_EXE_genreid"))
}

struct File {
    path: PathBuf,
    original: Vec<u8>,
    /// The source it was encoded from decodes cleanly (not WMA, not damaged).
    decodable: bool,
    /// A genre a person wrote before genreid came.
    own_genre: bool,
}

/// Builds the library under `root`.
fn library(root: &Path) -> Vec<File> {
    let formats = shared().join("fixtures/formats");
    let clean = [
        ("source.wav", "Ünïcode Artist/Fïrst Album/01 source.wav"),
        ("aac.m4a", "Ünïcode Artist/Fïrst Album/02 Grüße aus Köln.m4a"),
        ("alac.m4a", "Ünïcode Artist/Fïrst Album/03 lossless.m4a"),
        ("opus.opus", "Ünïcode Artist/Downloads/曲 — video.opus"),
        ("opus.webm", "Ünïcode Artist/Downloads/clip.webm"),
        ("aiff.aiff", "Studio/exports/mix.aiff"),
        ("caf.caf", "Studio/exports/mix.caf"),
        ("flac.mka", "Archive/flac.mka"),
        ("aac_tagged.m4a", "Tagged/Prog/aac_tagged.m4a"),
        ("opus_tagged.opus", "Tagged/Prog/opus_tagged.opus"),
    ];
    let mut files = Vec::new();
    let mut put = |relative: &str, bytes: Vec<u8>, decodable: bool, own_genre: bool| {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        files.push(File { path, original: bytes, decodable, own_genre });
    };
    for (name, relative) in clean {
        let bytes = std::fs::read(formats.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        put(relative, bytes, true, name.contains("tagged"));
    }
    put("Old Windows rips/track 01.wma", std::fs::read(formats.join("wma.wma")).unwrap(), false, false);
    // A damaged copy of each container: cut off after a third of its bytes.
    for name in ["aac.m4a", "alac.m4a", "opus.opus", "opus.webm", "aiff.aiff", "caf.caf", "flac.mka"] {
        let bytes = std::fs::read(formats.join(name)).unwrap();
        put(&format!("Damaged/cut {name}"), bytes[..bytes.len() / 3].to_vec(), false, false);
    }
    files
}

/// The genre in any of the file's tags (a WAV with a RIFF INFO list gets
/// its genre there, `IGNR`, rather than in ID3v2).
fn genre_of(path: &Path) -> Option<String> {
    use lofty::prelude::{Accessor, TaggedFileExt};
    let file = lofty::read_from_path(path).ok()?;
    file.tags().iter().find_map(|t| t.genre().map(|g| g.into_owned()))
}

fn pictures(path: &Path) -> usize {
    use lofty::prelude::TaggedFileExt;
    lofty::read_from_path(path).ok().and_then(|f| f.primary_tag().map(|t| t.pictures().len())).unwrap_or(0)
}

#[test]
fn a_real_library_is_classified_tagged_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("Music");
    let files = library(&root);

    // classify: a verdict for every decodable file, the source's verdict for
    // every encoding of it, and a clear error for the rest.
    let output = genreid().args(["classify", "--format", "json"]).arg(&root).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let records: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&output.stdout)));
    let records = records.as_array().unwrap();
    let record = |path: &Path| {
        records
            .iter()
            .find(|r| Path::new(r["path"].as_str().unwrap()) == path)
            .unwrap_or_else(|| panic!("no record for {}: {stderr}", path.display()))
    };
    let source_genre = record(&files[0].path)["genre"].as_str().unwrap().to_string();
    for file in &files {
        let r = record(&file.path);
        if file.decodable {
            assert_eq!(r["genre"].as_str(), Some(source_genre.as_str()), "{}: {r}", file.path.display());
        } else if let Some(error) = r["error"].as_str() {
            assert!(!error.is_empty() && !error.contains("panicked"), "{}: {error}", file.path.display());
        } else {
            // A damaged copy may still give a verdict, saying what is wrong.
            let warnings = r["warnings"].as_array().unwrap();
            assert!(!warnings.is_empty(), "{}: a cut file without a warning: {r}", file.path.display());
        }
    }
    let wma = record(&root.join("Old Windows rips/track 01.wma"));
    let error = wma["error"].as_str().unwrap();
    assert!(error.contains("WMA") && error.contains("not supported"), "{error}");
    assert_eq!(output.status.code(), Some(1), "a failed file gives status 1");

    // tag: only empty genres are filled; a person's genre stays.
    let journal = dir.path().join("journal.jsonl");
    let output = genreid()
        .args(["tag", "--min-confidence", "0", "--journal"])
        .arg(&journal)
        .arg(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let display = genreid_tagging::display_genre(&source_genre);
    for file in &files {
        let bytes = std::fs::read(&file.path).unwrap();
        let name = file.path.display();
        match format_of(&file.original) {
            Ok(format) if file.decodable => {
                // Taggable and decodable: tagged, or left alone with its own genre.
                assert_eq!(
                    audio_digest(format, &bytes),
                    audio_digest(format, &file.original),
                    "{name}: audio moved"
                );
                let want = if file.own_genre { "Progressive Rock".to_string() } else { display.clone() };
                assert_eq!(genre_of(&file.path), Some(want), "{name}\n{stdout}\n{stderr}");
                if file.own_genre {
                    assert!(bytes == file.original, "{name}: a person's genre was rewritten");
                }
            }
            _ if file.decodable => {
                // CAF and Matroska: decoded, not tagged, and said so.
                assert!(bytes == file.original, "{name}: an untaggable file changed");
                let file_name = file.path.file_name().unwrap().to_string_lossy().into_owned();
                assert!(
                    stderr.contains(&file_name) && stderr.contains("not tagged by genreid"),
                    "{name}: {stderr}"
                );
            }
            _ => {
                if let Ok(format) = format_of(&bytes) {
                    assert_eq!(audio_digest(format, &bytes), audio_digest(format, &file.original), "{name}");
                }
            }
        }
    }
    assert_eq!(pictures(&root.join("Tagged/Prog/aac_tagged.m4a")), 1, "cover art kept");

    // undo: every byte back.
    let undo = genreid().args(["tag", "--undo"]).arg(&journal).output().unwrap();
    assert!(undo.status.success(), "{}", String::from_utf8_lossy(&undo.stderr));
    for file in &files {
        assert!(std::fs::read(&file.path).unwrap() == file.original, "{} not restored", file.path.display());
    }
}
