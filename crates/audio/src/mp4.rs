//! Gapless information of MP4/M4A files, which Symphonia's MP4 reader
//! parses but does not apply: the edit list (`moov/trak/edts/elst`, what
//! ffmpeg and Apple's encoders write) or, without one, iTunes'
//! `iTunSMPB` comment. Both say how many priming frames the AAC encoder
//! put before the music and how long the music is, so a decode can start
//! at the source's first sample and end at its last, as ffmpeg's does.
//!
//! Written by hand because no MP4 crate in the tree exposes the edit list
//! (about a hundred lines). Every size is checked against the bytes
//! present, nesting is bounded, and at most [`MAX_MOOV`] bytes are read.

use std::io::{Read, Seek, SeekFrom};

/// The largest `moov` atom read (its sample tables grow with the length of
/// the file: a 4-hour AAC file has one of about 3 MB).
const MAX_MOOV: u64 = 64 << 20;

/// What the file says about priming and length, in its own units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gapless {
    /// An edit list: skip `media_time` (media timescale units), then keep
    /// `duration` (movie timescale units; 0 when not stated).
    EditList { media_time: u64, media_timescale: u32, duration: u64, movie_timescale: u32 },
    /// iTunes' `iTunSMPB`: priming frames and the source's frame count.
    ITunSmpb { priming: u64, frames: u64 },
}

/// Frames to drop at the start and, when known, frames to keep after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Trim {
    /// Frames dropped from the start of the decode.
    pub skip: u64,
    /// Frames kept after the skip; `None` keeps all.
    pub keep: Option<u64>,
}

impl Gapless {
    /// The trim in frames of a stream at `sample_rate`.
    pub(crate) fn trim(self, sample_rate: u32) -> Trim {
        let scale = |v: u64, timescale: u32| {
            (u128::from(v) * u128::from(sample_rate) / u128::from(timescale.max(1))).min(u128::from(u64::MAX))
                as u64
        };
        match self {
            Gapless::EditList { media_time, media_timescale, duration, movie_timescale } => Trim {
                skip: scale(media_time, media_timescale),
                keep: (duration > 0).then(|| scale(duration, movie_timescale)),
            },
            Gapless::ITunSmpb { priming, frames } => {
                Trim { skip: priming, keep: (frames > 0).then_some(frames) }
            }
        }
    }
}

/// Whether `head` (a file's first bytes) starts like an MP4 file.
pub(crate) fn looks_like_mp4(head: &[u8]) -> bool {
    head.len() >= 8 && &head[4..8] == b"ftyp"
}

/// Reads the gapless information of the first sound track, if the file
/// has any. Damage is not an error here: the decoder reports it.
pub(crate) fn gapless_info<R: Read + Seek>(r: &mut R) -> Option<Gapless> {
    let end = r.seek(SeekFrom::End(0)).ok()?;
    let mut at = 0;
    while at + 8 <= end {
        let (kind, header, size) = atom_at(r, at, end)?;
        if &kind == b"moov" {
            if size - header > MAX_MOOV {
                return None;
            }
            r.seek(SeekFrom::Start(at + header)).ok()?;
            let mut moov = vec![0u8; (size - header) as usize];
            r.read_exact(&mut moov).ok()?;
            return from_moov(&moov);
        }
        at += size;
    }
    None
}

/// The atom at `at`: its type, header length and whole size (within `end`).
fn atom_at<R: Read + Seek>(r: &mut R, at: u64, end: u64) -> Option<([u8; 4], u64, u64)> {
    r.seek(SeekFrom::Start(at)).ok()?;
    let mut h = [0u8; 16];
    r.read_exact(&mut h[..8]).ok()?;
    let kind = [h[4], h[5], h[6], h[7]];
    let (header, size) = match u32::from_be_bytes([h[0], h[1], h[2], h[3]]) {
        0 => (8, end - at),
        1 => {
            r.read_exact(&mut h[8..16]).ok()?;
            (16, u64::from_be_bytes(h[8..16].try_into().ok()?))
        }
        n => (8, u64::from(n)),
    };
    (size >= header && size <= end - at).then_some((kind, header, size))
}

/// The children of an atom body: (type, body) pairs, stopping at damage.
fn children(body: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let h = body.get(at..at + 8)?;
        let kind = [h[4], h[5], h[6], h[7]];
        let (header, size) = match u32::from_be_bytes([h[0], h[1], h[2], h[3]]) {
            0 => (8, body.len() - at),
            1 => (16, usize::try_from(u64::from_be_bytes(body.get(at + 8..at + 16)?.try_into().ok()?)).ok()?),
            n => (8, n as usize),
        };
        if size < header || size > body.len() - at {
            return None;
        }
        let child = &body[at + header..at + size];
        at += size;
        Some((kind, child))
    })
}

fn child<'a>(body: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(body).find(|(k, _)| k == kind).map(|(_, b)| b)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// A full box's timescale (`mvhd` and `mdhd` share the layout up to it).
fn timescale(header_box: &[u8]) -> Option<u32> {
    let at = if header_box.first()? == &1 { 20 } else { 12 };
    be32(header_box, at).filter(|&t| t > 0)
}

