//! Audio datasets named the same way on every command: `gtzan:PATH`,
//! `fma:PATH[:small|medium|large]`, `mtt:PATH`, `folder:PATH`, `csv:FILE`.
//! Each resolves to a list of [`Track`]s (file, label, optional artist and
//! published split); decoding happens later, in the spectrogram cache.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::split::{Fold, SplitSpec, folds, group_folds};
use crate::{DataError, Result};

/// Which part of a published split a track belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// Training.
    Train,
    /// Validation (model selection, early stopping).
    Valid,
    /// Test (reported).
    Test,
}

impl Part {
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "train" | "training" => Some(Self::Train),
            "valid" | "validation" | "val" => Some(Self::Valid),
            "test" => Some(Self::Test),
            _ => None,
        }
    }
}

/// One labelled audio file.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// The audio file.
    pub path: PathBuf,
    /// Its label (genre).
    pub label: String,
    /// Its artist, when the dataset says.
    pub artist: Option<String>,
    /// Its part in the dataset's own split, when the dataset has one.
    pub part: Option<Part>,
    /// Its tags, for multi-label datasets (MagnaTagATune).
    pub tags: Vec<String>,
}

/// A dataset named on the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum DatasetSpec {
    /// `gtzan:ROOT`: `ROOT/<genre>/<genre>.NNNNN.{au,wav,flac}` (also under
    /// `ROOT/genres` or `ROOT/genres_original`).
    Gtzan(PathBuf),
    /// `fma:ROOT[:SUBSET]`: FMA audio `NNN/NNNNNN.mp3` with `tracks.csv`
    /// (or `fma_small_tracks.csv`) beside it or one level up.
    Fma {
        /// The audio folder.
        root: PathBuf,
        /// `small`, `medium` or `large`.
        subset: FmaSubset,
    },
    /// `mtt:ROOT`: MagnaTagATune clips with `annotations_final.csv`.
    Mtt(PathBuf),
    /// `folder:ROOT`: one sub-folder per label.
    Folder(PathBuf),
    /// `csv:FILE`: a manifest `path,label[,split][,artist]` (paths relative to it).
    Csv(PathBuf),
}

/// FMA's nested subsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FmaSubset {
    /// 8,000 tracks, 8 balanced genres.
    Small,
    /// 25,000 tracks (includes small).
    Medium,
    /// All 106,574 tracks.
    Large,
}

impl DatasetSpec {
    /// Parses `KIND:PATH[:OPTION]`; a bare existing folder is `folder:`.
    pub fn parse(spec: &str) -> Result<Self> {
        let bad = |reason: &str| DataError::Dataset { spec: spec.into(), reason: reason.into() };
        let Some((kind, rest)) = spec.split_once(':') else {
            if Path::new(spec).is_dir() {
                return Ok(Self::Folder(spec.into()));
            }
            return Err(bad(
                "expected gtzan:PATH, fma:PATH[:small|medium|large], mtt:PATH, folder:PATH or csv:FILE",
            ));
        };
        if rest.is_empty() {
            return Err(bad("the path is missing"));
        }
        Ok(match kind {
            "gtzan" => Self::Gtzan(rest.into()),
            "fma" => {
                let (root, subset) = match rest.rsplit_once(':') {
                    Some((root, "small")) => (root, FmaSubset::Small),
                    Some((root, "medium")) => (root, FmaSubset::Medium),
                    Some((root, "large")) => (root, FmaSubset::Large),
                    Some((_, other)) if !other.contains('/') => {
                        return Err(bad("FMA subset must be small, medium or large"));
                    }
                    _ => (rest, FmaSubset::Small),
                };
                Self::Fma { root: root.into(), subset }
            }
            "mtt" => Self::Mtt(rest.into()),
            "folder" => Self::Folder(rest.into()),
            "csv" => Self::Csv(rest.into()),
            _ => return Err(bad("unknown dataset kind; expected gtzan, fma, mtt, folder or csv")),
        })
    }

    /// The tracks of this dataset; files the listing names but that are not
    /// on disk are counted in [`Dataset::missing`].
    pub fn open(&self) -> Result<Dataset> {
        let (tracks, missing) = match self {
            Self::Gtzan(root) => (gtzan(root)?, 0),
            Self::Fma { root, subset } => fma(root, *subset)?,
            Self::Mtt(root) => mtt(root)?,
            Self::Folder(root) => (folder(root)?, 0),
            Self::Csv(file) => manifest(file)?,
        };
        if tracks.is_empty() {
            return Err(DataError::Dataset {
                spec: self.to_string(),
                reason: format!("no labelled audio found ({missing} listed files are missing)"),
            });
        }
        Ok(Dataset { spec: self.clone(), tracks, missing })
    }
}

