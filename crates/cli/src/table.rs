//! Writing feature tables as CSV or Parquet, atomically (a temporary file
//! beside the target, renamed over it when complete).

use std::path::Path;
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

/// The folder `out` goes into, which must exist: genreid creates no
/// folder the user did not ask for (a mistyped path is an error, not a
/// new tree).
pub fn output_folder(out: &Path) -> Result<&Path> {
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        bail!("{}: the folder {} does not exist (create it first)", out.display(), dir.display());
    }
    Ok(dir)
}

/// Writes `table` to `out` in `format`, atomically
/// (`genreid_pipeline::write_atomic`). `out`'s folder must exist
/// ([`output_folder`]).
pub fn write_table(out: &Path, format: TableFormat, table: &Table) -> Result<()> {
    output_folder(out)?;
    genreid_pipeline::write_atomic(out, |sink| {
        let written = match format {
            TableFormat::Csv => write_csv(sink, table),
            TableFormat::Parquet => write_parquet(sink, table),
        };
        written.map_err(|e| std::io::Error::other(format!("{e:#}")))
    })
    .with_context(|| format!("{}: cannot write", out.display()))
}

fn write_csv(sink: impl std::io::Write, table: &Table) -> Result<()> {
    let mut w = csv::Writer::from_writer(sink);
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

fn write_parquet(sink: impl std::io::Write + Send, table: &Table) -> Result<()> {
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
    let mut writer = parquet::arrow::ArrowWriter::try_new(sink, schema, Some(props))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(())
}

/// Reads a feature table: CSV (genreid's or Kaggle's layout) or Parquet as
/// `genreid features` writes it (`filename`, `length`, float features,
/// `label`).
pub fn read_feature_table(path: &Path) -> Result<genreid_data::FeatureTable> {
    match TableFormat::of(path)? {
        TableFormat::Csv => Ok(genreid_data::read_table(path)?),
        TableFormat::Parquet => {
            read_parquet(path).with_context(|| format!("{}: cannot read", path.display()))
        }
    }
}

fn read_parquet(path: &Path) -> Result<genreid_data::FeatureTable> {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    let file = std::fs::File::open(path)?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
    let mut table = genreid_data::FeatureTable {
        columns: Vec::new(),
        names: Vec::new(),
        labels: Vec::new(),
        rows: Vec::new(),
        artists: None,
    };
    for batch in reader {
        let batch = batch?;
        let schema = batch.schema();
        let strings = |name: &str| -> Result<Vec<String>> {
            let column = batch.column_by_name(name).with_context(|| format!("no `{name}` column"))?;
            match column.data_type() {
                DataType::Utf8 => {
                    let c = column.as_string::<i32>();
                    Ok((0..c.len()).map(|i| c.value(i).to_string()).collect())
                }
                DataType::LargeUtf8 => {
                    let c = column.as_string::<i64>();
                    Ok((0..c.len()).map(|i| c.value(i).to_string()).collect())
                }
                _ => (0..column.len()).map(|r| Ok(number(column, r, name)?.to_string())).collect(),
            }
        };
        let labels = strings("label")?;
        let names = if schema.column_with_name("filename").is_some() {
            strings("filename")?
        } else {
            (table.rows.len() + 1..=table.rows.len() + labels.len()).map(|n| n.to_string()).collect()
        };
        let features: Vec<usize> = (0..schema.fields().len())
            .filter(|&i| !genreid_data::BOOKKEEPING.contains(&schema.field(i).name().as_str()))
            .collect();
        let columns: Vec<String> = features.iter().map(|&i| schema.field(i).name().clone()).collect();
        if table.columns.is_empty() {
            table.columns = columns;
        } else if table.columns != columns {
            bail!("record batches disagree on the feature columns");
        }
        let mut values = vec![Vec::with_capacity(features.len()); batch.num_rows()];
        for (&i, name) in features.iter().zip(&table.columns) {
            let column = batch.column(i);
            for (r, row) in values.iter_mut().enumerate() {
                if column.is_null(r) {
                    bail!("row {}, column {name}: missing value", table.rows.len() + r + 1);
                }
                row.push(number(column, r, name)?);
            }
        }
        table.rows.extend(values);
        if schema.column_with_name("artist").is_some() {
            table.artists.get_or_insert_with(Vec::new).extend(strings("artist")?);
        }
        table.labels.extend(labels);
        table.names.extend(names);
    }
    if table.rows.is_empty() || table.columns.is_empty() {
        bail!("no rows or no feature columns");
    }
    Ok(table)
}

/// Entry `r` of a numeric Arrow column as f64.
fn number(column: &ArrayRef, r: usize, name: &str) -> Result<f64> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type, UInt32Type, UInt64Type};
    Ok(match column.data_type() {
        DataType::Float64 => column.as_primitive::<Float64Type>().value(r),
        DataType::Float32 => f64::from(column.as_primitive::<Float32Type>().value(r)),
        DataType::Int64 => column.as_primitive::<Int64Type>().value(r) as f64,
        DataType::Int32 => f64::from(column.as_primitive::<Int32Type>().value(r)),
        DataType::UInt64 => column.as_primitive::<UInt64Type>().value(r) as f64,
        DataType::UInt32 => f64::from(column.as_primitive::<UInt32Type>().value(r)),
        other => bail!("column {name} has type {other}, not a number"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parquet_tables_read_back_as_written() {
        let dir = std::env::temp_dir().join(format!("genreid-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let table = Table {
            columns: vec!["a".into(), "b".into()],
            filenames: vec!["x.wav".into(), "y.wav".into()],
            lengths: vec![10, 20],
            values: vec![vec![1.5, -2.0], vec![0.1, 1e300]],
            labels: vec!["rock".into(), "jazz".into()],
        };
        for name in ["t.parquet", "t.csv"] {
            let path = dir.join(name);
            write_table(&path, TableFormat::of(&path).unwrap(), &table).unwrap();
            let back = read_feature_table(&path).unwrap();
            assert_eq!(back.columns, table.columns);
            assert_eq!(back.rows, table.values);
            assert_eq!(back.labels, table.labels);
            assert_eq!(back.names, table.filenames);
        }
        std::fs::write(dir.join("bad.parquet"), b"not parquet").unwrap();
        let e = format!("{:#}", read_feature_table(&dir.join("bad.parquet")).unwrap_err());
        assert!(e.contains("bad.parquet"), "{e}");
    }
}
