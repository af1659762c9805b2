//! A batch run's inputs: files and folders as given, or a manifest made
//! elsewhere (`--files-from`): one path a line (blank lines and `#`
//! comments skipped), or the `path` column of a CSV or Parquet file.
//! A manifest's paths are opened as written and shard by that text.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use genreid_data::{FoundFile, relative_name};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{PipelineError, Result};

/// The files a manifest names, in its order.
pub fn manifest_files(list: &Path) -> Result<Vec<FoundFile>> {
    let fail =
        |e: String| PipelineError::Invalid(format!("{}: cannot read the file list: {e}", list.display()));
    let extension = list.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    let paths = match extension.as_deref() {
        Some("parquet") => parquet_paths(list).map_err(|e| fail(e.to_string()))?,
        Some("csv") => csv_paths(list).map_err(fail)?,
        _ => {
            let text = std::fs::read_to_string(list).map_err(|e| fail(e.to_string()))?;
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(String::from)
                .collect()
        }
    };
    if paths.is_empty() {
        return Err(fail("it names no files".into()));
    }
    Ok(paths
        .into_iter()
        .map(|p| {
            let path = PathBuf::from(&p);
            FoundFile { relative: relative_name(&path), path }
        })
        .collect())
}

fn csv_paths(list: &Path) -> std::result::Result<Vec<String>, String> {
    let mut reader = csv::Reader::from_path(list).map_err(|e| e.to_string())?;
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = headers.iter().position(|h| h.trim() == "path").ok_or_else(|| {
        format!("no `path` column (columns: {})", headers.iter().collect::<Vec<_>>().join(", "))
    })?;
    let mut paths = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        if let Some(p) = record.get(column).map(str::trim).filter(|p| !p.is_empty()) {
            paths.push(p.to_string());
        }
    }
    Ok(paths)
}

fn parquet_paths(list: &Path) -> std::result::Result<Vec<String>, Box<dyn std::error::Error>> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(list)?)?;
    let index = builder.schema().index_of("path").map_err(|_| "no `path` column")?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
    let mut paths = Vec::new();
    for batch in builder.with_projection(mask).build()? {
        let batch = batch?;
        let column = batch.column(0);
        let texts: Vec<Option<&str>> = if let Some(s) = column.as_string_opt::<i32>() {
            s.iter().collect()
        } else if let Some(s) = column.as_string_opt::<i64>() {
            s.iter().collect()
        } else {
            return Err(format!("the `path` column is {}, not text", column.data_type()).into());
        };
        paths.extend(texts.into_iter().flatten().map(String::from));
    }
    Ok(paths)
}
