//! Playlists that move smoothly, as bliss makes them: from the seeds, each
//! next track is the unplayed one closest to the track before it, pulled a
//! little towards what the seeds share (so the list does not drift off),
//! never a repeat, and optionally never the same artist (or album) as one
//! of the last few tracks.

use std::collections::HashSet;
use std::path::Path;

use super::library::{Library, Track};
use super::search::exact_neighbours;

/// What a playlist keeps apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Spread {
    /// Nothing: only the sound decides.
    #[default]
    None,
    /// No artist twice within the window.
    Artist,
    /// No album twice within the window.
    Album,
}

/// How a playlist is made.
#[derive(Debug, Clone)]
pub struct PlaylistOptions {
    /// Tracks in the list, seeds included.
    pub length: usize,
    /// Weight of the seeds' centroid against the previous track, in `[0, 1)`:
    /// 0 is a pure track-to-track walk.
    pub anchor: f32,
    /// What to keep apart.
    pub spread: Spread,
    /// How many preceding tracks the spread looks back over.
    pub spread_window: usize,
}

impl Default for PlaylistOptions {
    fn default() -> Self {
        Self { length: 20, anchor: 0.25, spread: Spread::None, spread_window: 3 }
    }
}

/// Candidates re-ranked per step (the nearest to the previous track).
const CANDIDATES: usize = 64;

fn spread_key(track: &Track, spread: Spread) -> Option<String> {
    let value = match spread {
        Spread::None => None,
        Spread::Artist => track.artist.as_deref(),
        Spread::Album => track.album.as_deref(),
    };
    value.map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty())
}

/// Two rows that are the same song under two paths (same artist and title).
fn same_song(a: &Track, b: &Track) -> bool {
    let key = |t: &Track| {
        t.artist.as_deref().zip(t.title.as_deref()).map(|(a, t)| (a.to_lowercase(), t.to_lowercase()))
    };
    key(a).is_some() && key(a) == key(b)
}

/// A playlist of library rows starting with `seeds` (rows, in order), and
/// the similarity of each track to the one before it (the first: 1).
pub fn playlist(library: &Library, seeds: &[usize], options: &PlaylistOptions) -> Vec<(usize, f32)> {
    let dim = library.dim;
    // A length beyond the library's size asks for every track.
    let mut list: Vec<(usize, f32)> = Vec::with_capacity(options.length.min(library.len()));
    let mut played: HashSet<usize> = HashSet::new();
    for &seed in seeds {
        if played.insert(seed) && list.len() < options.length {
            let score = list.last().map_or(1.0, |&(last, _)| dot(library.vector(last), library.vector(seed)));
            list.push((seed, score));
        }
    }
    let Some(_) = list.first() else { return list };
    let mut centroid = vec![0f32; dim];
    for &seed in seeds {
        centroid.iter_mut().zip(library.vector(seed)).for_each(|(c, v)| *c += v);
    }
    crate::embed::l2_normalise(&mut centroid);
    let anchor = options.anchor.clamp(0.0, 0.99);
    while list.len() < options.length && played.len() < library.len() {
        let last = list[list.len() - 1].0;
        let recent: Vec<String> = list
            .iter()
            .rev()
            .take(options.spread_window)
            .filter_map(|&(row, _)| spread_key(&library.tracks[row], options.spread))
            .collect();
        let unplayed = |_: usize, row: usize| {
            !played.contains(&row)
                && !played.iter().any(|&p| same_song(&library.tracks[p], &library.tracks[row]))
        };
        let candidates = exact_neighbours(&library.vectors, library.vector(last), dim, CANDIDATES, &unplayed)
            .pop()
            .unwrap_or_default();
        if candidates.is_empty() {
            break;
        }
        let ranked = |allowed: &dyn Fn(usize) -> bool| {
            candidates
                .iter()
                .filter(|n| allowed(n.row))
                .map(|n| {
                    let pull = dot(library.vector(n.row), &centroid);
                    (n.row, n.score, (1.0 - anchor) * n.score + anchor * pull)
                })
                .max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.cmp(&a.0)))
        };
        let spread_ok = |row: usize| {
            spread_key(&library.tracks[row], options.spread).is_none_or(|key| !recent.contains(&key))
        };
        // Where every candidate repeats a recent artist, sound wins over spread.
        let Some((row, score, _)) = ranked(&spread_ok).or_else(|| ranked(&|_| true)) else { break };
        played.insert(row);
        list.push((row, score));
    }
    list
}

/// An extended M3U playlist of library rows (`#EXTINF` with duration and
/// "artist - title", or the file name, then the path).
pub fn m3u(library: &Library, rows: &[usize]) -> String {
    let mut text = String::from("#EXTM3U\n");
    for &row in rows {
        let track = &library.tracks[row];
        let seconds = track.duration_seconds.map_or(-1, |d| d.round() as i64);
        let name = match (&track.artist, &track.title) {
            (Some(a), Some(t)) => format!("{a} - {t}"),
            _ => Path::new(&track.path)
                .file_stem()
                .map_or(track.path.clone(), |s| s.to_string_lossy().into_owned()),
        };
        text.push_str(&format!("#EXTINF:{seconds},{name}\n{}\n", track.path));
    }
    text
}

/// Writes `bytes` to `path` atomically (`genreid_core::write_atomic`).
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> crate::Result<()> {
    genreid_core::write_bytes_atomic(path, bytes)
        .map_err(|e| crate::PipelineError::Output(format!("{}: cannot write: {e}", path.display())))
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(points: &[(f32, &str)]) -> Library {
        let mut library = Library::default();
        for (i, (angle, artist)) in points.iter().enumerate() {
            let track =
                Track { path: format!("t{i}"), artist: Some(artist.to_string()), ..Default::default() };
            library.push(track, &[angle.cos(), angle.sin()]).unwrap();
        }
        library
    }

    #[test]
    fn the_walk_goes_to_the_nearest_unplayed_track_each_step() {
        // Points on a circle: the walk from 0 should go 0.1, 0.2, ... in order.
        let lib = library(&[(0.0, "a"), (0.3, "b"), (0.1, "c"), (0.2, "d"), (3.0, "e")]);
        let options = PlaylistOptions { length: 4, anchor: 0.0, ..Default::default() };
        let rows: Vec<usize> = playlist(&lib, &[0], &options).iter().map(|r| r.0).collect();
        assert_eq!(rows, vec![0, 2, 3, 1]);
        let all = playlist(&lib, &[0], &PlaylistOptions { length: 50, anchor: 0.0, ..Default::default() });
        assert_eq!(all.len(), 5, "no repeats, and the list stops when the library is played");
    }

    #[test]
    fn spread_keeps_an_artist_out_of_the_window_until_nothing_else_is_left() {
        let lib = library(&[(0.0, "a"), (0.05, "a"), (0.1, "b"), (0.17, "a"), (2.0, "c")]);
        let options = PlaylistOptions { length: 5, anchor: 0.0, spread: Spread::Artist, spread_window: 1 };
        let rows: Vec<usize> = playlist(&lib, &[0], &options).iter().map(|r| r.0).collect();
        // After a: the nearest non-a is b (row 2); then a again (row 1).
        assert_eq!(&rows[..3], &[0, 2, 1]);
        assert_eq!(rows.len(), 5);
    }
}
