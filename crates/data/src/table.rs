//! Feature tables: one row per clip, numeric feature columns, a label.
//!
//! Reads the layout genreid writes and Kaggle's GTZAN tables use
//! (`filename`, `length`, features..., `label`): `filename` names the row,
//! `label` is the class, `length` and any other non-feature bookkeeping
//! columns are left out of the features.

use std::path::Path;

use crate::split::{Fold, SplitSpec, folds, group_folds};
use crate::{DataError, Result};

/// Columns that describe a row rather than the audio.
pub const BOOKKEEPING: [&str; 5] = ["filename", "length", "label", "track_id", "artist"];

/// A feature table in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    /// Feature column names, in file order.
    pub columns: Vec<String>,
    /// Row names (`filename` column, or the row number).
    pub names: Vec<String>,
    /// Class label of each row.
    pub labels: Vec<String>,
    /// Feature values, one vector per row.
    pub rows: Vec<Vec<f64>>,
    /// Artist of each row, when the table has an `artist` column.
    pub artists: Option<Vec<String>>,
}

impl FeatureTable {
    /// The distinct labels, sorted (the class order of models and reports).
    pub fn classes(&self) -> Vec<String> {
        let mut c = self.labels.clone();
        c.sort();
        c.dedup();
        c
    }

    /// The folds of `spec` over this table's rows (`artist` splits use the
    /// table's `artist` column).
    pub fn folds(&self, spec: &SplitSpec) -> Result<Vec<Fold>> {
        match (spec, &self.artists) {
            (SplitSpec::Artist { k, seed }, Some(artists)) => group_folds(artists, *k, *seed),
            _ => folds(spec, &self.labels, &self.names),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Reads a CSV feature table with a header row and a `label` column.
pub fn read_table(path: &Path) -> Result<FeatureTable> {
    let invalid = |reason: String| DataError::Invalid { path: path.to_path_buf(), reason };
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| DataError::Read { path: path.to_path_buf(), reason: e.to_string() })?;
    let header: Vec<String> =
        reader.headers().map_err(|e| invalid(e.to_string()))?.iter().map(String::from).collect();
    let label_at =
        header.iter().position(|h| h == "label").ok_or_else(|| invalid("no `label` column".into()))?;
    let name_at = header.iter().position(|h| h == "filename");
    let artist_at = header.iter().position(|h| h == "artist");
    let feature_at: Vec<usize> =
        (0..header.len()).filter(|&i| !BOOKKEEPING.contains(&header[i].as_str())).collect();
    if feature_at.is_empty() {
        return Err(invalid("no feature columns".into()));
    }
    let mut table = FeatureTable {
        columns: feature_at.iter().map(|&i| header[i].clone()).collect(),
        names: Vec::new(),
        labels: Vec::new(),
        rows: Vec::new(),
        artists: artist_at.map(|_| Vec::new()),
    };
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| invalid(format!("row {}: {e}", n + 2)))?;
        let mut row = Vec::with_capacity(feature_at.len());
        for &i in &feature_at {
            let cell = record.get(i).unwrap_or("");
            let value: f64 = cell.trim().parse().map_err(|_| {
                invalid(format!("row {}, column {}: {cell:?} is not a number", n + 2, header[i]))
            })?;
            row.push(value);
        }
        table.rows.push(row);
        table.labels.push(record.get(label_at).unwrap_or("").to_string());
        if let (Some(artists), Some(i)) = (table.artists.as_mut(), artist_at) {
            artists.push(record.get(i).unwrap_or("").to_string());
        }
        table
            .names
            .push(name_at.and_then(|i| record.get(i)).map_or_else(|| (n + 1).to_string(), String::from));
    }
    if table.rows.is_empty() {
        return Err(invalid("no rows".into()));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_real_kaggle_gtzan_table() {
        let t = read_table(&genreid_testkit::shared().join("data/gtzan/features_30_sec.csv")).unwrap();
        assert_eq!(t.len(), 1000);
        assert_eq!(t.columns.len(), 57, "length is bookkeeping, not a feature");
        assert_eq!(t.columns[0], "chroma_stft_mean");
        assert_eq!(t.classes().len(), 10);
        assert_eq!(t.names[0], "blues.00000.wav");
    }

    #[test]
    fn a_bad_cell_names_row_and_column() {
        let dir = std::env::temp_dir().join(format!("genreid-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.csv");
        std::fs::write(&p, "filename,a,b,label\nx.wav,1,2,rock\ny.wav,3,oops,jazz\n").unwrap();
        let e = read_table(&p).unwrap_err().to_string();
        assert!(e.contains("row 3") && e.contains("column b") && e.contains("bad.csv"), "{e}");
    }
}