impl std::fmt::Display for DatasetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Gtzan(p) => write!(f, "gtzan:{}", p.display()),
            Self::Fma { root, subset } => {
                write!(f, "fma:{}:{}", root.display(), format!("{subset:?}").to_lowercase())
            }
            Self::Mtt(p) => write!(f, "mtt:{}", p.display()),
            Self::Folder(p) => write!(f, "folder:{}", p.display()),
            Self::Csv(p) => write!(f, "csv:{}", p.display()),
        }
    }
}

/// A resolved dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Where it came from.
    pub spec: DatasetSpec,
    /// Its tracks, in a stable order (sorted by path).
    pub tracks: Vec<Track>,
    /// Files listed by the metadata but absent on disk.
    pub missing: usize,
}

impl Dataset {
    /// Sorted distinct labels.
    pub fn classes(&self) -> Vec<String> {
        let mut c: Vec<String> = self.tracks.iter().map(|t| t.label.clone()).collect();
        c.sort();
        c.dedup();
        c
    }

    /// The folds of `split` over tracks (indices into [`Dataset::tracks`]),
    /// made before any segment is cut so a track's segments stay together.
    pub fn folds(&self, split: &SplitSpec) -> Result<Vec<Fold>> {
        let labels: Vec<String> = self.tracks.iter().map(|t| t.label.clone()).collect();
        match split {
            SplitSpec::Official => {
                let mut fold = Fold { train: Vec::new(), valid: Vec::new(), test: Vec::new() };
                for (i, t) in self.tracks.iter().enumerate() {
                    match t.part {
                        Some(Part::Train) => fold.train.push(i),
                        Some(Part::Valid) => fold.valid.push(i),
                        Some(Part::Test) => fold.test.push(i),
                        None => {}
                    }
                }
                if fold.train.is_empty() || fold.test.is_empty() {
                    return Err(DataError::Split {
                        spec: split.to_string(),
                        reason: format!(
                            "{} gives {} training and {} test tracks; both must be non-empty",
                            self.spec,
                            fold.train.len(),
                            fold.test.len()
                        ),
                    });
                }
                Ok(vec![fold])
            }
            SplitSpec::Artist { k, seed } => {
                let artists: Option<Vec<String>> = self.tracks.iter().map(|t| t.artist.clone()).collect();
                let artists = artists.ok_or_else(|| DataError::Split {
                    spec: split.to_string(),
                    reason: format!("{} does not name every track's artist", self.spec),
                })?;
                group_folds(&artists, *k, *seed)
            }
            _ => {
                let names: Vec<String> = self.tracks.iter().map(|t| t.path.display().to_string()).collect();
                folds(split, &labels, &names)
            }
        }
    }

    /// Track counts per label.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for t in &self.tracks {
            *m.entry(t.label.clone()).or_default() += 1;
        }
        m
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| DataError::Read { path: dir.to_path_buf(), reason: e.to_string() })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    Ok(paths)
}

fn audio_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for p in read_dir_sorted(dir)? {
        if p.is_dir() {
            audio_under(&p, out)?;
        } else if genreid_audio::is_audio_path(&p) {
            out.push(p);
        }
    }
    Ok(())
}

fn folder(root: &Path) -> Result<Vec<Track>> {
    let mut tracks = Vec::new();
    for dir in read_dir_sorted(root)?.into_iter().filter(|p| p.is_dir()) {
        let Some(label) = dir.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        if label.starts_with('.') {
            continue;
        }
        let mut files = Vec::new();
        audio_under(&dir, &mut files)?;
        tracks.extend(files.into_iter().map(|path| Track {
            path,
            label: label.clone(),
            artist: None,
            part: None,
            tags: Vec::new(),
        }));
    }
    Ok(tracks)
}

/// GTZAN's ten genres.
pub const GTZAN_GENRES: [&str; 10] =
    ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"];

