//! `--dataset DIR`: a feature table computed from a folder-per-genre audio
//! tree on the way, and cached so the next command on the same files reads
//! it back instead of decoding everything again.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use genreid_data::FeatureTable;
use genreid_data::cache::{default_dir, files_key};

use crate::features_cmd::{TableOptions, compute_table};
use crate::table::{TableFormat, read_feature_table, write_table};
use genreid_data::audio_files;

/// A key naming the table of exactly these files (path, size, modification
/// time) computed with exactly these options.
fn cache_key(files: &[PathBuf], options: &TableOptions) -> Result<String> {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    Ok(files_key(&format!("genreid-table-v1 {options:?}"), &paths)?)
}

/// The feature table of the audio under `dir` (labels from parent folders),
/// from the cache when these files were seen with these options before.
pub fn dataset_table(dir: &Path, options: &TableOptions, jobs: Option<usize>) -> Result<FeatureTable> {
    let files = audio_files(&[dir.to_path_buf()])?;
    let cached = default_dir().join("tables").join(format!("{}.csv", cache_key(&files, options)?));
    if cached.exists() {
        match read_feature_table(&cached) {
            Ok(table) => {
                eprintln!("features of {} files from the cache ({})", files.len(), cached.display());
                return Ok(table);
            }
            Err(e) => eprintln!("warning: ignoring unreadable cache {}: {e:#}", cached.display()),
        }
    }
    let (table, failed) = compute_table(&files, options, jobs)?;
    if table.filenames.is_empty() {
        bail!("{}: none of the {} audio files could be read", dir.display(), files.len());
    }
    if failed > 0 {
        eprintln!("warning: {failed} of {} files skipped; the table is not cached", files.len());
    } else if let Err(e) = cached
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .map_err(anyhow::Error::from)
        .and_then(|()| write_table(&cached, TableFormat::Csv, &table))
    {
        eprintln!("warning: cannot cache the table: {e:#}");
    }
    Ok(FeatureTable {
        columns: table.columns,
        names: table.filenames,
        labels: table.labels,
        rows: table.values,
        artists: None,
    })
}
