//! Turning the paths a user gives into the list of audio files to process.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::{DataError, Result};

/// Expands files and folders into audio files: a file is taken as given
/// (even with an unusual extension), a folder is walked recursively for
/// files with an audio extension, sorted by path so output order is stable.
pub fn audio_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| DataError::Read { path: path.clone(), reason: format!("cannot access: {e}") })?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = WalkDir::new(path)
                .follow_links(true)
                .into_iter()
                .filter_map(|entry| entry.ok())
                .filter(|entry| entry.file_type().is_file() && genreid_audio::is_audio_path(entry.path()))
                .map(|entry| entry.into_path())
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        let shown = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        return Err(DataError::NoAudio(shown));
    }
    Ok(files)
}

/// The name of the folder holding `path` (the label of GTZAN-style trees).
pub fn parent_name(path: &Path) -> String {
    path.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