fn gtzan(root: &Path) -> Result<Vec<Track>> {
    let base = ["genres_original", "genres", "Data/genres_original"]
        .iter()
        .map(|s| root.join(s))
        .find(|p| p.join("blues").is_dir())
        .unwrap_or_else(|| root.to_path_buf());
    let missing: Vec<&str> = GTZAN_GENRES.iter().copied().filter(|g| !base.join(g).is_dir()).collect();
    if !missing.is_empty() {
        return Err(DataError::Invalid {
            path: base,
            reason: format!("not a GTZAN tree: no folder for {}", missing.join(", ")),
        });
    }
    let tracks = folder(&base)?;
    Ok(tracks.into_iter().filter(|t| GTZAN_GENRES.contains(&t.label.as_str())).collect())
}

fn read_csv(path: &Path, delimiter: u8, has_headers: bool) -> Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(has_headers)
        .flexible(true)
        .from_path(path)
        .map_err(|e| DataError::Read { path: path.to_path_buf(), reason: e.to_string() })
}

fn csv_err(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::Invalid { path: path.to_path_buf(), reason: e.to_string() }
}

fn manifest(file: &Path) -> Result<(Vec<Track>, usize)> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut reader = read_csv(file, b',', true)?;
    let headers = reader.headers().map_err(|e| csv_err(file, e))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (Some(path_col), Some(label_col)) = (col("path"), col("label").or_else(|| col("genre"))) else {
        return Err(csv_err(
            file,
            "a manifest needs `path` and `label` columns (and optionally `split`, `artist`)",
        ));
    };
    let (split_col, artist_col) = (col("split"), col("artist"));
    let (mut tracks, mut missing) = (Vec::new(), 0);
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_err(file, e))?;
        let field = |c: usize| record.get(c).unwrap_or("").trim();
        let path = dir.join(field(path_col));
        let label = field(label_col).to_string();
        if label.is_empty() {
            return Err(csv_err(file, format!("row {}: empty label", line + 2)));
        }
        let part = match split_col.map(field).filter(|s| !s.is_empty()) {
            Some(s) => Some(Part::parse(s).ok_or_else(|| {
                csv_err(file, format!("row {}: split {s:?} is not train, valid or test", line + 2))
            })?),
            None => None,
        };
        if !path.is_file() {
            missing += 1;
            continue;
        }
        let artist = artist_col.map(field).filter(|s| !s.is_empty()).map(str::to_string);
        tracks.push(Track { path, label, artist, part, tags: Vec::new() });
    }
    Ok((tracks, missing))
}

fn fma_audio_path(root: &Path, id: u64) -> PathBuf {
    let name = format!("{id:06}");
    root.join(&name[..3]).join(format!("{name}.mp3"))
}

fn fma(root: &Path, subset: FmaSubset) -> Result<(Vec<Track>, usize)> {
    let up = root.parent().unwrap_or(Path::new("."));
    let candidates = [
        root.join("tracks.csv"),
        up.join("tracks.csv"),
        up.join("fma_metadata/tracks.csv"),
        root.join("fma_metadata/tracks.csv"),
        up.join("fma_small_tracks.csv"),
        root.join("fma_small_tracks.csv"),
    ];
    let Some(meta) = candidates.iter().find(|p| p.is_file()) else {
        return Err(DataError::Invalid {
            path: root.to_path_buf(),
            reason: "FMA metadata not found: put tracks.csv (from fma_metadata.zip) or fma_small_tracks.csv \
                     in this folder or the one above"
                .into(),
        });
    };
    let audio_root = if root.join("000").is_dir() || !root.join("fma_small").is_dir() {
        root.to_path_buf()
    } else {
        root.join("fma_small")
    };
    let mut reader = read_csv(meta, b',', false)?;
    let mut records = reader.records();
    let mut next = || records.next().transpose().map_err(|e| csv_err(meta, e));
    let first = next()?.ok_or_else(|| csv_err(meta, "empty file"))?;
    let (mut tracks, mut missing) = (Vec::new(), 0);
    if first.get(0) == Some("track_id") {
        // The simple layout: track_id,path,genre_top,...
        let col = |n: &str| first.iter().position(|h| h == n);
        let genre = col("genre_top").ok_or_else(|| csv_err(meta, "no genre_top column"))?;
        while let Some(r) = next()? {
            let Ok(id) = r.get(0).unwrap_or("").parse::<u64>() else { continue };
            let label = r.get(genre).unwrap_or("").trim();
            if label.is_empty() {
                continue;
            }
            let path = fma_audio_path(&audio_root, id);
            if path.is_file() {
                tracks.push(Track { path, label: label.into(), artist: None, part: None, tags: Vec::new() });
            } else {
                missing += 1;
            }
        }
        return Ok((tracks, missing));
    }
    // tracks.csv from fma_metadata: two header rows (group, field) and a `track_id` row.
    let second = next()?.ok_or_else(|| csv_err(meta, "header ends early"))?;
    let find = |group: &str, field: &str| {
        (0..first.len()).find(|&i| first.get(i) == Some(group) && second.get(i) == Some(field))
    };
    let (Some(genre), Some(split), Some(sub)) =
        (find("track", "genre_top"), find("set", "split"), find("set", "subset"))
    else {
        return Err(csv_err(meta, "not FMA's tracks.csv: missing track/genre_top, set/split or set/subset"));
    };
    let artist = find("artist", "name");
    let wanted: &[&str] = match subset {
        FmaSubset::Small => &["small"],
        FmaSubset::Medium => &["small", "medium"],
        FmaSubset::Large => &["small", "medium", "large"],
    };
    while let Some(r) = next()? {
        let Ok(id) = r.get(0).unwrap_or("").parse::<u64>() else { continue };
        let label = r.get(genre).unwrap_or("").trim();
        if label.is_empty() || !wanted.contains(&r.get(sub).unwrap_or("")) {
            continue;
        }
        let path = fma_audio_path(&audio_root, id);
        if !path.is_file() {
            missing += 1;
            continue;
        }
        tracks.push(Track {
            path,
            label: label.into(),
            artist: artist.and_then(|c| r.get(c)).map(str::to_string).filter(|s| !s.is_empty()),
            part: r.get(split).and_then(Part::parse),
            tags: Vec::new(),
        });
    }
    Ok((tracks, missing))
}

