//! The Arrow schema of a batch run's rows, one per input (version
//! [`SCHEMA_VERSION`], in the file's metadata under `genreid.schema`):
//!
//! | column | type | |
//! |---|---|---|
//! | `path` | utf8 | the file as opened |
//! | `relative_path` | utf8 | its path below the folder it was found in (what shards hash) |
//! | `size` | uint64 | bytes, null when the file could not be read |
//! | `modified` | timestamp\[ns, UTC\] | modification time, null likewise |
//! | `content_sha256` | utf8 | hex SHA-256 of the file's bytes |
//! | `model`, `model_version` | utf8 | the model's name and `sha256:` of its bytes |
//! | `genre`, `vote` | utf8 | verdict by mean probability and by majority vote |
//! | `probabilities` | struct\<label: float32, …\> | in the model's label order |
//! | `tags` | struct\<tag: float32, …\> | only for models with tags |
//! | `duration_seconds` | float64 | audio analysed |
//! | `warnings` | list\<utf8\> | the verdict's warning codes |
//! | `segments` | list\<struct\<start, end: float64, genre: utf8\>\> | only with segments asked for |
//! | `embedding` | fixed_size_list\<float32\>\[d\] | only with an embedding asked for (its spec, such as `penultimate/mean+std/l2`, in the metadata under `genreid.embedding`) |
//! | `artist`, `album`, `title` | utf8 | only with file tags asked for (`genreid embed`): the file's own tags, null where it has none |
//! | `error` | utf8 | why a file has no verdict (null when it has one) |
//!
//! A failed file's row has its path and `error`, with the verdict's columns null.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, FixedSizeListArray, Float32Array, Float64Array, ListArray, RecordBatch, StringArray,
    StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};

use super::stamp::{FileStamp, stamp_columns, stamp_fields};
use crate::embed::{EmbeddingSpec, embedding_width};
use crate::registry::{Model, ModelIdentity};
use crate::verdict::{Probabilities, Verdict};

/// The schema's name and version, in each file's metadata (`genreid.schema`).
pub const SCHEMA_VERSION: &str = "genreid.classify/1";

/// One input's row.
#[derive(Debug, Clone, Default)]
pub struct BatchRow {
    /// Which file, and which version of it.
    pub stamp: FileStamp,
    /// Its verdict.
    pub verdict: Option<Verdict>,
    /// Its embedding, when asked for.
    pub embedding: Option<Vec<f32>>,
    /// The artist, album and title its tags name, when asked for.
    pub file_tags: FileTags,
    /// Why it has no verdict.
    pub error: Option<String>,
}

/// The artist, album and title a file's own tags name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileTags {
    /// The track's artist.
    pub artist: Option<String>,
    /// Its album.
    pub album: Option<String>,
    /// Its title.
    pub title: Option<String>,
}

/// What a run's rows hold beyond the fixed columns.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSchema {
    /// The model's name as given (`musicnn-gtzan`, a file name).
    pub model: String,
    /// `sha256:` and the first 16 hex digits of the model's bytes.
    pub model_version: String,
    /// The verdict's labels, in order.
    pub labels: Vec<String>,
    /// The model's tags (empty: no `tags` column).
    pub tags: Vec<String>,
    /// Whether rows carry a segment timeline.
    pub segments: bool,
    /// The embedding's width (`None`: no `embedding` column).
    pub embedding_width: Option<usize>,
    /// The embedding's spec label (`genreid.embedding` in the metadata).
    pub embedding_spec: Option<String>,
    /// Whether rows carry the files' artist, album and title.
    pub file_tags: bool,
}

fn float_fields(names: &[String]) -> Fields {
    names.iter().map(|n| Field::new(n, DataType::Float32, true)).collect()
}

fn segment_fields() -> Fields {
    Fields::from(vec![
        Field::new("start", DataType::Float64, false),
        Field::new("end", DataType::Float64, false),
        Field::new("genre", DataType::Utf8, false),
    ])
}

