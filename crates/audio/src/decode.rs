//! Decoding files and byte buffers to mono samples at their native rate.
//!
//! Sun `.au` is recognised by its magic bytes and read by [`crate::sun_au`];
//! everything else goes through Symphonia's probe (WAV, FLAC, MP3, OGG/Vorbis).
//! MP3 encoder delay and padding (LAME/Xing gapless info) are removed by
//! Symphonia, so an MP3 lines up sample-for-sample with its source as it does
//! with libsndfile/mpg123.

use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;

use crate::error::{AudioError, Result};
use crate::signal::{Signal, downmix_into};
use crate::sun_au;

/// Mono audio at the file's own rate, with what the file said about itself.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Channel-mean mono samples at the native rate.
    pub signal: Signal,
    /// Channels in the file before the downmix.
    pub channels: usize,
}

/// Where encoded audio comes from: a file, or bytes already in memory
/// (an HTTP upload, a fuzz input).
pub enum Source<'a> {
    /// A file on disk.
    File(&'a Path),
    /// Bytes in memory, with a display name and an optional extension hint.
    Bytes {
        /// Name used in error messages.
        name: &'a str,
        /// The encoded bytes.
        bytes: Vec<u8>,
        /// File extension, if known (helps the probe).
        extension: Option<&'a str>,
    },
    /// Bytes arriving from a reader that cannot seek (an upload being
    /// received): decoded as they come, never held whole.
    Stream {
        /// Name used in error messages.
        name: &'a str,
        /// The encoded bytes, in order.
        reader: Box<dyn Read + Send + Sync>,
        /// File extension, if known (helps the probe).
        extension: Option<&'a str>,
    },
}

impl Source<'_> {
    /// The path or name used in error messages.
    pub(crate) fn display_path(&self) -> PathBuf {
        match self {
            Source::File(p) => p.to_path_buf(),
            Source::Bytes { name, .. } | Source::Stream { name, .. } => PathBuf::from(name),
        }
    }
}

/// Decodes `source` to mono, keeping at most `max_frames` frames.
///
/// Never panics on malformed input: every failure is an [`AudioError`] naming
/// the source and the cause.
pub fn decode(source: Source<'_>, max_frames: usize) -> Result<Decoded> {
    let path = source.display_path();
    let guarded = catch_unwind(AssertUnwindSafe(|| decode_source(source, &path, max_frames)));
    guarded.unwrap_or_else(|_| {
        Err(AudioError::Decode { path: path.clone(), reason: "decoder panicked on malformed data".into() })
    })
}