/// MagnaTagATune genre tags among the top 50, most specific first: a clip's
/// genre is the first of these among its tags; clips with none are left out.
/// (Seed 002 mapped clips to genres through Magnatune's catalogue, which is
/// not distributed; the tags are.)
pub const MTT_GENRE_TAGS: [(&str, &str); 12] = [
    ("opera", "classical"),
    ("choral", "classical"),
    ("harpsichord", "classical"),
    ("classical", "classical"),
    ("metal", "metal"),
    ("country", "country"),
    ("indian", "world"),
    ("sitar", "world"),
    ("techno", "electronic"),
    ("dance", "electronic"),
    ("newAge", "new age"),
    ("ambient", "ambient"),
];
const MTT_LATE_GENRES: [(&str, &str); 3] = [("rock", "rock"), ("pop", "pop"), ("electronic", "electronic")];

fn mtt(root: &Path) -> Result<(Vec<Track>, usize)> {
    let annotations = root.join("annotations_final.csv");
    if !annotations.is_file() {
        return Err(DataError::Invalid {
            path: root.to_path_buf(),
            reason: "MagnaTagATune's annotations_final.csv not found in this folder".into(),
        });
    }
    let mut reader = read_csv(&annotations, b'\t', true)?;
    let headers = reader.headers().map_err(|e| csv_err(&annotations, e))?.clone();
    let path_col = headers
        .iter()
        .position(|h| h == "mp3_path")
        .ok_or_else(|| csv_err(&annotations, "no mp3_path column"))?;
    let tag_cols: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter(|(i, h)| *i != path_col && *h != "clip_id")
        .map(|(i, h)| (i, h.to_string()))
        .collect();
    let rows: Vec<csv::StringRecord> =
        reader.records().collect::<std::result::Result<_, _>>().map_err(|e| csv_err(&annotations, e))?;
    // The top-50 tags by frequency, as the common split does.
    let mut counts: Vec<(usize, &str)> = tag_cols
        .iter()
        .map(|(c, name)| (rows.iter().filter(|r| r.get(*c) == Some("1")).count(), name.as_str()))
        .collect();
    counts.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let top: Vec<&str> = counts.iter().take(50).map(|c| c.1).collect();
    let parts = published_lists(root);
    let (mut tracks, mut missing) = (Vec::new(), 0);
    for r in &rows {
        let rel = r.get(path_col).unwrap_or("");
        let tags: Vec<String> = tag_cols
            .iter()
            .filter(|(c, name)| r.get(*c) == Some("1") && top.contains(&name.as_str()))
            .map(|(_, n)| n.clone())
            .collect();
        let genre = MTT_GENRE_TAGS
            .iter()
            .chain(&MTT_LATE_GENRES)
            .find(|(tag, _)| tags.iter().any(|t| t.replace(' ', "") == tag.replace(' ', "")))
            .map(|(_, g)| *g);
        let Some(genre) = genre else { continue };
        let path = root.join(rel);
        if !path.is_file() {
            missing += 1;
            continue;
        }
        let part = parts.get(&stem(rel)).copied();
        tracks.push(Track { path, label: genre.into(), artist: None, part, tags });
    }
    Ok((tracks, missing))
}

