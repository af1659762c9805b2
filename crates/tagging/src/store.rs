//! Reading and writing fields through lofty's concrete tag types (never its
//! lossy generic `Tag`), one format at a time.

use std::borrow::Cow;
use std::io::Cursor;

use lofty::config::{ParseOptions, ParsingMode, WriteOptions};
use lofty::file::{AudioFile, FileType};
use lofty::flac::FlacFile;
use lofty::id3::v2::{Frame, FrameId, Id3v2Tag, Id3v2Version, TextInformationFrame};
use lofty::iff::aiff::{AiffFile, AiffTextChunks};
use lofty::iff::wav::{RiffInfoList, WavFile};
use lofty::mp4::{AtomData, AtomIdent, Ilst, Mp4File};
use lofty::mpeg::MpegFile;
use lofty::ogg::tag::VorbisComments;
use lofty::ogg::{OggPictureStorage, OpusFile, VorbisFile};
use lofty::prelude::Accessor;
use lofty::probe::Probe;

use crate::fields::Field;

/// The file formats genreid can tag and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// MPEG audio (MP3) with ID3v2.
    Mpeg,
    /// FLAC with Vorbis comments.
    Flac,
    /// Ogg Vorbis with Vorbis comments.
    OggVorbis,
    /// Ogg Opus with Vorbis comments.
    Opus,
    /// WAV with an ID3v2 chunk and/or RIFF INFO.
    Wav,
    /// MP4/M4A with an `ilst` atom.
    Mp4,
    /// AIFF/AIFF-C with an `ID3 ` chunk.
    Aiff,
}

/// The format of a file from its bytes (not its name), or why it cannot be tagged.
pub fn format_of(bytes: &[u8]) -> Result<Format, String> {
    // Formats genreid decodes but has no tag writer for (lofty has none;
    // its guess would call Matroska ADTS AAC).
    if bytes.starts_with(b"caff") {
        return Err("CAF files are not tagged by genreid (no tag writer for CAF)".into());
    }
    if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Err("Matroska/WebM files are not tagged by genreid (no tag writer for Matroska)".into());
    }
    let probe = Probe::new(Cursor::new(bytes)).guess_file_type().map_err(|e| e.to_string())?;
    match probe.file_type() {
        Some(FileType::Mpeg) => Ok(Format::Mpeg),
        Some(FileType::Flac) => Ok(Format::Flac),
        Some(FileType::Vorbis) => Ok(Format::OggVorbis),
        Some(FileType::Opus) => Ok(Format::Opus),
        Some(FileType::Wav) => Ok(Format::Wav),
        Some(FileType::Mp4) => Ok(Format::Mp4),
        Some(FileType::Aiff) => Ok(Format::Aiff),
        Some(other) => Err(format!("{other:?} files are not tagged by genreid")),
        None => Err("not a recognised audio file".into()),
    }
}

/// Most frames a leading ID3v2 tag may hold for genreid to edit it. Real
/// tags hold tens (a heavily tagged file a few hundred); lofty's parser
/// checks each new frame against those before it, so its time grows with
/// the square of the count (100,000 TXXX frames: 39 s). Counting the
/// frame headers first is linear, and refuses such a tag at once.
pub const MAX_ID3V2_FRAMES: usize = 10_000;

/// Counts the frames of a leading ID3v2.3/2.4 tag by their headers alone,
/// and refuses one of more than [`MAX_ID3V2_FRAMES`].
fn check_id3v2_frame_count(bytes: &[u8]) -> Result<(), String> {
    let Some(header) = bytes.get(..10).filter(|h| h.starts_with(b"ID3")) else { return Ok(()) };
    let (version, flags) = (header[3], header[5]);
    if !(3..=4).contains(&version) || flags & 0x80 != 0 {
        return Ok(()); // ID3v2.2, or unsynchronised as a whole: lofty decides
    }
    let syncsafe = |b: &[u8]| b.iter().fold(0usize, |n, &x| (n << 7) | usize::from(x & 0x7f));
    let end = (10 + syncsafe(&header[6..10])).min(bytes.len());
    let mut at = 10;
    if flags & 0x40 != 0 {
        // Extended header: its size counts itself in v2.4, not in v2.3.
        let Some(size) = bytes.get(10..14) else { return Ok(()) };
        at += match version {
            4 => syncsafe(size),
            _ => 4 + size.iter().fold(0usize, |n, &x| (n << 8) | usize::from(x)),
        };
    }
    let mut frames = 0usize;
    while let Some(frame) = bytes.get(at..at + 10).filter(|_| at + 10 <= end) {
        if frame[0] == 0 {
            break; // padding
        }
        let size = match version {
            4 => syncsafe(&frame[4..8]),
            _ => frame[4..8].iter().fold(0usize, |n, &x| (n << 8) | usize::from(x)),
        };
        frames += 1;
        if frames > MAX_ID3V2_FRAMES {
            return Err(format!(
                "its ID3v2 tag holds more than {MAX_ID3V2_FRAMES} frames, far beyond any real tag; not edited"
            ));
        }
        at = at.saturating_add(10).saturating_add(size);
    }
    Ok(())
}

