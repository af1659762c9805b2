//! Where a batch run's rows go: one Parquet file, or a folder of parts.
//!
//! Every file is written beside its final name under a dot-name (which
//! Parquet readers such as pyarrow, Spark and Ray skip), synced, then
//! renamed, so a run killed at any moment leaves only complete files.
//! Part names carry the shard, the run's start time and process id, so
//! workers writing into one folder never touch each other's files.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampNanosecondType, UInt64Type};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::shard::Shard;
use crate::error::{PipelineError, Result};

/// Where rows are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutput {
    /// A folder of `part-*.parquet` files, added to run by run (resumable).
    Folder(PathBuf),
    /// One Parquet file, written once at the end.
    File(PathBuf),
}

fn failed(path: &Path, what: &str, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Output(format!("{}: {what}: {e}", path.display()))
}

impl BatchOutput {
    /// `out` as the user gave it: a name ending in `.parquet` is one file,
    /// an existing folder, a name ending in `/` or a name without an
    /// extension a folder, created if its parent exists; another extension
    /// (`results.csv`) is an error.
    pub fn parse(out: &Path) -> Result<Self> {
        let text = out.to_string_lossy();
        let is_file = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        if is_file && !text.ends_with('/') {
            let dir = parent_of(out);
            if !dir.is_dir() {
                return Err(failed(
                    out,
                    "cannot write",
                    format!("the folder {} does not exist", dir.display()),
                ));
            }
            return Ok(BatchOutput::File(out.to_path_buf()));
        }
        // `--out results.csv` would quietly become a folder of Parquet parts.
        if let Some(extension) = out.extension().filter(|_| !text.ends_with('/') && !out.is_dir()) {
            return Err(failed(
                out,
                "cannot write",
                format!(
                    "a batch run writes Parquet, not .{}: name a FILE.parquet, or a folder of parts \
                     (end its name with /)",
                    extension.to_string_lossy()
                ),
            ));
        }
        if !out.is_dir() {
            let parent = parent_of(out.components().as_path());
            if !parent.is_dir() {
                return Err(failed(
                    out,
                    "cannot create",
                    format!("the folder {} does not exist", parent.display()),
                ));
            }
            std::fs::create_dir(out)
                .or_else(|e| if out.is_dir() { Ok(()) } else { Err(e) })
                .map_err(|e| failed(out, "cannot create", e))?;
        }
        Ok(BatchOutput::Folder(out.to_path_buf()))
    }

    /// The complete Parquet files already there (a folder's parts, or the file).
    pub fn existing_parts(&self) -> Result<Vec<PathBuf>> {
        match self {
            BatchOutput::File(path) => Ok(path.is_file().then(|| path.clone()).into_iter().collect()),
            BatchOutput::Folder(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|e| failed(dir, "cannot list", e))?;
                let mut parts: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| {
                        let name =
                            p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        !name.starts_with('.')
                            && !name.starts_with('_')
                            && name.ends_with(".parquet")
                            && p.is_file()
                    })
                    .collect();
                parts.sort();
                Ok(parts)
            }
        }
    }
}

fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// What identifies a file already done: its path, size and modification time.
pub type DoneKey = (String, u64, i64);

/// The keys of every row in the complete parts already in `output` (for `--resume`).
pub fn done_keys(output: &BatchOutput) -> Result<HashSet<DoneKey>> {
    let mut keys = HashSet::new();
    for part in output.existing_parts()? {
        read_keys(&part, &mut keys).map_err(|e| failed(&part, "cannot resume from this part", e))?;
    }
    Ok(keys)
}

fn read_keys(
    part: &Path,
    keys: &mut HashSet<DoneKey>,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(part)?)?;
    let schema = builder.schema().clone();
    let roots = ["path", "size", "modified"].map(|c| schema.index_of(c));
    let roots: Vec<usize> = roots.into_iter().collect::<std::result::Result<_, _>>()?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    for batch in builder.with_projection(mask).build()? {
        let batch = batch?;
        let column = |name: &str| batch.column_by_name(name).ok_or_else(|| format!("no column {name}"));
        let paths = column("path")?.as_string_opt::<i32>().ok_or("path is not utf8")?;
        let sizes = column("size")?.as_primitive_opt::<UInt64Type>().ok_or("size is not uint64")?;
        let times = column("modified")?
            .as_primitive_opt::<TimestampNanosecondType>()
            .ok_or("modified is not a timestamp")?;
        for i in 0..batch.num_rows() {
            if sizes.is_valid(i) && times.is_valid(i) {
                keys.insert((paths.value(i).to_string(), sizes.value(i), times.value(i)));
            }
        }
    }
    Ok(())
}

/// Writes one run's parts into a folder, each complete before it appears.
#[derive(Debug)]
pub struct PartWriter {
    dir: PathBuf,
    prefix: String,
    written: usize,
}

