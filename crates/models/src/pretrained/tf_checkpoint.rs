//! A reader for TensorFlow "V2" checkpoints (tensor bundles): the
//! `<prefix>.index` SSTable of `BundleEntryProto`s and the
//! `<prefix>.data-SSSSS-of-NNNNN` shards they point into. Every block and
//! tensor checksum (masked CRC-32C) is verified. Enough of the format for
//! uncompressed, unpartitioned float32 bundles such as musicnn's; anything
//! else is refused with a reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{ModelError, Result};

const FOOTER_LEN: usize = 48;
const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
const DT_FLOAT: u64 = 1;

/// One float32 tensor of a checkpoint, in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointTensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values, last dimension fastest.
    pub values: Vec<f32>,
}

/// The masked CRC-32C TensorFlow and LevelDB store beside blocks and tensors.
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    let c = CRC32C.checksum(bytes);
    c.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Reads every float32 tensor of the checkpoint with this prefix (for the
/// musicnn wheel the prefix is the model directory with a trailing `/`).
pub fn read_checkpoint(prefix: &Path) -> Result<BTreeMap<String, CheckpointTensor>> {
    let index_path = with_suffix(prefix, ".index");
    let fail = |path: &Path, reason: String| ModelError::File { path: path.to_path_buf(), reason };
    let index = std::fs::read(&index_path).map_err(|e| fail(&index_path, e.to_string()))?;
    let entries = read_table(&index).map_err(|reason| fail(&index_path, reason))?;
    let header = entries
        .first()
        .filter(|(k, _)| k.is_empty())
        .ok_or_else(|| fail(&index_path, "no bundle header (the empty key) in the index".into()))?;
    let header = parse_message(&header.1).map_err(|r| fail(&index_path, r))?;
    let num_shards = header.varint(1).max(1);
    if header.varint(2) != 0 {
        return Err(fail(&index_path, "big-endian bundles are not supported".into()));
    }
    let mut shards: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (key, value) in entries.iter().skip(1) {
        let name = String::from_utf8_lossy(key).into_owned();
        let bad = |reason: String| fail(&index_path, format!("tensor {name}: {reason}"));
        let entry = parse_message(value).map_err(&bad)?;
        if entry.varint(1) != DT_FLOAT {
            continue; // Adam's scalar powers and other non-float tensors are not weights.
        }
        if entry.has(7) {
            return Err(bad("partitioned (sliced) tensors are not supported".into()));
        }
        let shape = parse_shape(entry.bytes(2).unwrap_or(&[])).map_err(&bad)?;
        let shard = entry.varint(3);
        if shard >= num_shards {
            return Err(bad(format!("shard {shard} of {num_shards}")));
        }
        let data = match shards.entry(shard) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let path = with_suffix(prefix, &format!(".data-{shard:05}-of-{num_shards:05}"));
                v.insert(std::fs::read(&path).map_err(|e| fail(&path, e.to_string()))?)
            }
        };
        let (offset, size) = (entry.varint(4) as usize, entry.varint(5) as usize);
        let count: usize = shape.iter().product();
        if size != 4 * count {
            return Err(bad(format!("{size} bytes for {count} float32 values")));
        }
        let bytes = offset
            .checked_add(size)
            .and_then(|end| data.get(offset..end))
            .ok_or_else(|| bad(format!("bytes {offset}..+{size} lie outside the data file")))?;
        let crc = entry.fixed32(6).ok_or_else(|| bad("no checksum".into()))?;
        if masked_crc32c(bytes) != crc {
            return Err(bad("checksum mismatch: the data file is damaged".into()));
        }
        let values = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        out.insert(name, CheckpointTensor { shape, values });
    }
    Ok(out)
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// All key/value entries of an uncompressed LevelDB-format table, in order.
fn read_table(file: &[u8]) -> std::result::Result<Entries, String> {
    if file.len() < FOOTER_LEN {
        return Err(format!("{} bytes is too short for a table footer", file.len()));
    }
    let footer = &file[file.len() - FOOTER_LEN..];
    let magic = u64::from_le_bytes(footer[40..48].try_into().expect("8 bytes"));
    if magic != TABLE_MAGIC {
        return Err("not a TensorFlow checkpoint index (bad table magic)".into());
    }
    let mut cursor = Cursor { bytes: footer, pos: 0 };
    let _metaindex = (cursor.varint()?, cursor.varint()?);
    let index_handle = (cursor.varint()?, cursor.varint()?);
    let index = read_block(file, index_handle)?;
    let mut entries = Vec::new();
    for (_, handle) in block_entries(index)? {
        let mut c = Cursor { bytes: &handle, pos: 0 };
        let block = read_block(file, (c.varint()?, c.varint()?))?;
        entries.extend(block_entries(block)?);
    }
    Ok(entries)
}

