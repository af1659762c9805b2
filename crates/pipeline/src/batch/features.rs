//! Feature-table rows (`genreid features --out DIR/`): the GTZAN-57 or
//! FMA-518 row of each file (or of each segment), as a batch run's rows,
//! schema [`FEATURES_SCHEMA_VERSION`]:
//!
//! | column | type | |
//! |---|---|---|
//! | `path`, `relative_path`, `size`, `modified`, `content_sha256` | | the file, as in `genreid.classify/1` |
//! | `feature_set` | utf8 | `gtzan57` or `fma518` |
//! | `settings` | utf8 | the set, rate, duration and segmenting, such as `gtzan57 sr=22050 duration=full segment=3/3` (a resumed file refuses other settings) |
//! | `filename` | utf8 | the row's name in the table (`blues.00000.3.wav` for a file's fourth segment) |
//! | `segment` | uint32 | the row's segment, 0-based (0 for a whole-file row) |
//! | `length` | uint64 | samples the row was computed from |
//! | one column per feature | float64 | in the set's order, the names of the CSV table |
//! | `label` | utf8 | the name of the folder holding the file |
//! | `notes` | list\<utf8\> | decoder warnings and values that are not numbers |
//! | `error` | utf8 | why a file has no rows (null when it has) |
//!
//! A file has one row per segment; a failed file one row with its stamp and
//! `error`, the rest null.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use genreid_data::{FoundFile, RowOptions, TableRows, table_rows};

use super::run::RowKind;
use super::stamp::{FileStamp, stamp_columns, stamp_fields};

/// The feature rows' schema name and version (`genreid.schema` in the metadata).
pub const FEATURES_SCHEMA_VERSION: &str = "genreid.features/1";

/// One file's feature rows, or why it has none.
#[derive(Debug, Clone)]
pub struct FeatureFileRows {
    /// Which file, and which version of it.
    pub stamp: FileStamp,
    /// Its rows, or the error (naming the file).
    pub outcome: Result<TableRows, String>,
}

/// Feature-table rows computed as `options` says, as a [`RowKind`].
#[derive(Debug, Clone)]
pub struct FeatureRows {
    options: RowOptions,
    settings: String,
    columns: Vec<String>,
}

impl FeatureRows {
    /// Rows of `options`' set, rate, duration and segmenting.
    pub fn new(options: RowOptions) -> Self {
        let settings = settings_label(&options);
        FeatureRows { columns: options.set.columns(), options, settings }
    }

    /// What the rows' `settings` column holds.
    pub fn settings(&self) -> &str {
        &self.settings
    }
}

/// The settings a feature row depends on, as one readable label.
pub fn settings_label(options: &RowOptions) -> String {
    let rate = options.sample_rate.map_or("native".to_string(), |r| r.to_string());
    let duration = options.duration.map_or("full".to_string(), |d| d.to_string());
    let segment = options.segment.map_or("none".to_string(), |(length, hop)| format!("{length}/{hop}"));
    format!("{} sr={rate} duration={duration} segment={segment}", options.set.name())
}

impl RowKind for FeatureRows {
    type Row = FeatureFileRows;

    fn arrow_schema(&self) -> SchemaRef {
        let utf8 = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
        let mut fields = stamp_fields();
        fields.extend([
            utf8("feature_set", false),
            utf8("settings", false),
            utf8("filename", true),
            Field::new("segment", DataType::UInt32, true),
            Field::new("length", DataType::UInt64, true),
        ]);
        fields.extend(self.columns.iter().map(|c| Field::new(c, DataType::Float64, true)));
        fields.push(utf8("label", true));
        fields.push(Field::new_list("notes", Field::new_list_field(DataType::Utf8, true), true));
        fields.push(utf8("error", true));
        let metadata: HashMap<String, String> = [
            ("genreid.schema".to_string(), FEATURES_SCHEMA_VERSION.to_string()),
            ("genreid.version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ]
        .into_iter()
        .collect();
        Arc::new(Schema::new(fields).with_metadata(metadata))
    }

    fn identity(&self) -> (&str, &str) {
        ("settings", &self.settings)
    }

    fn row(&self, file: &FoundFile) -> FeatureFileRows {
        let (stamp, unreadable) = FileStamp::read(file);
        let outcome = match unreadable {
            Some(message) => Err(message),
            None => table_rows(&file.path, &self.options).map_err(|e| e.to_string()),
        };
        FeatureFileRows { stamp, outcome }
    }

    fn failed(&self, row: &FeatureFileRows) -> bool {
        row.outcome.is_err()
    }

    fn record_batch(&self, files: &[FeatureFileRows]) -> Result<RecordBatch, ArrowError> {
        // One output row per table row, or one per failed file.
        let mut stamps = Vec::new();
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        let mut notes = ListBuilder::new(StringBuilder::new());
        for file in files {
            match &file.outcome {
                Ok(table) => {
                    for (segment, row) in table.rows.iter().enumerate() {
                        stamps.push(&file.stamp);
                        rows.push(Some((segment, row)));
                        errors.push(None);
                        // A file's notes go with its first row.
                        if segment == 0 {
                            table.notes.iter().for_each(|n| notes.values().append_value(n));
                        }
                        notes.append(true);
                    }
                }
                Err(message) => {
                    stamps.push(&file.stamp);
                    rows.push(None);
                    errors.push(Some(message.as_str()));
                    notes.append(false);
                }
            }
        }
        let mut columns = stamp_columns(stamps.iter().copied());
        let name = self.options.set.name();
        columns.push(Arc::new(StringArray::from_iter_values(rows.iter().map(|_| name))));
        columns.push(Arc::new(StringArray::from_iter_values(rows.iter().map(|_| &self.settings))));
        columns.push(Arc::new(
            rows.iter().map(|r| r.map(|(_, t)| t.filename.as_str())).collect::<StringArray>(),
        ));
        columns.push(Arc::new(rows.iter().map(|r| r.map(|(s, _)| s as u32)).collect::<UInt32Array>()));
        columns.push(Arc::new(rows.iter().map(|r| r.map(|(_, t)| t.length as u64)).collect::<UInt64Array>()));
        for j in 0..self.columns.len() {
            let values = rows.iter().map(|r| r.and_then(|(_, t)| t.values.get(j).copied()));
            columns.push(Arc::new(values.collect::<Float64Array>()) as ArrayRef);
        }
        columns
            .push(Arc::new(rows.iter().map(|r| r.map(|(_, t)| t.label.as_str())).collect::<StringArray>()));
        columns.push(Arc::new(notes.finish()));
        columns.push(Arc::new(errors.into_iter().collect::<StringArray>()));
        RecordBatch::try_new(self.arrow_schema(), columns)
    }
}
