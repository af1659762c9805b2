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
use crate::limits::check_stream;
use crate::signal::{Signal, downmix_into};
use crate::sun_au;
use crate::warning::{Warning, push_once};

/// Mono audio at the file's own rate, with what the file said about itself.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Channel-mean mono samples at the native rate.
    pub signal: Signal,
    /// Channels in the file before the downmix.
    pub channels: usize,
    /// What the decode noticed: truncation, damaged packets, a cut at the limit.
    pub warnings: Vec<Warning>,
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

/// Decodes `source` to mono, keeping at most `max_seconds` of audio (a
/// [`Warning::Cut`] says when there was more).
///
/// The stream's rate and channel count are checked against
/// [`crate::limits`] before anything is allocated for them, so work follows
/// the audio present, never a header's claim. Never panics on malformed
/// input: every failure is an [`AudioError`] naming the source and the cause.
pub fn decode(source: Source<'_>, max_seconds: f64) -> Result<Decoded> {
    let path = source.display_path();
    if max_seconds.is_nan() || max_seconds <= 0.0 {
        return Err(AudioError::InvalidParameter(format!("max_seconds must be positive, got {max_seconds}")));
    }
    let guarded = catch_unwind(AssertUnwindSafe(|| decode_source(source, &path, max_seconds)));
    guarded.unwrap_or_else(|_| {
        Err(AudioError::Decode { path: path.clone(), reason: "decoder panicked on malformed data".into() })
    })
}

/// Reads the first bytes (to recognise Sun `.au`, which Symphonia does not
/// read), puts them back in front of the rest, and hands the source to the
/// right reader. A stream cannot seek, so its first bytes are chained back.
fn decode_source(source: Source<'_>, path: &Path, max_seconds: f64) -> Result<Decoded> {
    let io = |e: std::io::Error| AudioError::Io { path: path.to_path_buf(), cause: e };
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
        decode_sun_au(media, path, max_seconds)?
    } else {
        decode_symphonia(media, extension.as_deref(), path, max_seconds)?
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

/// Frames in `seconds` at `rate` (what a limit in seconds allows).
pub(crate) fn frames_in(seconds: f64, rate: u32) -> usize {
    (seconds * f64::from(rate)).ceil().min(1e15) as usize
}

fn decode_sun_au(media: Box<dyn MediaSource>, path: &Path, max_seconds: f64) -> Result<Decoded> {
    let (header, mut mono) = sun_au::read_mono(std::io::BufReader::new(media), max_seconds)
        .map_err(|reason| AudioError::InvalidHeader { path: path.to_path_buf(), reason })?;
    let channels = header.channels as usize;
    check_stream(path, header.sample_rate, channels)?;
    let rate = f64::from(header.sample_rate);
    let mut warnings = Vec::new();
    let max_frames = frames_in(max_seconds, header.sample_rate);
    if mono.len() > max_frames {
        mono.truncate(max_frames);
        warnings.push(Warning::Cut { at_seconds: max_seconds });
    } else if let Some(size) = header.data_size {
        let announced = size as usize / (header.encoding.bytes_per_sample() * channels);
        if mono.len() < announced {
            warnings.push(Warning::Truncated {
                announced_seconds: announced as f64 / rate,
                decoded_seconds: mono.len() as f64 / rate,
            });
        }
    }
    Ok(Decoded { signal: Signal::new(mono, header.sample_rate), channels, warnings })
}

fn decode_symphonia(
    media: Box<dyn MediaSource>,
    extension: Option<&str>,
    path: &Path,
    max_seconds: f64,
) -> Result<Decoded> {
    let mut reader = PacketReader::open(media, extension, path)?;
    let mut mono = Vec::new();
    let mut more = true;
    // One packet past the limit tells a file that goes on from one that ends there.
    while more && mono.len() <= frames_in(max_seconds, reader.sample_rate.max(1)) {
        more = reader.next_into(&mut mono)?;
    }
    reader.check_end()?;
    let max_frames = frames_in(max_seconds, reader.sample_rate);
    let mut warnings = reader.warnings(more);
    if mono.len() > max_frames {
        mono.truncate(max_frames);
        push_once(&mut warnings, Warning::Cut { at_seconds: max_seconds });
    }
    Ok(Decoded { signal: Signal::new(mono, reader.sample_rate), channels: reader.channels, warnings })
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
    /// The stream broke off with an error other than a clean end.
    broke_off: Option<String>,
    /// Frames decoded so far, and the number the header announces.
    frames: u64,
    announced_frames: Option<u64>,
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
        let announced_frames = track.num_frames;
        // What the header says is checked before a decoder sizes its buffers
        // from it; a rate the header leaves out is checked at the first packet.
        if let Some(channels) = params.channels.as_ref() {
            check_stream(path, params.sample_rate.unwrap_or(crate::MIN_SAMPLE_RATE), channels.count())?;
        }
        if let Some(rate) = params.sample_rate {
            check_stream(path, rate, 1)?;
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
            broke_off: None,
            frames: 0,
            announced_frames,
            path: path.to_path_buf(),
        })
    }

    /// What the read so far noticed; `more` is whether the stream had not
    /// ended yet (then it cannot be called short).
    pub(crate) fn warnings(&self, more: bool) -> Vec<Warning> {
        let mut warnings = Vec::new();
        if self.bad > 0 || self.broke_off.is_some() {
            let reason = self.broke_off.clone().unwrap_or_else(|| self.last_error.clone());
            warnings.push(Warning::Damaged { skipped_packets: self.bad, reason });
        }
        // Encoders pad the last packet; a shortfall of more than one packet
        // (or 1 %) is a stream that ends early.
        if !more
            && let Some(announced) = self.announced_frames
            && self.sample_rate > 0
            && self.frames + 4608.max(announced / 100) < announced
        {
            let rate = f64::from(self.sample_rate);
            warnings.push(Warning::Truncated {
                announced_seconds: announced as f64 / rate,
                decoded_seconds: self.frames as f64 / rate,
            });
        }
        warnings
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
                Err(SymError::ResetRequired) => {
                    self.broke_off = Some("the stream changes its parameters midway".into());
                    return Ok(false);
                }
                Err(e) => {
                    if self.good == 0 {
                        return Err(decode_err(&self.path, e.to_string()));
                    }
                    self.broke_off = Some(format!("the stream breaks off: {e}"));
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
                    check_stream(&self.path, spec.rate(), n_ch)?;
                    self.sample_rate = spec.rate();
                    self.channels = n_ch;
                    buf.copy_to_vec_interleaved(&mut self.interleaved);
                    let before = out.len();
                    downmix_into(&self.interleaved, n_ch, out);
                    self.frames += (out.len() - before) as u64;
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
        check_stream(&self.path, self.sample_rate, self.channels.max(1))
    }
}
