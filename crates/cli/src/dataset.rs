//! `--dataset DIR`: a feature table computed from a folder-per-genre audio
//! tree on the way, and cached so the next command on the same files reads
//! it back instead of decoding everything again.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use genreid_data::FeatureTable;

use crate::features_cmd::{TableOptions, compute_table};
use crate::table::{TableFormat, read_feature_table, write_table};
use crate::walk::audio_files;

/// Where cached tables live: `$GENREID_CACHE`, else `$XDG_CACHE_HOME/genreid`,
/// else `~/.cache/genreid`, else the system's temporary folder.
fn cache_dir() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("GENREID_CACHE")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("genreid")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/genreid")))
        .unwrap_or_else(|| std::env::temp_dir().join("genreid-cache"))
}

/// 64-bit FNV-1a: stable across platforms and Rust versions, unlike std's
/// hasher, so cache names survive upgrades.
fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A key naming the table of exactly these files (path, size, modification
/// time) computed with exactly these options.
fn cache_key(files: &[PathBuf], options: &TableOptions) -> Result<String> {
    let mut hash = fnv1a(format!("genreid-table-v1 {options:?}").as_bytes(), 0xcbf2_9ce4_8422_2325);
    for f in files {
        let meta = std::fs::metadata(f).with_context(|| format!("{}: cannot access", f.display()))?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let absolute = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
        hash = fnv1a(format!("{}\0{}\0{modified}\0", absolute.display(), meta.len()).as_bytes(), hash);
    }
    Ok(format!("{hash:016x}"))
}

/// The feature table of the audio under `dir` (labels from parent folders),
/// from the cache when these files were seen with these options before.
pub fn dataset_table(dir: &Path, options: &TableOptions, jobs: Option<usize>) -> Result<FeatureTable> {
    let files = audio_files(&[dir.to_path_buf()])?;
    let cached = cache_dir().join("tables").join(format!("{}.csv", cache_key(&files, options)?));
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
    } else if let Err(e) = write_table(&cached, TableFormat::Csv, &table) {
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