/// The contents of the block at `(offset, size)`, its trailer checked.
fn read_block(file: &[u8], (offset, size): (u64, u64)) -> std::result::Result<&[u8], String> {
    let (offset, size) = (offset as usize, size as usize);
    let end = offset.checked_add(size).and_then(|e| e.checked_add(5)).filter(|&e| e <= file.len());
    let end = end.ok_or_else(|| format!("block at {offset}+{size} runs past the end of the file"))?;
    let (contents, trailer) = (&file[offset..offset + size], &file[offset + size..end]);
    if trailer[0] != 0 {
        return Err(format!("block at {offset} is compressed (type {}), unsupported", trailer[0]));
    }
    let stored = u32::from_le_bytes(trailer[1..5].try_into().expect("4 bytes"));
    if masked_crc32c(&file[offset..offset + size + 1]) != stored {
        return Err(format!("block at {offset}: checksum mismatch"));
    }
    Ok(contents)
}

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Decodes a block's prefix-compressed entries (the restart array is skipped).
fn block_entries(block: &[u8]) -> std::result::Result<Entries, String> {
    if block.len() < 4 {
        return Err("block shorter than its restart count".into());
    }
    let restarts = u32::from_le_bytes(block[block.len() - 4..].try_into().expect("4 bytes")) as usize;
    let end = restarts
        .checked_mul(4)
        .and_then(|r| block.len().checked_sub(4 + r))
        .ok_or("restart array larger than the block")?;
    let mut cursor = Cursor { bytes: &block[..end], pos: 0 };
    let mut entries: Entries = Vec::new();
    let mut key = Vec::new();
    while cursor.pos < end {
        let shared = cursor.varint()? as usize;
        let non_shared = cursor.varint()? as usize;
        let value_len = cursor.varint()? as usize;
        if shared > key.len() {
            return Err("entry shares more key bytes than the previous key has".into());
        }
        key.truncate(shared);
        key.extend_from_slice(cursor.take(non_shared)?);
        entries.push((key.clone(), cursor.take(value_len)?.to_vec()));
    }
    Ok(entries)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn varint(&mut self) -> std::result::Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or("truncated entry")?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
}

/// A protobuf message's fields by number (the last value wins, as in proto3).
#[derive(Default)]
struct Message<'a> {
    fields: Vec<(u64, Field<'a>)>,
}

#[derive(Clone, Copy)]
enum Field<'a> {
    Varint(u64),
    Fixed32(u32),
    Fixed64,
    Bytes(&'a [u8]),
}

impl<'a> Message<'a> {
    fn find(&self, no: u64) -> Option<Field<'a>> {
        self.fields.iter().rev().find(|(n, _)| *n == no).map(|(_, f)| *f)
    }
    fn has(&self, no: u64) -> bool {
        self.find(no).is_some()
    }
    /// A varint field; a missing field is 0 (proto3 default).
    fn varint(&self, no: u64) -> u64 {
        match self.find(no) {
            Some(Field::Varint(v)) => v,
            _ => 0,
        }
    }
    fn fixed32(&self, no: u64) -> Option<u32> {
        match self.find(no) {
            Some(Field::Fixed32(v)) => Some(v),
            _ => None,
        }
    }
    fn bytes(&self, no: u64) -> Option<&'a [u8]> {
        match self.find(no) {
            Some(Field::Bytes(b)) => Some(b),
            _ => None,
        }
    }
    fn repeated_bytes(&self, no: u64) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.fields.iter().filter_map(move |(n, f)| match f {
            Field::Bytes(b) if *n == no => Some(*b),
            _ => None,
        })
    }
}

fn parse_message(bytes: &[u8]) -> std::result::Result<Message<'_>, String> {
    let mut c = Cursor { bytes, pos: 0 };
    let mut msg = Message::default();
    while c.pos < bytes.len() {
        let key = c.varint()?;
        let field = match key & 7 {
            0 => Field::Varint(c.varint()?),
            1 => {
                c.take(8)?;
                Field::Fixed64
            }
            2 => {
                let n = c.varint()? as usize;
                Field::Bytes(c.take(n)?)
            }
            5 => Field::Fixed32(u32::from_le_bytes(c.take(4)?.try_into().expect("4 bytes"))),
            w => return Err(format!("unsupported protobuf wire type {w}")),
        };
        msg.fields.push((key >> 3, field));
    }
    Ok(msg)
}

