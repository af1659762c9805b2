//! The spectrogram cache: each track's picture computed once (in parallel)
//! and stored on disk under a key of every setting that shaped it and of the
//! files themselves (path, size, modification time), so the next experiment
//! on the same data starts at once. Training reads segments straight from
//! the file with positioned reads: memory holds one batch, never the set.
//!
//! Layout: `KEY.f32` (each track's `[frames, bins]` little-endian `f32`,
//! time-major, one after another) and `KEY.json` (the index), both written to
//! temporary names and renamed, the index last, so a killed build leaves no
//! half cache behind.

use std::fs::File;
use std::path::{Path, PathBuf};

use genreid_audio::{LoadOptions, load};
use genreid_features::input::cut_segment;
use genreid_features::{Augmentation, SpectrogramInput};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::Track;
use crate::{DataError, Result};

/// Tracks decoded per parallel batch while building (bounds memory).
const BUILD_CHUNK: usize = 32;

/// Where caches live: `$GENREID_CACHE`, else `$XDG_CACHE_HOME/genreid`, else
/// `~/.cache/genreid`, else the system's temporary folder.
pub fn default_dir() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("GENREID_CACHE")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("genreid")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/genreid")))
        .unwrap_or_else(|| std::env::temp_dir().join("genreid-cache"))
}

/// 64-bit FNV-1a: stable across platforms and Rust versions, unlike std's
/// hasher, so cache names survive upgrades.
pub fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// FNV-1a's starting value.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// A key naming exactly these files (absolute path, size, modification time)
/// under `settings`.
pub fn files_key(settings: &str, files: &[&Path]) -> Result<String> {
    let mut hash = fnv1a(settings.as_bytes(), FNV_OFFSET);
    for f in files {
        let meta = std::fs::metadata(f)
            .map_err(|e| DataError::Read { path: f.to_path_buf(), reason: e.to_string() })?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let absolute = std::fs::canonicalize(f).unwrap_or_else(|_| f.to_path_buf());
        hash = fnv1a(format!("{}\0{}\0{modified}\0", absolute.display(), meta.len()).as_bytes(), hash);
    }
    Ok(format!("{hash:016x}"))
}

/// Where one track's picture lies in the cache file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// Frames of the track.
    pub frames: usize,
    /// Byte offset in the data file.
    pub offset: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Index {
    input: SpectrogramInput,
    augmentation: Option<Augmentation>,
    max_seconds: f64,
    bins: usize,
    entries: Vec<Option<CacheEntry>>,
    failures: Vec<(PathBuf, String)>,
}

/// An open spectrogram cache for one list of tracks.
#[derive(Debug)]
pub struct SpectrogramCache {
    /// The settings of every picture.
    pub input: SpectrogramInput,
    /// Rows per frame.
    pub bins: usize,
    /// Tracks that could not be decoded, with why (their entries are `None`).
    pub failures: Vec<(PathBuf, String)>,
    /// Whether the pictures came from an earlier run.
    pub reused: bool,
    /// The data file.
    pub path: PathBuf,
    entries: Vec<Option<CacheEntry>>,
    file: File,
}

