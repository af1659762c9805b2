//! Decoding files and byte buffers to mono samples at their native rate.
//!
//! Sun `.au` is recognised by its magic bytes and read by [`crate::sun_au`],
//! RF64/BW64 by [`crate::rf64`]; everything else goes through Symphonia's
//! probe (WAV, AIFF/AIFF-C, CAF, FLAC, MP3, Ogg, MP4/M4A, Matroska/WebM),
//! its codecs (PCM, FLAC, MP3, Vorbis, AAC-LC, ALAC) and genreid's Opus
//! decoder ([`crate::opus`]), registered beside them. Decodes are gapless:
//! MP3 encoder delay and padding (LAME/Xing) are removed by Symphonia, Opus
//! pre-skip by the Opus decoder, and MP4 priming and padding by the edit
//! list (or iTunes' `iTunSMPB`, [`crate::mp4`]), so every format lines up
//! sample-for-sample with its source.

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::common::Limit;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;

use crate::error::{AudioError, Result};
use crate::limits::check_stream;
use crate::mp4::{Gapless, Trim};
use crate::opus::{OpusDecoder, OpusHead};
use crate::rf64::Rf64Reader;
use crate::signal::{Signal, downmix_into};
use crate::sniff::{SNIFF_LEN, unsupported_format};
use crate::sun_au;
use crate::warning::{Warning, push_once};

/// Symphonia's codecs and genreid's Opus decoder.
fn codecs() -> &'static CodecRegistry {
    static CODECS: LazyLock<CodecRegistry> = LazyLock::new(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<OpusDecoder>();
        registry
    });
    &CODECS
}

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

/// Reads the first bytes (to recognise Sun `.au`, RF64 and the formats
/// genreid names but does not decode), puts them back in front of the
/// rest, and hands the source to the right reader. A stream cannot seek,
/// so its first bytes are chained back.
fn decode_source(source: Source<'_>, path: &Path, max_seconds: f64) -> Result<Decoded> {
    let io = |e: std::io::Error| AudioError::Io { path: path.to_path_buf(), cause: e };
    let mut head = [0u8; SNIFF_LEN];
    let lower = |e: Option<&str>| e.map(str::to_ascii_lowercase);
    let (media, extension, got, gapless): (Box<dyn MediaSource>, Option<String>, usize, Option<Gapless>) =
        match source {
            Source::File(p) => {
                let mut file = File::open(p).map_err(io)?;
                let got = read_up_to(&mut file, &mut head).map_err(io)?;
                file.seek(SeekFrom::Start(0)).map_err(io)?;
                let gapless = file_gapless(p, &head[..got]);
                (Box::new(file), lower(p.extension().and_then(|e| e.to_str())), got, gapless)
            }
            Source::Bytes { bytes, extension, .. } => {
                let got = bytes.len().min(head.len());
                head[..got].copy_from_slice(&bytes[..got]);
                let gapless = crate::mp4::looks_like_mp4(&head[..got])
                    .then(|| crate::mp4::gapless_info(&mut Cursor::new(&bytes)))
                    .flatten();
                (Box::new(Cursor::new(bytes)), lower(extension), got, gapless)
            }
            Source::Stream { mut reader, extension, .. } => {
                let got = read_up_to(&mut reader, &mut head).map_err(io)?;
                let mut whole = Cursor::new(head[..got].to_vec()).chain(reader);
                if crate::mp4::looks_like_mp4(&head[..got]) || head.starts_with(b"caff") {
                    // An MP4's index (`moov`) often comes after the audio, and
                    // Symphonia's CAF reader seeks past the audio for the
                    // chunks behind it: only a seekable source can go back.
                    // Such a stream (bounded by its sender, as uploads are)
                    // is spooled to an unnamed temporary file, never to memory.
                    let mut spool = tempfile::tempfile().map_err(io)?;
                    std::io::copy(&mut whole, &mut spool).map_err(io)?;
                    spool.seek(SeekFrom::Start(0)).map_err(io)?;
                    let mut index = BufReader::new(spool.try_clone().map_err(io)?);
                    let gapless = crate::mp4::gapless_info(&mut index);
                    spool.seek(SeekFrom::Start(0)).map_err(io)?;
                    return decode_with(
                        Box::new(spool),
                        lower(extension),
                        got,
                        &head,
                        gapless,
                        path,
                        max_seconds,
                    );
                }
                (Box::new(ReadOnlySource::new(whole)), lower(extension), got, None)
            }
        };
    decode_with(media, extension, got, &head, gapless, path, max_seconds)
}