fn stem(rel: &str) -> String {
    rel.rsplit_once('.').map_or(rel, |(s, _)| s).to_string()
}

/// `train_list_pub.txt` etc. beside the annotations (paths ending `.npy`).
fn published_lists(root: &Path) -> HashMap<String, Part> {
    let mut parts = HashMap::new();
    for (file, part) in [
        ("train_list_pub.txt", Part::Train),
        ("valid_list_pub.txt", Part::Valid),
        ("test_list_pub.txt", Part::Test),
    ] {
        if let Ok(text) = std::fs::read_to_string(root.join(file)) {
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                parts.insert(stem(line), part);
            }
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        assert_eq!(DatasetSpec::parse("gtzan:/a").unwrap(), DatasetSpec::Gtzan("/a".into()));
        assert_eq!(
            DatasetSpec::parse("fma:/x/fma_large:large").unwrap(),
            DatasetSpec::Fma { root: "/x/fma_large".into(), subset: FmaSubset::Large }
        );
        assert_eq!(
            DatasetSpec::parse("fma:/x").unwrap(),
            DatasetSpec::Fma { root: "/x".into(), subset: FmaSubset::Small }
        );
        assert!(DatasetSpec::parse("fma:/x:huge").is_err());
        assert!(DatasetSpec::parse("nope:/x").is_err());
        assert!(DatasetSpec::parse("gtzan:").is_err());
    }

    #[test]
    fn manifest_and_fma_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a")).unwrap();
        std::fs::write(d.join("a/x.wav"), b"RIFF").unwrap();
        std::fs::write(d.join("a/y.wav"), b"RIFF").unwrap();
        std::fs::write(
            d.join("m.csv"),
            "path,label,split,artist\na/x.wav,rock,train,Z\na/y.wav,pop,test,\nno.wav,pop,,\n",
        )
        .unwrap();
        let ds = DatasetSpec::parse(&format!("csv:{}", d.join("m.csv").display())).unwrap().open().unwrap();
        assert_eq!(ds.tracks.len(), 2);
        assert_eq!(ds.missing, 1);
        assert_eq!(ds.tracks[0].part, Some(Part::Train));
        assert_eq!(ds.tracks[0].artist.as_deref(), Some("Z"));
        assert_eq!(ds.classes(), vec!["pop", "rock"]);
        std::fs::write(d.join("bad.csv"), "file,genre\n").unwrap();
        let e =
            DatasetSpec::parse(&format!("csv:{}", d.join("bad.csv").display())).unwrap().open().unwrap_err();
        assert!(e.to_string().contains("`path`"), "{e}");

        // FMA's tracks.csv layout: two header rows then track_id.
        let audio = d.join("fma_small");
        std::fs::create_dir_all(audio.join("000")).unwrap();
        std::fs::write(audio.join("000/000002.mp3"), b"ID3").unwrap();
        std::fs::write(audio.join("000/000005.mp3"), b"ID3").unwrap();
        std::fs::write(
            d.join("tracks.csv"),
            ",artist,set,set,track\n,name,split,subset,genre_top\ntrack_id,,,,\n\
             2,AWOL,training,small,Hip-Hop\n5,AWOL,test,small,Hip-Hop\n10,K,training,medium,Pop\n",
        )
        .unwrap();
        let small = DatasetSpec::parse(&format!("fma:{}", audio.display())).unwrap().open().unwrap();
        assert_eq!(small.tracks.len(), 2);
        assert_eq!(small.tracks[1].part, Some(Part::Test));
        let medium = DatasetSpec::parse(&format!("fma:{}:medium", audio.display())).unwrap().open().unwrap();
        assert_eq!(medium.missing, 1);
    }

    #[test]
    fn gtzan_tree_must_have_every_genre() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("blues")).unwrap();
        let e = gtzan(dir.path()).unwrap_err().to_string();
        assert!(e.contains("no folder for classical"), "{e}");
    }
}