impl PartWriter {
    /// A writer for `dir` whose part names carry `shard` and this run's identity.
    pub fn new(dir: &Path, shard: Shard) -> Self {
        let started = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let prefix = format!("part-{}-of-{}-{started:012x}-{}", shard.index, shard.count, std::process::id());
        PartWriter { dir: dir.to_path_buf(), prefix, written: 0 }
    }

    /// Writes `batch` as the run's next part and returns its path.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<PathBuf> {
        let path = self.dir.join(format!("{}-{:05}.parquet", self.prefix, self.written));
        write_parquet(&path, batch)?;
        self.written += 1;
        Ok(path)
    }
}

/// Writes `batch` to `path` atomically (dot-named temporary file, sync, rename).
pub fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<()> {
    write_parquet_batches(path, std::slice::from_ref(batch))
}

/// Writes `batches` (of one schema, the first's) to `path` atomically, as [`write_parquet`].
pub fn write_parquet_batches(path: &Path, batches: &[RecordBatch]) -> Result<()> {
    genreid_core::write_atomic(path, |writer| encode_all(writer, batches).map_err(std::io::Error::other))
        .map_err(|e| failed(path, "cannot write", e))
}

/// `batch` as the bytes of a Parquet file (what the Python package hands
/// to pyarrow, equal to the file a run writes).
pub fn parquet_bytes(batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    encode(&mut bytes, batch)
        .map_err(|e| PipelineError::Output(format!("cannot encode rows as Parquet: {e}")))?;
    Ok(bytes)
}

/// Snappy-compressed Parquet of one batch into `sink`.
fn encode(sink: impl std::io::Write + Send, batch: &RecordBatch) -> parquet::errors::Result<()> {
    encode_all(sink, std::slice::from_ref(batch))
}

/// Snappy-compressed Parquet of batches into `sink`, under the first's schema.
fn encode_all(sink: impl std::io::Write + Send, batches: &[RecordBatch]) -> parquet::errors::Result<()> {
    let Some(first) = batches.first() else {
        return Err(parquet::errors::ParquetError::General("no rows to write".into()));
    };
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut writer = ArrowWriter::try_new(sink, first.schema(), Some(props))?;
    for batch in batches {
        writer.write(batch)?;
    }
    writer.close()?;
    Ok(())
}

/// The rows of the Parquet file `path`, as batches of `schema` (whose
/// fields they must have, with `identity`'s column holding its value in
/// every row: the model's version, the feature settings), less those whose
/// `path` is in `replaced`: what a file output resumed or updated keeps of
/// its earlier runs.
pub fn kept_rows(
    path: &Path,
    schema: &arrow_schema::SchemaRef,
    identity: (&str, &str),
    replaced: &HashSet<String>,
) -> Result<Vec<RecordBatch>> {
    let (identity_column, this_run) = identity;
    let unlike = |why: String| {
        PipelineError::Invalid(format!(
            "{}: {why}; name a new file, or remove this one to start again",
            path.display()
        ))
    };
    let read = (|| -> std::result::Result<Vec<RecordBatch>, Box<dyn std::error::Error>> {
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path)?)?;
        Ok(builder.build()?.collect::<std::result::Result<Vec<_>, _>>()?)
    })()
    .map_err(|e| failed(path, "cannot read the rows already there", e))?;
    let mut kept = Vec::with_capacity(read.len());
    for batch in read {
        if batch.schema().fields() != schema.fields() {
            return Err(unlike("its rows have other columns (another model, or other options)".into()));
        }
        let column = |name: &str| batch.column_by_name(name).and_then(|c| c.as_string_opt::<i32>().cloned());
        let (Some(paths), Some(versions)) = (column("path"), column(identity_column)) else {
            return Err(unlike(format!("its rows have no path or {identity_column}")));
        };
        if let Some(other) = versions.iter().flatten().find(|v| *v != this_run) {
            return Err(unlike(format!("its rows have {identity_column} {other}, this run's {this_run}")));
        }
        let keep: arrow_array::BooleanArray =
            (0..batch.num_rows()).map(|i| Some(!replaced.contains(paths.value(i)))).collect();
        let batch = arrow_select::filter::filter_record_batch(&batch, &keep)
            .and_then(|b| b.with_schema(schema.clone()))
            .map_err(|e| failed(path, "cannot keep the rows already there", e))?;
        kept.push(batch);
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_named_like_another_format_is_refused() {
        let dir = std::env::temp_dir().join(format!("genreid-parts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = BatchOutput::parse(&dir.join("results.csv")).unwrap_err().to_string();
        assert!(e.contains("results.csv") && e.contains("writes Parquet, not .csv"), "{e}");
        assert!(!dir.join("results.csv").exists(), "no folder made");
        assert!(matches!(BatchOutput::parse(&dir.join("run.v2/")), Ok(BatchOutput::Folder(_))));
        assert!(matches!(BatchOutput::parse(&dir.join("t.parquet")), Ok(BatchOutput::File(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