/// A parsed file whose tags can be edited and saved.
pub(crate) enum Loaded {
    Mpeg(MpegFile),
    Flac(FlacFile),
    Vorbis(VorbisFile),
    Opus(OpusFile),
    Wav(WavFile),
    Mp4(Mp4File),
    Aiff(AiffFile),
}

/// Every tag lofty parsed from a file, for comparing before and after.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TagSnapshot {
    id3v2: Option<Vec<Frame<'static>>>,
    id3v1: Option<lofty::id3::v1::Id3v1Tag>,
    ape: Option<lofty::ape::ApeTag>,
    vorbis: Option<VorbisComments>,
    pictures: Option<Vec<lofty::picture::Picture>>,
    riff: Option<RiffInfoList>,
    ilst: Option<Ilst>,
    aiff_text: Option<AiffTextChunks>,
}

const GENRE_ID: FrameId<'static> = FrameId::Valid(Cow::Borrowed("TCON"));

fn strict() -> ParseOptions {
    ParseOptions::new().parsing_mode(ParsingMode::Strict).read_properties(false)
}

impl Loaded {
    /// Parses `bytes` strictly: any tag lofty cannot read completely is an error.
    pub(crate) fn parse(format: Format, bytes: &[u8]) -> Result<Self, String> {
        let mut reader = Cursor::new(bytes);
        let options = strict();
        if format == Format::Mpeg {
            check_id3v2_frame_count(bytes)?;
        }
        let loaded = match format {
            Format::Mpeg => MpegFile::read_from(&mut reader, options).map(Self::Mpeg),
            Format::Flac => FlacFile::read_from(&mut reader, options).map(Self::Flac),
            Format::OggVorbis => VorbisFile::read_from(&mut reader, options).map(Self::Vorbis),
            Format::Opus => OpusFile::read_from(&mut reader, options).map(Self::Opus),
            Format::Wav => WavFile::read_from(&mut reader, options).map(Self::Wav),
            Format::Mp4 => Mp4File::read_from(&mut reader, options).map(Self::Mp4),
            Format::Aiff => AiffFile::read_from(&mut reader, options).map(Self::Aiff),
        };
        loaded.map_err(|e| e.to_string())
    }

    /// The current values of `field`, from the format's main tag.
    pub(crate) fn values(&self, field: &Field) -> Vec<String> {
        match self {
            Self::Mpeg(f) => f.id3v2().map(|t| id3v2_values(t, field)).unwrap_or_default(),
            Self::Flac(f) => f.vorbis_comments().map(|t| vorbis_values(t, field)).unwrap_or_default(),
            Self::Vorbis(f) => vorbis_values(f.vorbis_comments(), field),
            Self::Opus(f) => vorbis_values(f.vorbis_comments(), field),
            Self::Wav(f) => match (f.id3v2(), f.riff_info(), field) {
                (Some(t), _, _) => id3v2_values(t, field),
                (None, Some(info), Field::Genre) => info.get("IGNR").map(split_list).unwrap_or_default(),
                _ => Vec::new(),
            },
            Self::Mp4(f) => f.ilst().map(|t| ilst_values(t, field)).unwrap_or_default(),
            Self::Aiff(f) => f.id3v2().map(|t| id3v2_values(t, field)).unwrap_or_default(),
        }
    }

