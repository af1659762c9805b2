//! A file's rows as a feature table holds them: named (`blues.00000.wav`,
//! or `blues.00000.3.wav` for the fourth segment, as GTZAN's 3-s table
//! names them), labelled by their folder, with notes on what to tell the
//! user (decoder warnings, values that are not numbers). Shared by
//! `genreid features`, the Python `features_table` and batch runs.

use std::path::Path;

use genreid_features::{GTZAN57_COLUMNS, fma518_columns};

use crate::Result;
use crate::files::parent_name;
use crate::rows::{RowOptions, RowSet, file_rows};

impl RowSet {
    /// The name model files and the CLI use (`gtzan57`, `fma518`).
    pub fn name(self) -> &'static str {
        match self {
            RowSet::Gtzan57 => "gtzan57",
            RowSet::Fma518 => "fma518",
        }
    }

    /// The set called `name` (`gtzan57`, `fma518`).
    pub fn from_name(name: &str) -> Option<RowSet> {
        match name {
            "gtzan57" => Some(RowSet::Gtzan57),
            "fma518" => Some(RowSet::Fma518),
            _ => None,
        }
    }

    /// The rate rows are computed at when none is asked for: 22,050 Hz for
    /// GTZAN-57, each file's own for FMA-518 (as FMA computed it).
    pub fn default_sample_rate(self) -> Option<u32> {
        match self {
            RowSet::Gtzan57 => Some(genreid_audio::DEFAULT_SAMPLE_RATE),
            RowSet::Fma518 => None,
        }
    }

    /// The feature columns, in table order.
    pub fn columns(self) -> Vec<String> {
        match self {
            RowSet::Gtzan57 => GTZAN57_COLUMNS.iter().map(|c| c.to_string()).collect(),
            RowSet::Fma518 => fma518_columns(),
        }
    }
}

/// One row of a feature table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// The row's name: the file name, with the segment index before the
    /// extension for segment rows.
    pub filename: String,
    /// Samples the row was computed from.
    pub length: usize,
    /// Feature values, in [`RowSet::columns`] order.
    pub values: Vec<f64>,
    /// The name of the folder holding the file.
    pub label: String,
}

/// A file's table rows and what to tell the user about them.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRows {
    /// The rows.
    pub rows: Vec<TableRow>,
    /// Decoder warnings and rows with values that are not numbers, each
    /// naming the file.
    pub notes: Vec<String>,
}

/// The table rows of `path` following `options`.
pub fn table_rows(path: &Path, options: &RowOptions) -> Result<TableRows> {
    let file = file_rows(path, options)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let label = parent_name(path);
    let mut notes: Vec<String> = file.warnings.iter().map(|w| format!("{}: {w}", path.display())).collect();
    let columns = options.set.columns();
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), format!(".{e}")),
        None => (name.clone(), String::new()),
    };
    let rows = file
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, (length, values))| {
            let filename = if options.segment.is_some() { format!("{stem}.{i}{ext}") } else { name.clone() };
            let bad: Vec<&str> =
                values.iter().zip(&columns).filter(|(v, _)| !v.is_finite()).map(|(_, c)| c.as_str()).collect();
            if !bad.is_empty() {
                let shown = bad.iter().take(4).copied().collect::<Vec<_>>().join(", ");
                let more = if bad.len() > 4 { format!(" and {} more", bad.len() - 4) } else { String::new() };
                notes.push(format!(
                    "{}: row {filename} has {} values that are not numbers ({shown}{more}): silent or constant audio",
                    path.display(),
                    bad.len()
                ));
            }
            TableRow { filename, length, values, label: label.clone() }
        })
        .collect();
    Ok(TableRows { rows, notes })
}