/// Decodes `media`, whose first `got` bytes are `head`, with the reader its
/// first bytes call for.
fn decode_with(
    media: Box<dyn MediaSource>,
    extension: Option<String>,
    got: usize,
    head: &[u8],
    gapless: Option<Gapless>,
    path: &Path,
    max_seconds: f64,
) -> Result<Decoded> {
    if got == 0 {
        return Err(AudioError::Empty { path: path.to_path_buf() });
    }
    let head = &head[..got];
    if let Some(name) = unsupported_format(head) {
        return Err(AudioError::Unsupported {
            path: path.to_path_buf(),
            reason: format!("{name} is not supported"),
        });
    }
    let decoded = if head.starts_with(&sun_au::MAGIC) {
        decode_sun_au(media, path, max_seconds)?
    } else if crate::rf64::is_rf64(head) {
        decode_rf64(media, path, max_seconds)?
    } else {
        decode_symphonia(media, extension.as_deref(), path, max_seconds, gapless)?
    };
    if decoded.signal.is_empty() {
        return Err(AudioError::NoSamples { path: path.to_path_buf() });
    }
    Ok(decoded)
}

/// The gapless information of an MP4 file on disk (`None` for other formats).
pub(crate) fn file_gapless(path: &Path, head: &[u8]) -> Option<Gapless> {
    if !crate::mp4::looks_like_mp4(head) {
        return None;
    }
    crate::mp4::gapless_info(&mut BufReader::new(File::open(path).ok()?))
}

pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
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

fn decode_rf64(media: Box<dyn MediaSource>, path: &Path, max_seconds: f64) -> Result<Decoded> {
    let invalid = |reason: String| AudioError::InvalidHeader { path: path.to_path_buf(), reason };
    let mut reader = Rf64Reader::open(BufReader::new(media)).map_err(invalid)?;
    let max_frames = frames_in(max_seconds, reader.sample_rate);
    let mut mono = Vec::new();
    // One frame past the limit tells a file that goes on from one that ends there.
    while mono.len() <= max_frames {
        let want = max_frames + 1 - mono.len();
        if reader
            .read_into(&mut mono, want)
            .map_err(|reason| AudioError::Decode { path: path.to_path_buf(), reason })?
            == 0
        {
            break;
        }
    }
    let mut warnings = Vec::new();
    let rate = f64::from(reader.sample_rate);
    if mono.len() > max_frames {
        mono.truncate(max_frames);
        warnings.push(Warning::Cut { at_seconds: max_seconds });
    } else if (mono.len() as u64) < reader.announced_frames {
        warnings.push(Warning::Truncated {
            announced_seconds: reader.announced_frames as f64 / rate,
            decoded_seconds: mono.len() as f64 / rate,
        });
    }
    Ok(Decoded { signal: Signal::new(mono, reader.sample_rate), channels: reader.channels, warnings })
}

fn decode_symphonia(
    media: Box<dyn MediaSource>,
    extension: Option<&str>,
    path: &Path,
    max_seconds: f64,
    gapless: Option<Gapless>,
) -> Result<Decoded> {
    let mut reader = PacketReader::open(media, extension, path, gapless)?;
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
    /// The file ended inside a packet, after good ones (a cut file).
    ended_mid_packet: bool,
    /// Whether the reader's running out of bytes means the file is cut:
    /// not so for Matroska read as a stream, whose reader runs into the end
    /// looking for the index behind the audio.
    eof_means_cut: bool,
    /// Frames delivered so far, and the number the header announces.
    frames: u64,
    announced_frames: Option<u64>,
    /// Priming and padding the container says to drop, and the frames the
    /// decoder has produced before that trim.
    trim: Trim,
    decoded_frames: u64,
    path: PathBuf,
}