/// Reads the first bytes (to recognise Sun `.au`, which Symphonia does not
/// read), puts them back in front of the rest, and hands the source to the
/// right reader. A stream cannot seek, so its first bytes are chained back.
fn decode_source(source: Source<'_>, path: &Path, max_frames: usize) -> Result<Decoded> {
    let io = |e: std::io::Error| AudioError::Io { path: path.to_path_buf(), source: e };
    let mut magic = [0u8; 4];
    let lower = |e: Option<&str>| e.map(str::to_ascii_lowercase);
    let (media, extension, got): (Box<dyn MediaSource>, Option<String>, usize) = match source {
        Source::File(p) => {
            let mut file = File::open(p).map_err(io)?;
            let got = read_up_to(&mut file, &mut magic).map_err(io)?;
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            (Box::new(file), lower(p.extension().and_then(|e| e.to_str())), got)
        }
        Source::Bytes { bytes, extension, .. } => {
            let got = bytes.len().min(magic.len());
            magic[..got].copy_from_slice(&bytes[..got]);
            (Box::new(Cursor::new(bytes)), lower(extension), got)
        }
        Source::Stream { mut reader, extension, .. } => {
            let got = read_up_to(&mut reader, &mut magic).map_err(io)?;
            let whole = Cursor::new(magic[..got].to_vec()).chain(reader);
            (Box::new(ReadOnlySource::new(whole)), lower(extension), got)
        }
    };
    if got == 0 {
        return Err(AudioError::Empty { path: path.to_path_buf() });
    }
    let decoded = if got == 4 && magic == sun_au::MAGIC {
        let (header, mono) = sun_au::read_mono(std::io::BufReader::new(media), max_frames)
            .map_err(|reason| AudioError::InvalidHeader { path: path.to_path_buf(), reason })?;
        Decoded { signal: Signal::new(mono, header.sample_rate), channels: header.channels as usize }
    } else {
        decode_symphonia(media, extension.as_deref(), path, max_frames)?
    };
    if decoded.signal.is_empty() {
        return Err(AudioError::NoSamples { path: path.to_path_buf() });
    }
    Ok(decoded)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn decode_symphonia(
    media: Box<dyn MediaSource>,
    extension: Option<&str>,
    path: &Path,
    max_frames: usize,
) -> Result<Decoded> {
    let mut reader = PacketReader::open(media, extension, path)?;
    let mut mono = Vec::new();
    while mono.len() < max_frames && reader.next_into(&mut mono)? {}
    reader.check_end()?;
    mono.truncate(max_frames);
    Ok(Decoded { signal: Signal::new(mono, reader.sample_rate), channels: reader.channels })
}

/// Symphonia's container reader and decoder for a file's audio track,
/// producing channel-mean mono samples a packet at a time (whole-file
/// decoding and [`crate::MonoStream`] share it).
pub(crate) struct PacketReader {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// Samples per second (the last decoded packet's, else the header's).
    pub sample_rate: u32,
    /// Channels before the downmix.
    pub channels: usize,
    interleaved: Vec<f32>,
    good: usize,
    bad: usize,
    last_error: String,
    path: PathBuf,
}

impl PacketReader {
    /// Probes `media` and opens its default audio track.
    pub(crate) fn open(media: Box<dyn MediaSource>, extension: Option<&str>, path: &Path) -> Result<Self> {
        let unsupported = |reason: String| AudioError::Unsupported { path: path.to_path_buf(), reason };
        let mss = MediaSourceStream::new(media, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = extension {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
            .map_err(|e| match e {
                // A recognised container with a broken header is damaged, not foreign.
                SymError::DecodeError(_) => {
                    AudioError::InvalidHeader { path: path.to_path_buf(), reason: e.to_string() }
                }
                _ => unsupported(e.to_string()),
            })?;
        let track =
            format.default_track(TrackType::Audio).ok_or_else(|| unsupported("no audio track".into()))?;
        let track_id = track.id;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| unsupported("audio track has no codec parameters".into()))?
            .clone();
        if params.channels.as_ref().is_some_and(|c| c.count() == 0) {
            return Err(AudioError::InvalidHeader {
                path: path.to_path_buf(),
                reason: "zero channels".into(),
            });
        }
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| unsupported(e.to_string()))?;
        Ok(Self {
            format,
            decoder,
            track_id,
            sample_rate: params.sample_rate.unwrap_or(0),
            channels: params.channels.as_ref().map_or(0, |c| c.count()),
            interleaved: Vec::new(),
            good: 0,
            bad: 0,
            last_error: String::new(),
            path: path.to_path_buf(),
        })
    }

    /// Appends the next packet's mono samples to `out`; `false` at the end of
    /// the track (a truncated file ends early, keeping what was decoded, as
    /// libsndfile does). Undecodable packets are skipped and counted.
    pub(crate) fn next_into(&mut self, out: &mut Vec<f32>) -> Result<bool> {
        let decode_err =
            |path: &Path, reason: String| AudioError::Decode { path: path.to_path_buf(), reason };
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(false),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                Err(SymError::ResetRequired) => return Ok(false),
                Err(e) => {
                    if self.good == 0 {
                        return Err(decode_err(&self.path, e.to_string()));
                    }
                    return Ok(false);
                }
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    let spec = buf.spec();
                    let n_ch = spec.channels().count();
                    if n_ch == 0 {
                        return Err(AudioError::InvalidHeader {
                            path: self.path.clone(),
                            reason: "zero channels".into(),
                        });
                    }
                    self.sample_rate = spec.rate();
                    self.channels = n_ch;
                    buf.copy_to_vec_interleaved(&mut self.interleaved);
                    downmix_into(&self.interleaved, n_ch, out);
                    self.good += 1;
                    return Ok(true);
                }
                Err(SymError::DecodeError(e)) => {
                    self.bad += 1;
                    self.last_error = e.to_string();
                }
                Err(SymError::IoError(e)) => {
                    self.bad += 1;
                    self.last_error = e.to_string();
                }
                Err(e) => return Err(decode_err(&self.path, e.to_string())),
            }
        }
    }

    /// The errors a finished read reports: nothing decodable, or no rate.
    pub(crate) fn check_end(&self) -> Result<()> {
        if self.good == 0 && self.bad > 0 {
            return Err(AudioError::Decode {
                path: self.path.clone(),
                reason: format!("no packet could be decoded ({})", self.last_error),
            });
        }
        if self.sample_rate == 0 {
            return Err(AudioError::InvalidHeader {
                path: self.path.clone(),
                reason: "sample rate is zero or missing".into(),
            });
        }
        Ok(())
    }
}