fn from_moov(moov: &[u8]) -> Option<Gapless> {
    let movie_timescale = child(moov, b"mvhd").and_then(timescale)?;
    let trak = children(moov).filter(|(k, _)| k == b"trak").map(|(_, b)| b).find(|trak| {
        child(trak, b"mdia").and_then(|m| child(m, b"hdlr")).and_then(|h| h.get(8..12)) == Some(b"soun")
    })?;
    let media_timescale = child(trak, b"mdia").and_then(|m| child(m, b"mdhd")).and_then(timescale)?;
    if let Some(elst) = child(trak, b"edts").and_then(|e| child(e, b"elst")) {
        let version = *elst.first()?;
        let count = be32(elst, 4)? as usize;
        let entry = if version == 1 { 20 } else { 12 };
        for i in 0..count.min(elst.len() / entry) {
            let at = 8 + i * entry;
            let (duration, media_time) = if version == 1 {
                (be64(elst, at)?, be64(elst, at + 8)? as i64)
            } else {
                (u64::from(be32(elst, at)?), i64::from(be32(elst, at + 4)? as i32))
            };
            // An empty edit (media time -1) only delays the start; skip it.
            if media_time >= 0 {
                return Some(Gapless::EditList {
                    media_time: media_time as u64,
                    media_timescale,
                    duration,
                    movie_timescale,
                });
            }
        }
    }
    itunsmpb(moov)
}

/// `moov/udta/meta/ilst/----` named `iTunSMPB`: " 00000000 PPPPPPPP EEEEEEEE NNNNNNNNNNNNNNNN ...".
fn itunsmpb(moov: &[u8]) -> Option<Gapless> {
    let meta = child(child(moov, b"udta")?, b"meta")?;
    // `meta` is a full box: version and flags come before its children.
    let ilst = child(meta.get(4..)?, b"ilst")?;
    children(ilst).filter(|(k, _)| k == b"----").find_map(|(_, item)| {
        let name = child(item, b"name")?;
        if name.get(4..)? != b"iTunSMPB" {
            return None;
        }
        let text = std::str::from_utf8(child(item, b"data")?.get(8..)?).ok()?;
        let fields: Vec<u64> =
            text.split_whitespace().map(|f| u64::from_str_radix(f, 16)).collect::<Result<_, _>>().ok()?;
        Some(Gapless::ITunSmpb { priming: *fields.get(1)?, frames: *fields.get(3)? })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn atom(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut a = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        a.extend_from_slice(kind);
        a.extend_from_slice(body);
        a
    }

    fn header_box(timescale: u32) -> Vec<u8> {
        let mut b = vec![0u8; 12];
        b.extend_from_slice(&timescale.to_be_bytes());
        b.extend_from_slice(&[0; 4]);
        b
    }

    fn file(elst: Option<Vec<u8>>, udta: Option<Vec<u8>>) -> Vec<u8> {
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(b"soun");
        let mdia = [atom(b"mdhd", &header_box(44_100)), atom(b"hdlr", &hdlr)].concat();
        let mut trak = atom(b"mdia", &mdia);
        if let Some(elst) = elst {
            trak.extend(atom(b"edts", &atom(b"elst", &elst)));
        }
        let mut moov = [atom(b"mvhd", &header_box(1_000)), atom(b"trak", &trak)].concat();
        if let Some(udta) = udta {
            moov.extend(atom(b"udta", &udta));
        }
        [atom(b"ftyp", b"M4A \0\0\0\0"), atom(b"mdat", &[0; 100]), atom(b"moov", &moov)].concat()
    }

    #[test]
    fn edit_list_gives_priming_and_length() {
        let mut elst = vec![0, 0, 0, 0, 0, 0, 0, 2];
        // An empty edit first (ignored), then the real one.
        for (duration, media_time) in [(5u32, -1i32), (10_000, 1_024)] {
            elst.extend_from_slice(&duration.to_be_bytes());
            elst.extend_from_slice(&media_time.to_be_bytes());
            elst.extend_from_slice(&[0, 1, 0, 0]);
        }
        let f = file(Some(elst), None);
        assert!(looks_like_mp4(&f));
        let g = gapless_info(&mut Cursor::new(&f)).unwrap();
        assert_eq!(g.trim(44_100), Trim { skip: 1_024, keep: Some(441_000) });
    }

    #[test]
    fn itunsmpb_is_the_fallback() {
        let text = b" 00000000 00000840 000001CA 000000000006B6C4 00000000";
        let data = [&[0u8, 0, 0, 1, 0, 0, 0, 0][..], text].concat();
        let item = [
            atom(b"mean", b"\0\0\0\0com.apple.iTunes"),
            atom(b"name", b"\0\0\0\0iTunSMPB"),
            atom(b"data", &data),
        ]
        .concat();
        let meta = [vec![0u8; 4], atom(b"hdlr", &[0; 20]), atom(b"ilst", &atom(b"----", &item))].concat();
        let f = file(None, Some(atom(b"meta", &meta)));
        let g = gapless_info(&mut Cursor::new(&f)).unwrap();
        assert_eq!(g.trim(44_100), Trim { skip: 0x840, keep: Some(0x6B6C4) });
    }

    #[test]
    fn damaged_or_foreign_bytes_give_nothing() {
        for bytes in [
            &b""[..],
            b"\0\0\0\x08ftyp",
            b"\xff\xff\xff\xffmoov",
            b"\0\0\0\x01moov\xff\xff\xff\xff\xff\xff\xff\xff",
        ] {
            assert_eq!(gapless_info(&mut Cursor::new(bytes)), None);
        }
        let mut f = file(None, None);
        let n = f.len();
        f.truncate(n - 10);
        assert_eq!(gapless_info(&mut Cursor::new(&f)), None);
    }
}