impl PacketReader {
    /// Probes `media` and opens its default audio track; `gapless` is what
    /// an MP4 file says of its priming and padding ([`file_gapless`]).
    pub(crate) fn open(
        media: Box<dyn MediaSource>,
        extension: Option<&str>,
        path: &Path,
        gapless: Option<Gapless>,
    ) -> Result<Self> {
        let unsupported = |reason: String| AudioError::Unsupported { path: path.to_path_buf(), reason };
        let seekable = media.is_seekable();
        let mss = MediaSourceStream::new(media, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = extension {
            hint.with_extension(ext);
        }
        // Cover art is not needed to decode: it is skipped, not held.
        let metadata = MetadataOptions::default().limit_visual_bytes(Limit::Maximum(0));
        let format = symphonia::default::get_probe()
            .probe(&hint, mss, FormatOptions::default(), metadata)
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
        if params.codec == CODEC_ID_OPUS {
            // The decoder checks it too; here the reason reaches the user.
            OpusHead::parse(params.extra_data.as_deref().unwrap_or_default())
                .map_err(|reason| AudioError::InvalidHeader { path: path.to_path_buf(), reason })?;
        }
        let decoder =
            codecs().make_audio_decoder(&params, &AudioDecoderOptions::default()).map_err(|e| match e {
                SymError::Unsupported(_) => unsupported(format!(
                    "its {} audio codec ({}) is not one genreid decodes",
                    format.format_info().long_name,
                    params.codec
                )),
                e => AudioError::InvalidHeader { path: path.to_path_buf(), reason: e.to_string() },
            })?;
        let eof_means_cut = seekable || format.format_info().short_name != "matroska";
        let trim = match (gapless, params.sample_rate) {
            (Some(g), Some(rate)) if format.format_info().short_name == "isomp4" => g.trim(rate),
            _ => Trim::default(),
        };
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
            ended_mid_packet: false,
            eof_means_cut,
            frames: 0,
            announced_frames,
            trim,
            decoded_frames: 0,
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
        } else if self.ended_mid_packet && warnings.is_empty() {
            // No length was announced (Ogg, Matroska), but the file ends
            // inside a page or an element: it was cut short.
            let reason = "the file ends in the middle of a packet (cut short)".to_string();
            warnings.push(Warning::Damaged { skipped_packets: self.bad, reason });
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
                    // A clean end is `Ok(None)`; the file ending inside a
                    // page, frame or element is a file cut short.
                    self.ended_mid_packet = self.good > 0 && self.eof_means_cut;
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
                    let kept = self.apply_trim(out, before);
                    self.frames += kept as u64;
                    self.good += 1;
                    // Past the kept length only the encoder's padding is left.
                    let done =
                        self.trim.keep.is_some_and(|keep| self.decoded_frames >= self.trim.skip + keep);
                    return Ok(!done);
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

    /// Drops what the container's trim says is not music from the frames
    /// `out[before..]` just decoded; returns how many frames remain.
    fn apply_trim(&mut self, out: &mut Vec<f32>, before: usize) -> usize {
        let new = (out.len() - before) as u64;
        let first = self.decoded_frames;
        self.decoded_frames += new;
        let Trim { skip, keep } = self.trim;
        let from = skip.saturating_sub(first).min(new);
        let to =
            keep.map_or(new, |keep| (skip.saturating_add(keep)).saturating_sub(first).min(new)).max(from);
        out.truncate(before + to as usize);
        out.drain(before..before + from as usize);
        (to - from) as usize
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
