//! Turning the paths a user gives into the list of audio files to process.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::{DataError, Result};

/// An audio file found under one of the paths a user gave, with its name
/// relative to that path: what batch runs shard on, the same on every
/// machine whatever the place the collection is mounted at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFile {
    /// The file, as it can be opened.
    pub path: PathBuf,
    /// Its path below the folder it was found in, `/`-separated; a file
    /// given by itself is its own name.
    pub relative: String,
}

/// Expands files and folders into audio files: a file is taken as given
/// (even with an unusual extension), a folder is walked recursively for
/// files with an audio extension, sorted by path so output order is stable.
pub fn audio_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    Ok(found_audio_files(paths)?.into_iter().map(|f| f.path).collect())
}

/// [`audio_files`], each with its name relative to the path it was found under.
///
/// One path of several that cannot be read, and a subfolder that cannot
/// be walked, are kept in the list as they are: processing them fails with
/// the system's reason, and they are reported like any bad file while the
/// rest are processed. A single path that cannot be read is an error.
pub fn found_audio_files(paths: &[PathBuf]) -> Result<Vec<FoundFile>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if paths.len() == 1 => {
                return Err(DataError::Read { path: path.clone(), reason: format!("cannot access: {e}") });
            }
            Err(_) => {
                files.push(FoundFile { path: path.clone(), relative: relative_name(path) });
                continue;
            }
        };
        if meta.is_dir() {
            let mut found: Vec<FoundFile> = WalkDir::new(path)
                .follow_links(true)
                .into_iter()
                .filter_map(|entry| match entry {
                    Ok(entry) => (entry.file_type().is_file() && genreid_audio::is_audio_path(entry.path()))
                        .then(|| entry.into_path()),
                    // An unreadable subfolder: kept, to be reported.
                    Err(e) => e.path().map(Path::to_path_buf),
                })
                .map(|found| {
                    let relative = relative_name(found.strip_prefix(path).unwrap_or(&found));
                    FoundFile { path: found, relative }
                })
                .collect();
            found.sort_by(|a, b| a.path.cmp(&b.path));
            files.extend(found);
        } else {
            let name =
                path.file_name().map_or_else(|| relative_name(path), |n| n.to_string_lossy().into_owned());
            files.push(FoundFile { path: path.clone(), relative: name });
        }
    }
    if files.is_empty() {
        let shown = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        return Err(DataError::NoAudio(shown));
    }
    Ok(files)
}

/// `path` as text for records (JSON, CSV, Parquet): as it is when it is
/// UTF-8; otherwise each byte that is not UTF-8 written `\xNN`, so two
/// names that differ only there stay distinct and the bytes can be
/// recovered (where `to_string_lossy` would make both U+FFFD).
pub fn path_text(path: &Path) -> String {
    if let Some(text) = path.to_str() {
        return text.to_string();
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut text = String::new();
        for chunk in path.as_os_str().as_bytes().utf8_chunks() {
            text.push_str(chunk.valid());
            for byte in chunk.invalid() {
                text.push_str(&format!("\\x{byte:02X}"));
            }
        }
        text
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned()
    }
}

/// `path`'s components joined by `/`, whatever the platform's separator.
pub fn relative_name(path: &Path) -> String {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The name of the folder holding `path` (the label of GTZAN-style trees).
pub fn parent_name(path: &Path) -> String {
    path.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(all(test, unix))]
mod path_text_tests {
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    #[test]
    fn names_that_are_not_utf8_keep_their_bytes() {
        let name = Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9 \xff.mp3"));
        assert_eq!(path_text(name), "caf\\xE9 \\xFF.mp3");
        assert_eq!(path_text(Path::new("café.mp3")), "café.mp3");
    }
}