    /// Sets `field` to `values` in every tag of the file that should hold it,
    /// creating the format's main tag when the file has none.
    pub(crate) fn set(&mut self, field: &Field, values: &[String]) -> Result<(), String> {
        match self {
            Self::Mpeg(f) => {
                if f.id3v2().is_none() {
                    f.set_id3v2(Id3v2Tag::new());
                }
                set_id3v2(f.id3v2_mut().expect("just ensured"), field, values);
            }
            Self::Flac(f) => {
                if f.vorbis_comments().is_none() {
                    f.set_vorbis_comments(VorbisComments::new());
                }
                set_vorbis(f.vorbis_comments_mut().expect("just ensured"), field, values);
            }
            Self::Vorbis(f) => set_vorbis(f.vorbis_comments_mut(), field, values),
            Self::Opus(f) => set_vorbis(f.vorbis_comments_mut(), field, values),
            Self::Wav(f) => {
                // RIFF INFO holds genre (IGNR) only; ID3v2 holds every field.
                let info_genre = *field == Field::Genre && f.riff_info().is_some();
                if f.id3v2().is_none() && !info_genre {
                    f.set_id3v2(Id3v2Tag::new());
                }
                if let Some(tag) = f.id3v2_mut() {
                    set_id3v2(tag, field, values);
                }
                if info_genre && let Some(info) = f.riff_info_mut() {
                    info.insert("IGNR".into(), values.join("; "));
                }
            }
            Self::Mp4(f) => {
                if f.ilst().is_none() {
                    f.set_ilst(Ilst::new());
                }
                set_ilst(f.ilst_mut().expect("just ensured"), field, values)?;
            }
            Self::Aiff(f) => {
                // AIFF's own text chunks have no genre; ID3v2 holds every field.
                if f.id3v2().is_none() {
                    f.set_id3v2(Id3v2Tag::new());
                }
                set_id3v2(f.id3v2_mut().expect("just ensured"), field, values);
            }
        }
        Ok(())
    }

    /// A copy of every tag, for verification.
    pub(crate) fn snapshot(&self) -> TagSnapshot {
        let mut s = TagSnapshot {
            id3v2: None,
            id3v1: None,
            ape: None,
            vorbis: None,
            pictures: None,
            riff: None,
            ilst: None,
            aiff_text: None,
        };
        let frames = |t: &Id3v2Tag| t.iter().cloned().collect::<Vec<_>>();
        match self {
            Self::Mpeg(f) => {
                s.id3v2 = f.id3v2().map(frames);
                s.id3v1 = f.id3v1().cloned();
                s.ape = f.ape().cloned();
            }
            Self::Flac(f) => {
                s.id3v2 = f.id3v2().map(frames);
                s.vorbis = f.vorbis_comments().cloned();
                s.pictures = Some(f.pictures().iter().map(|(p, _)| p.clone()).collect());
            }
            Self::Vorbis(f) => s.vorbis = Some(f.vorbis_comments().clone()),
            Self::Opus(f) => s.vorbis = Some(f.vorbis_comments().clone()),
            Self::Wav(f) => {
                s.id3v2 = f.id3v2().map(frames);
                s.riff = f.riff_info().cloned();
            }
            Self::Mp4(f) => s.ilst = f.ilst().cloned(),
            Self::Aiff(f) => {
                s.id3v2 = f.id3v2().map(frames);
                s.aiff_text = f.text_chunks().cloned();
            }
        }
        s
    }

    /// Writes the tags into `file` (a copy of the original bytes), keeping an
    /// ID3v2.3 tag at version 2.3 so older players still read it.
    pub(crate) fn save(&self, file: &mut Cursor<Vec<u8>>) -> Result<(), String> {
        let id3v23 = match self {
            Self::Mpeg(f) => f.id3v2().is_some_and(|t| t.original_version() == Id3v2Version::V3),
            Self::Wav(f) => f.id3v2().is_some_and(|t| t.original_version() == Id3v2Version::V3),
            Self::Aiff(f) => f.id3v2().is_some_and(|t| t.original_version() == Id3v2Version::V3),
            _ => false,
        };
        let options = WriteOptions::new().use_id3v23(id3v23).respect_read_only(false);
        let result = match self {
            Self::Mpeg(f) => f.save_to(file, options),
            Self::Flac(f) => f.save_to(file, options),
            Self::Vorbis(f) => f.save_to(file, options),
            Self::Opus(f) => f.save_to(file, options),
            Self::Wav(f) => f.save_to(file, options),
            Self::Mp4(f) => f.save_to(file, options),
            Self::Aiff(f) => f.save_to(file, options),
        };
        result.map_err(|e| e.to_string())
    }
}