impl SpectrogramCache {
    /// Opens the cache of `tracks` under `input` in `dir`, building it first
    /// when absent. Audio is resampled to the input's rate and cut at
    /// `max_seconds`; with `augmentation`, entry `i` is the track's audio
    /// transformed with seed `i` (list a track several times for several
    /// copies). `progress(done, total)` is called as tracks finish.
    pub fn open_or_build(
        dir: &Path,
        tracks: &[Track],
        input: &SpectrogramInput,
        max_seconds: f64,
        augmentation: Option<&Augmentation>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Self> {
        input
            .validate()
            .map_err(|e| DataError::Dataset { spec: format!("{input:?}"), reason: e.to_string() })?;
        let settings = format!(
            "genreid-spectrograms-v1 {} {max_seconds} {}",
            serde_json::to_string(input).unwrap_or_default(),
            serde_json::to_string(&augmentation).unwrap_or_default()
        );
        let paths: Vec<&Path> = tracks.iter().map(|t| t.path.as_path()).collect();
        let key = files_key(&settings, &paths)?;
        let data_path = dir.join(format!("{key}.f32"));
        let index_path = dir.join(format!("{key}.json"));
        if let Ok(text) = std::fs::read(&index_path)
            && let Ok(index) = serde_json::from_slice::<Index>(&text)
            && index.entries.len() == tracks.len()
            && let Ok(file) = File::open(&data_path)
        {
            progress(tracks.len(), tracks.len());
            return Ok(Self {
                input: index.input,
                bins: index.bins,
                failures: index.failures,
                reused: true,
                path: data_path,
                entries: index.entries,
                file,
            });
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| DataError::Read { path: dir.to_path_buf(), reason: e.to_string() })?;
        let index = build(tracks, input, max_seconds, augmentation, &data_path, progress)?;
        let json = serde_json::to_vec(&index)
            .map_err(|e| DataError::Invalid { path: index_path.clone(), reason: e.to_string() })?;
        genreid_core::write_bytes_atomic(&index_path, &json)
            .map_err(|e| DataError::Read { path: index_path.clone(), reason: e.to_string() })?;
        let file = File::open(&data_path)
            .map_err(|e| DataError::Read { path: data_path.clone(), reason: e.to_string() })?;
        Ok(Self {
            input: index.input,
            bins: index.bins,
            failures: index.failures,
            reused: false,
            path: data_path,
            entries: index.entries,
            file,
        })
    }

    /// Track `i`'s place in the cache (`None`: it could not be decoded).
    pub fn entry(&self, i: usize) -> Option<CacheEntry> {
        self.entries.get(i).copied().flatten()
    }

    /// Reads frames `start..start + frames` of track `i` into `out`
    /// (`[frames, bins]`, min-max normalised; a short track repeats).
    pub fn segment(&self, i: usize, start: usize, frames: usize, out: &mut Vec<f32>) -> Result<()> {
        let entry = self.entry(i).ok_or_else(|| DataError::Invalid {
            path: self.path.clone(),
            reason: format!("track {i} has no picture"),
        })?;
        let (read_start, read_frames) =
            if start + frames <= entry.frames { (start, frames) } else { (0, entry.frames) };
        let mut bytes = vec![0u8; read_frames * self.bins * 4];
        let offset = entry.offset + (read_start * self.bins * 4) as u64;
        read_at(&self.file, &mut bytes, offset)
            .map_err(|e| DataError::Read { path: self.path.clone(), reason: e.to_string() })?;
        let values: Vec<f32> =
            bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let start_in = if read_start == start { 0 } else { start };
        cut_segment(&values, self.bins, start_in, frames, self.input.normalized(), out);
        Ok(())
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(file, buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

/// One track's time-major picture, or why it could not be made.
fn picture(
    track: &Track,
    input: &SpectrogramInput,
    max_seconds: f64,
    augmentation: Option<(&Augmentation, u64)>,
) -> std::result::Result<Vec<f32>, String> {
    let options = LoadOptions { sample_rate: Some(input.sample_rate), max_seconds, ..Default::default() };
    let signal = load(&track.path, &options).map_err(|e| e.to_string())?;
    if signal.is_empty() {
        return Err(format!("{}: no audio samples", track.path.display()));
    }
    let samples = match augmentation {
        Some((a, seed)) => a
            .apply(&signal.samples, input.sample_rate, seed)
            .map_err(|e| format!("{}: augmentation: {e}", track.path.display()))?,
        None => signal.samples,
    };
    let m = input.compute(&samples).map_err(|e| format!("{}: {e}", track.path.display()))?;
    let [bins, frames] = m.shape();
    let mut out = vec![0.0f32; bins * frames];
    genreid_features::matrix::transpose(&m.data, bins, frames, &mut out);
    Ok(out)
}

fn build(
    tracks: &[Track],
    input: &SpectrogramInput,
    max_seconds: f64,
    augmentation: Option<&Augmentation>,
    data_path: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Index> {
    use std::io::Write;
    let io = |e: std::io::Error| DataError::Read { path: data_path.to_path_buf(), reason: e.to_string() };
    let bins = input.bins();
    let (mut entries, mut failures, mut offset) = (Vec::with_capacity(tracks.len()), Vec::new(), 0u64);
    let done = std::sync::atomic::AtomicUsize::new(0);
    genreid_core::write_atomic(data_path, |out| {
        for (c, chunk) in tracks.chunks(BUILD_CHUNK).enumerate() {
            let pictures: Vec<_> = chunk
                .par_iter()
                .enumerate()
                .map(|(j, t)| {
                    let seed = (c * BUILD_CHUNK + j) as u64;
                    let p = picture(t, input, max_seconds, augmentation.map(|a| (a, seed)));
                    progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1, tracks.len());
                    p
                })
                .collect();
            for (track, picture) in chunk.iter().zip(pictures) {
                match picture {
                    Ok(values) => {
                        let frames = values.len() / bins;
                        for v in &values {
                            out.write_all(&v.to_le_bytes())?;
                        }
                        entries.push(Some(CacheEntry { frames, offset }));
                        offset += (values.len() * 4) as u64;
                    }
                    Err(reason) => {
                        entries.push(None);
                        failures.push((track.path.clone(), reason));
                    }
                }
            }
        }
        Ok(())
    })
    .map_err(io)?;
    Ok(Index {
        input: input.clone(),
        augmentation: augmentation.cloned(),
        max_seconds,
        bins,
        entries,
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use genreid_features::InputKind;

    fn write_wav(path: &Path, seconds: f32) {
        let sr = 22_050u32;
        let n = (seconds * sr as f32) as usize;
        let mut bytes = Vec::new();
        let data_len = (n * 2) as u32;
        bytes.extend_from_slice(b"RIFF");
        bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
        bytes.extend_from_slice(b"WAVEfmt ");
        bytes.extend_from_slice(&16u32.to_le_bytes());
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.extend_from_slice(&sr.to_le_bytes());
        bytes.extend_from_slice(&(sr * 2).to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&16u16.to_le_bytes());
        bytes.extend_from_slice(b"data");
        bytes.extend_from_slice(&data_len.to_le_bytes());
        for i in 0..n {
            let v = ((i as f32 * 0.05).sin() * 8000.0) as i16;
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn builds_reuses_and_reports_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a.wav");
        let bad = dir.path().join("b.wav");
        write_wav(&good, 2.0);
        std::fs::write(&bad, b"RIFF garbage").unwrap();
        let tracks: Vec<Track> = [&good, &bad]
            .iter()
            .map(|p| Track {
                path: p.to_path_buf(),
                label: "x".into(),
                artist: None,
                part: None,
                tags: vec![],
            })
            .collect();
        let input = SpectrogramInput::new(InputKind::Mel);
        let cache_dir = dir.path().join("cache");
        let cache =
            SpectrogramCache::open_or_build(&cache_dir, &tracks, &input, 60.0, None, &|_, _| {}).unwrap();
        assert!(!cache.reused);
        assert_eq!(cache.failures.len(), 1);
        assert!(cache.failures[0].1.contains("b.wav"), "{:?}", cache.failures);
        assert_eq!(cache.entry(0).unwrap().frames, 87);
        let mut seg = Vec::new();
        cache.segment(0, 0, 44, &mut seg).unwrap();
        assert_eq!(seg.len(), 44 * 128);
        let expected = input.compute(&load(&good, &LoadOptions::default()).unwrap().samples).unwrap();
        let mut direct = vec![0.0; expected.data.len()];
        genreid_features::matrix::transpose(&expected.data, 128, 87, &mut direct);
        let mut want = Vec::new();
        cut_segment(&direct, 128, 0, 44, true, &mut want);
        assert_eq!(seg, want);
        // Asking past the end repeats the track.
        cache.segment(0, 80, 44, &mut seg).unwrap();
        assert_eq!(seg.len(), 44 * 128);
        assert!(cache.segment(1, 0, 44, &mut seg).is_err());
        let again =
            SpectrogramCache::open_or_build(&cache_dir, &tracks, &input, 60.0, None, &|_, _| {}).unwrap();
        assert!(again.reused);
        assert_eq!(again.failures.len(), 1);
    }
}