impl BatchSchema {
    /// The schema of rows from `model` (named by `identity`), with a
    /// timeline when `segments` and an embedding column when `embedding`
    /// names a layer.
    pub fn for_model(
        model: &Model,
        identity: &ModelIdentity,
        segments: bool,
        embedding: Option<&EmbeddingSpec>,
    ) -> crate::Result<Self> {
        let embedding_width = match embedding {
            Some(spec) => Some(embedding_width(model, spec)?),
            None => None,
        };
        Ok(BatchSchema {
            model: identity.name.clone(),
            model_version: identity.version.clone(),
            labels: model.labels(),
            tags: model.tags(),
            segments,
            embedding_width,
            embedding_spec: embedding.map(EmbeddingSpec::label),
            file_tags: false,
        })
    }

    /// This schema with the `artist`, `album` and `title` columns.
    pub fn with_file_tags(mut self) -> Self {
        self.file_tags = true;
        self
    }

    /// The Arrow schema, with `genreid.schema` and the genreid version in its metadata.
    pub fn arrow_schema(&self) -> SchemaRef {
        let utf8 = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
        let mut fields = stamp_fields();
        fields.extend([
            utf8("model", false),
            utf8("model_version", false),
            utf8("genre", true),
            utf8("vote", true),
            Field::new("probabilities", DataType::Struct(float_fields(&self.labels)), true),
        ]);
        if !self.tags.is_empty() {
            fields.push(Field::new("tags", DataType::Struct(float_fields(&self.tags)), true));
        }
        fields.push(Field::new("duration_seconds", DataType::Float64, true));
        fields.push(Field::new_list("warnings", Field::new_list_field(DataType::Utf8, true), true));
        if self.segments {
            let item = Field::new_list_field(DataType::Struct(segment_fields()), true);
            fields.push(Field::new_list("segments", item, true));
        }
        if let Some(width) = self.embedding_width {
            let item = Arc::new(Field::new_list_field(DataType::Float32, false));
            fields.push(Field::new("embedding", DataType::FixedSizeList(item, width as i32), true));
        }
        if self.file_tags {
            fields.extend(["artist", "album", "title"].map(|name| utf8(name, true)));
        }
        fields.push(utf8("error", true));
        let mut metadata: std::collections::HashMap<String, String> = [
            ("genreid.schema".to_string(), SCHEMA_VERSION.to_string()),
            ("genreid.version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ]
        .into_iter()
        .collect();
        if let Some(spec) = &self.embedding_spec {
            metadata.insert("genreid.embedding".to_string(), spec.clone());
        }
        Arc::new(Schema::new(fields).with_metadata(metadata))
    }

    /// `rows` as one record batch of [`BatchSchema::arrow_schema`].
    pub fn record_batch(&self, rows: &[BatchRow]) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let strings = |f: &dyn Fn(&BatchRow) -> Option<String>| -> ArrayRef {
            Arc::new(rows.iter().map(f).collect::<StringArray>())
        };
        let verdict = |f: &dyn Fn(&Verdict) -> String| strings(&|r| r.verdict.as_ref().map(f));
        let has_verdict = NullBuffer::from(rows.iter().map(|r| r.verdict.is_some()).collect::<Vec<_>>());
        let mut columns = stamp_columns(rows.iter().map(|r| &r.stamp));
        columns.extend([
            strings(&|_| Some(self.model.clone())),
            strings(&|_| Some(self.model_version.clone())),
            verdict(&|v| v.genre.clone()),
            verdict(&|v| v.vote.clone()),
            probability_struct(&self.labels, rows, &has_verdict, |v| &v.probabilities)?,
        ]);
        if !self.tags.is_empty() {
            columns.push(probability_struct(&self.tags, rows, &has_verdict, |v| &v.tags)?);
        }
        columns.push(Arc::new(
            rows.iter().map(|r| r.verdict.as_ref().map(|v| v.duration_seconds)).collect::<Float64Array>(),
        ));
        let mut warnings = ListBuilder::new(StringBuilder::new());
        for row in rows {
            match &row.verdict {
                Some(v) => {
                    v.warnings.iter().for_each(|w| warnings.values().append_value(&w.code));
                    warnings.append(true);
                }
                None => warnings.append(false),
            }
        }
        columns.push(Arc::new(warnings.finish()));
        if self.segments {
            columns.push(segment_list(rows, &has_verdict)?);
        }
        if let Some(width) = self.embedding_width {
            columns.push(embedding_list(rows, width)?);
        }
        if self.file_tags {
            columns.push(strings(&|r| r.file_tags.artist.clone()));
            columns.push(strings(&|r| r.file_tags.album.clone()));
            columns.push(strings(&|r| r.file_tags.title.clone()));
        }
        columns.push(strings(&|r| r.error.clone()));
        RecordBatch::try_new(self.arrow_schema(), columns)
    }
}

/// A struct column with one float32 field per name, null where a row has no verdict.
fn probability_struct(
    names: &[String],
    rows: &[BatchRow],
    has_verdict: &NullBuffer,
    of: impl Fn(&Verdict) -> &Probabilities,
) -> Result<ArrayRef, arrow_schema::ArrowError> {
    let columns: Vec<ArrayRef> = names
        .iter()
        .map(|name| {
            let values = rows.iter().map(|r| {
                r.verdict.as_ref().map(|v| of(v).get(name).and_then(|p| p.as_f64()).unwrap_or(0.0) as f32)
            });
            Arc::new(values.collect::<Float32Array>()) as ArrayRef
        })
        .collect();
    Ok(Arc::new(StructArray::try_new_with_length(
        float_fields(names),
        columns,
        Some(has_verdict.clone()),
        rows.len(),
    )?))
}

fn segment_list(rows: &[BatchRow], has_verdict: &NullBuffer) -> Result<ArrayRef, arrow_schema::ArrowError> {
    let segments: Vec<_> =
        rows.iter().flat_map(|r| r.verdict.iter().flat_map(|v| v.segments.iter().flatten())).collect();
    let starts: Float64Array = segments.iter().map(|s| s.start).collect::<Vec<_>>().into();
    let ends: Float64Array = segments.iter().map(|s| s.end).collect::<Vec<_>>().into();
    let genres: StringArray = segments.iter().map(|s| Some(s.genre.as_str())).collect();
    let values = StructArray::try_new(
        segment_fields(),
        vec![Arc::new(starts), Arc::new(ends), Arc::new(genres)],
        None,
    )?;
    let lengths =
        rows.iter().map(|r| r.verdict.as_ref().and_then(|v| v.segments.as_ref()).map_or(0, Vec::len));
    let item = Arc::new(Field::new_list_field(DataType::Struct(segment_fields()), true));
    Ok(Arc::new(ListArray::try_new(
        item,
        OffsetBuffer::from_lengths(lengths),
        Arc::new(values),
        Some(has_verdict.clone()),
    )?))
}

fn embedding_list(rows: &[BatchRow], width: usize) -> Result<ArrayRef, arrow_schema::ArrowError> {
    let mut values = Vec::with_capacity(rows.len() * width);
    let mut present = Vec::with_capacity(rows.len());
    for row in rows {
        match &row.embedding {
            Some(e) if e.len() == width => {
                values.extend_from_slice(e);
                present.push(true);
            }
            _ => {
                values.resize(values.len() + width, 0.0);
                present.push(false);
            }
        }
    }
    let item = Arc::new(Field::new_list_field(DataType::Float32, false));
    Ok(Arc::new(FixedSizeListArray::try_new(
        item,
        width as i32,
        Arc::new(Float32Array::from(values)),
        Some(NullBuffer::from(present)),
    )?))
}