/// Splits a value that packs several (`a; b`, `a/b` is left alone: it is
/// common inside genre names such as "Drum & Bass/Jungle").
fn split_list(value: &str) -> Vec<String> {
    value.split(['\0', ';']).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect()
}

fn id3v2_values(tag: &Id3v2Tag, field: &Field) -> Vec<String> {
    match field {
        Field::Genre => tag.genres().map(|g| g.map(str::to_string).collect()).unwrap_or_default(),
        Field::Custom(name) => tag.get_user_text(name).map(split_list).unwrap_or_default(),
    }
}

fn set_id3v2(tag: &mut Id3v2Tag, field: &Field, values: &[String]) {
    // ID3v2.4 separates multiple values with NUL; lofty joins them with
    // '/' when it writes version 2.3.
    let joined = values.join("\0");
    match field {
        Field::Genre => {
            let _ = tag.remove(&GENRE_ID);
            let encoding = lofty::TextEncoding::UTF8;
            tag.insert(Frame::Text(TextInformationFrame::new(GENRE_ID, encoding, joined)));
        }
        Field::Custom(name) => {
            let _ = tag.insert_user_text(name.clone(), joined);
        }
    }
}

fn vorbis_key(field: &Field) -> &str {
    match field {
        Field::Genre => "GENRE",
        Field::Custom(name) => name,
    }
}

fn vorbis_values(tag: &VorbisComments, field: &Field) -> Vec<String> {
    tag.get_all(vorbis_key(field)).map(str::to_string).collect()
}

fn set_vorbis(tag: &mut VorbisComments, field: &Field, values: &[String]) {
    let key = vorbis_key(field).to_string();
    let _ = tag.remove(&key).count();
    for value in values {
        tag.push(key.clone(), value.clone());
    }
}

fn ilst_ident(field: &Field) -> AtomIdent<'static> {
    match field {
        Field::Genre => AtomIdent::Fourcc(*b"\xa9gen"),
        Field::Custom(name) => {
            AtomIdent::Freeform { mean: Cow::Borrowed("com.apple.iTunes"), name: Cow::Owned(name.clone()) }
        }
    }
}

fn ilst_values(tag: &Ilst, field: &Field) -> Vec<String> {
    let mut values: Vec<String> = tag
        .get(&ilst_ident(field))
        .map(|atom| {
            atom.data()
                .filter_map(|d| match d {
                    AtomData::UTF8(s) | AtomData::UTF16(s) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if values.is_empty() && *field == Field::Genre {
        // Old iTunes files store a numeric ID3v1 genre in `gnre`.
        values.extend(tag.genre().map(|g| g.into_owned()));
    }
    values
}

fn set_ilst(tag: &mut Ilst, field: &Field, values: &[String]) -> Result<(), String> {
    let ident = ilst_ident(field);
    let _ = tag.remove(&ident).count();
    let data = values.iter().map(|v| AtomData::UTF8(v.clone())).collect();
    let atom = lofty::mp4::Atom::from_collection(ident, data).ok_or("no value to write")?;
    tag.insert(atom);
    Ok(())
}

#[cfg(test)]
mod frame_count_tests {
    use super::*;

    /// An ID3v2.4 tag of `count` TXXX frames.
    fn tag_of(count: usize) -> Vec<u8> {
        let syncsafe = |n: usize| {
            [(n >> 21) as u8 & 0x7f, (n >> 14) as u8 & 0x7f, (n >> 7) as u8 & 0x7f, n as u8 & 0x7f]
        };
        let mut frames = Vec::new();
        for i in 0..count {
            let body = [b"\x03".as_slice(), format!("desc{i}\0value").as_bytes()].concat();
            frames.extend(b"TXXX");
            frames.extend(syncsafe(body.len()));
            frames.extend([0, 0]);
            frames.extend(body);
        }
        let mut tag = b"ID3\x04\x00\x00".to_vec();
        tag.extend(syncsafe(frames.len()));
        tag.extend(frames);
        tag
    }

    #[test]
    fn a_tag_of_too_many_frames_is_refused_by_counting_alone() {
        assert!(check_id3v2_frame_count(&tag_of(MAX_ID3V2_FRAMES)).is_ok());
        let e = check_id3v2_frame_count(&tag_of(100_000)).unwrap_err();
        assert!(e.contains("more than 10000 frames"), "{e}");
        let e = Loaded::parse(Format::Mpeg, &tag_of(100_000)).err().unwrap();
        assert!(e.contains("frames"), "{e}");
    }
}
