//! Writing feature tables as CSV or Parquet, atomically (a temporary file
//! beside the target, renamed over it when complete).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};

/// A feature table: `filename`, `length`, the feature columns, `label`.
pub struct Table {
    /// Feature column names.
    pub columns: Vec<String>,
    /// One file (or segment) name per row.
    pub filenames: Vec<String>,
    /// Samples per row.
    pub lengths: Vec<u64>,
    /// Feature values, one vector per row.
    pub values: Vec<Vec<f64>>,
    /// Label per row.
    pub labels: Vec<String>,
}

/// File formats a table can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma-separated text, one header row (Kaggle's layout).
    Csv,
    /// Apache Parquet, Snappy-compressed, float64 features.
    Parquet,
}

impl TableFormat {
    /// The format implied by `path`'s extension.
    pub fn of(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => Ok(Self::Csv),
            Some("parquet") => Ok(Self::Parquet),
            _ => bail!("{}: feature tables are written as .csv or .parquet", path.display()),
        }
    }
}

/// Writes `table` to `out` in `format`, atomically.
pub fn write_table(out: &Path, format: TableFormat, table: &Table) -> Result<()> {
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("table");
    let tmp: PathBuf = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = match format {
        TableFormat::Csv => write_csv(&tmp, table),
        TableFormat::Parquet => write_parquet(&tmp, table),
    };
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("{}: cannot write", out.display())));
    }
    std::fs::rename(&tmp, out).with_context(|| format!("{}: cannot write", out.display()))
}

fn write_csv(path: &Path, table: &Table) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let mut header = vec!["filename", "length"];
    header.extend(table.columns.iter().map(String::as_str));
    header.push("label");
    w.write_record(&header)?;
    for i in 0..table.filenames.len() {
        let mut record = vec![table.filenames[i].clone(), table.lengths[i].to_string()];
        // `{:?}` prints the shortest string that reads back as the same f64.
        record.extend(table.values[i].iter().map(|v| format!("{v:?}")));
        record.push(table.labels[i].clone());
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}

fn write_parquet(path: &Path, table: &Table) -> Result<()> {
    let mut fields =
        vec![Field::new("filename", DataType::Utf8, false), Field::new("length", DataType::UInt64, false)];
    fields.extend(table.columns.iter().map(|c| Field::new(c, DataType::Float64, true)));
    fields.push(Field::new("label", DataType::Utf8, false));
    let schema = Arc::new(Schema::new(fields));
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(table.filenames.clone())),
        Arc::new(UInt64Array::from(table.lengths.clone())),
    ];
    for c in 0..table.columns.len() {
        arrays.push(Arc::new(Float64Array::from(table.values.iter().map(|row| row[c]).collect::<Vec<_>>())));
    }
    arrays.push(Arc::new(StringArray::from(table.labels.clone())));
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let file = std::fs::File::create(path)?;
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, Some(props))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(())
}
