//! The columns every batch row starts with: which file (`path`,
//! `relative_path`) and which version of it (`size`, `modified`,
//! `content_sha256`), what `--resume` matches on.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use arrow_array::{ArrayRef, StringArray, TimestampNanosecondArray, UInt64Array};
use arrow_schema::{DataType, Field, TimeUnit};
use genreid_data::FoundFile;
use sha2::{Digest, Sha256};

/// A file's size and modification time (nanoseconds since 1970), as rows record them.
pub fn file_stamp(path: &Path) -> std::io::Result<(u64, i64)> {
    let meta = std::fs::metadata(path)?;
    let modified = meta.modified()?;
    let ns = match modified.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_nanos()).unwrap_or(i64::MAX),
    };
    Ok((meta.len(), ns))
}

/// The columns every row starts with: which file, and which version of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStamp {
    /// The file as opened.
    pub path: String,
    /// Its path below the folder it was found in (what shards hash).
    pub relative_path: String,
    /// Its size in bytes, when it could be read.
    pub size: Option<u64>,
    /// Its modification time, nanoseconds since 1970 (UTC).
    pub modified_ns: Option<i64>,
    /// Hex SHA-256 of its bytes.
    pub content_sha256: Option<String>,
}

impl FileStamp {
    /// `file`'s stamp, read from disk; when it cannot be read, the stamp
    /// holds only its path, beside the error message (naming the file).
    pub fn read(file: &FoundFile) -> (Self, Option<String>) {
        let mut stamp = FileStamp {
            path: genreid_data::path_text(&file.path),
            relative_path: file.relative.clone(),
            ..Default::default()
        };
        match file_stamp(&file.path).and_then(|stamp| Ok((stamp, sha256_file(&file.path)?))) {
            Ok(((size, ns), hash)) => {
                stamp.size = Some(size);
                stamp.modified_ns = Some(ns);
                stamp.content_sha256 = Some(hash);
                (stamp, None)
            }
            Err(e) => {
                let message = format!("{}: cannot read: {e}", file.path.display());
                (stamp, Some(message))
            }
        }
    }
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The stamp's columns, in order: `path`, `relative_path`, `size`, `modified`, `content_sha256`.
pub fn stamp_fields() -> Vec<Field> {
    vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("relative_path", DataType::Utf8, false),
        Field::new("size", DataType::UInt64, true),
        Field::new("modified", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), true),
        Field::new("content_sha256", DataType::Utf8, true),
    ]
}

/// The [`stamp_fields`] columns of `stamps`, one row each.
pub fn stamp_columns<'a>(stamps: impl Iterator<Item = &'a FileStamp> + Clone) -> Vec<ArrayRef> {
    vec![
        Arc::new(stamps.clone().map(|s| Some(s.path.as_str())).collect::<StringArray>()),
        Arc::new(stamps.clone().map(|s| Some(s.relative_path.as_str())).collect::<StringArray>()),
        Arc::new(stamps.clone().map(|s| s.size).collect::<UInt64Array>()),
        Arc::new(
            stamps.clone().map(|s| s.modified_ns).collect::<TimestampNanosecondArray>().with_timezone("UTC"),
        ),
        Arc::new(stamps.map(|s| s.content_sha256.as_deref()).collect::<StringArray>()),
    ]
}