/// TensorShapeProto: repeated `dim` (field 2) of `{size: int64 (1)}`.
fn parse_shape(bytes: &[u8]) -> std::result::Result<Vec<usize>, String> {
    let shape = parse_message(bytes)?;
    if shape.varint(3) != 0 {
        return Err("unknown rank".into());
    }
    shape
        .repeated_bytes(2)
        .map(|dim| {
            let size = parse_message(dim)?.varint(1);
            usize::try_from(size).ok().filter(|&s| s < 1 << 32).ok_or_else(|| format!("dimension {size}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value_and_mask() {
        assert_eq!(CRC32C.checksum(b"123456789"), 0xE306_9283);
        // crc32c("") = 0, so its mask is the bare delta.
        assert_eq!(masked_crc32c(b""), 0xa282_ead8);
    }

    #[test]
    fn decodes_a_bundle_entry_proto() {
        // The entry of `batch_normalization/moving_mean` in MTT_musicnn (PORTING.md §8).
        let bytes = [
            0x08, 0x01, 0x12, 0x04, 0x12, 0x02, 0x08, 0x01, 0x20, 0x18, 0x28, 0x04, 0x35, 0x28, 0x51, 0x9b,
            0x92,
        ];
        let m = parse_message(&bytes).unwrap();
        assert_eq!(m.varint(1), DT_FLOAT);
        assert_eq!(parse_shape(m.bytes(2).unwrap()).unwrap(), vec![1]);
        assert_eq!((m.varint(3), m.varint(4), m.varint(5)), (0, 24, 4));
        assert_eq!(m.fixed32(6), Some(0x929b_5128));
    }

    /// Writes a one-block table the way LevelDB does (no prefix sharing).
    fn table(entries: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
        fn varint(out: &mut Vec<u8>, mut v: u64) {
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        fn block(out: &mut Vec<u8>, entries: &[(&[u8], Vec<u8>)]) -> (u64, u64) {
            let start = out.len();
            for (k, v) in entries {
                varint(out, 0);
                varint(out, k.len() as u64);
                varint(out, v.len() as u64);
                out.extend_from_slice(k);
                out.extend_from_slice(v);
            }
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
            let size = out.len() - start;
            out.push(0);
            let crc = masked_crc32c(&out[start..]);
            out.extend_from_slice(&crc.to_le_bytes());
            (start as u64, size as u64)
        }
        let mut out = Vec::new();
        let data = block(&mut out, entries);
        let meta = block(&mut out, &[]);
        let mut handle = Vec::new();
        varint(&mut handle, data.0);
        varint(&mut handle, data.1);
        let index = block(&mut out, &[(b"e", handle)]);
        let mut footer = Vec::new();
        for v in [meta.0, meta.1, index.0, index.1] {
            varint(&mut footer, v);
        }
        footer.resize(40, 0);
        footer.extend_from_slice(&TABLE_MAGIC.to_le_bytes());
        out.extend_from_slice(&footer);
        out
    }

    #[test]
    fn reads_a_bundle_and_refuses_damage() {
        let dir = std::env::temp_dir().join(format!("genreid-tfckpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let prefix = dir.join("model");
        let values: Vec<u8> =
            [1.5f32, -2.0, 0.25, 8.0, 3.0, 4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let crc = masked_crc32c(&values);
        let mut entry = vec![0x08, 0x01, 0x12, 0x08, 0x12, 0x02, 0x08, 0x02, 0x12, 0x02, 0x08, 0x03];
        entry.extend_from_slice(&[0x28, 24, 0x35]);
        entry.extend_from_slice(&crc.to_le_bytes());
        let index = table(&[(b"", vec![0x08, 0x01, 0x1a, 0x02, 0x08, 0x01]), (b"w", entry)]);
        std::fs::write(with_suffix(&prefix, ".index"), &index).unwrap();
        std::fs::write(with_suffix(&prefix, ".data-00000-of-00001"), &values).unwrap();
        let tensors = read_checkpoint(&prefix).unwrap();
        assert_eq!(tensors["w"].shape, vec![2, 3]);
        assert_eq!(tensors["w"].values, vec![1.5, -2.0, 0.25, 8.0, 3.0, 4.0]);

        let mut damaged = values.clone();
        damaged[5] ^= 1;
        std::fs::write(with_suffix(&prefix, ".data-00000-of-00001"), &damaged).unwrap();
        let e = read_checkpoint(&prefix).unwrap_err().to_string();
        assert!(e.contains("checksum mismatch") && e.contains("tensor w"), "{e}");

        let mut bad_index = index.clone();
        bad_index[3] ^= 0x40;
        std::fs::write(with_suffix(&prefix, ".index"), &bad_index).unwrap();
        let e = read_checkpoint(&prefix).unwrap_err().to_string();
        assert!(e.contains("checksum mismatch") && e.contains(".index"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
