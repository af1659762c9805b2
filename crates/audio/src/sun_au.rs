//! Reader for Sun/NeXT `.au` files, the format GTZAN was first shipped in.
//!
//! The header is six big-endian `u32` words: magic `.snd`, data offset, data
//! size (`0xFFFF_FFFF` when unknown), encoding, sample rate and channel count.
//! Supported encodings: 8/16/24/32-bit linear PCM, 32/64-bit float, G.711
//! μ-law and A-law. Samples are scaled as libsndfile does (`i16 / 32768`, …),
//! so a `.au` decodes to exactly the numbers librosa sees.

use std::io::Read;

use crate::limits::{MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
use crate::signal::downmix_into;

/// The four magic bytes that open every `.au` file.
pub const MAGIC: [u8; 4] = *b".snd";

/// Sample encodings defined by the Sun/NeXT header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 8-bit G.711 μ-law (code 1).
    MuLaw,
    /// 8-bit signed linear PCM (code 2).
    Linear8,
    /// 16-bit signed linear PCM (code 3).
    Linear16,
    /// 24-bit signed linear PCM (code 4).
    Linear24,
    /// 32-bit signed linear PCM (code 5).
    Linear32,
    /// 32-bit IEEE float (code 6).
    Float32,
    /// 64-bit IEEE float (code 7).
    Float64,
    /// 8-bit G.711 A-law (code 27).
    ALaw,
}

impl Encoding {
    fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            1 => Self::MuLaw,
            2 => Self::Linear8,
            3 => Self::Linear16,
            4 => Self::Linear24,
            5 => Self::Linear32,
            6 => Self::Float32,
            7 => Self::Float64,
            27 => Self::ALaw,
            _ => return None,
        })
    }

    /// Bytes one sample of one channel occupies.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            Self::MuLaw | Self::ALaw | Self::Linear8 => 1,
            Self::Linear16 => 2,
            Self::Linear24 => 3,
            Self::Linear32 | Self::Float32 => 4,
            Self::Float64 => 8,
        }
    }

    fn decode(self, b: &[u8]) -> f32 {
        match self {
            Self::MuLaw => f32::from(mulaw_to_i16(b[0])) / 32768.0,
            Self::ALaw => f32::from(alaw_to_i16(b[0])) / 32768.0,
            Self::Linear8 => f32::from(b[0] as i8) / 128.0,
            Self::Linear16 => f32::from(i16::from_be_bytes([b[0], b[1]])) / 32768.0,
            Self::Linear24 => {
                let v = i32::from_be_bytes([b[0], b[1], b[2], 0]) >> 8;
                v as f32 / 8_388_608.0
            }
            Self::Linear32 => {
                (f64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])) / 2_147_483_648.0) as f32
            }
            Self::Float32 => f32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            Self::Float64 => f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32,
        }
    }
}

/// The parsed, validated `.au` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Byte offset of the first sample.
    pub data_offset: u32,
    /// Bytes of sample data, when the header states it.
    pub data_size: Option<u32>,
    /// Sample encoding.
    pub encoding: Encoding,
    /// Frames per second.
    pub sample_rate: u32,
    /// Interleaved channels.
    pub channels: u32,
}

/// Parses the 24-byte header, rejecting impossible values with a reason.
pub fn parse_header(h: &[u8; 24]) -> Result<Header, String> {
    if h[..4] != MAGIC {
        return Err("missing .snd magic".into());
    }
    let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let (data_offset, data_size, code, sample_rate, channels) =
        (word(4), word(8), word(12), word(16), word(20));
    if data_offset < 24 {
        return Err(format!("data offset {data_offset} is inside the 24-byte header"));
    }
    let encoding = Encoding::from_code(code).ok_or_else(|| format!("unsupported encoding code {code}"))?;
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(format!(
            "sample rate {sample_rate} Hz is outside what real audio uses ({MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz)"
        ));
    }
    if channels == 0 || channels as usize > MAX_CHANNELS {
        return Err(format!("channel count {channels} is out of range (1 to {MAX_CHANNELS})"));
    }
    Ok(Header {
        data_offset,
        data_size: (data_size != u32::MAX).then_some(data_size),
        encoding,
        sample_rate,
        channels,
    })
}

/// Reads a whole `.au` stream into mono samples at its native rate.
///
/// Stops after `max_seconds` of audio and one frame more (so that a caller
/// can tell a file that goes on past the limit). A data size larger than
/// what the stream holds (a truncated file) yields the frames that are
/// present, as libsndfile does. Returns the header and the mono samples.
pub fn read_mono<R: Read>(mut reader: R, max_seconds: f64) -> Result<(Header, Vec<f32>), String> {
    let mut raw = [0u8; 24];
    reader.read_exact(&mut raw).map_err(|_| "file is shorter than the 24-byte .au header".to_string())?;
    let header = parse_header(&raw)?;
    // Skip the annotation field between header and data.
    let skip = u64::from(header.data_offset - 24);
    let skipped =
        std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink()).map_err(|e| e.to_string())?;
    if skipped < skip {
        return Err(format!("data offset {} is past the end of the file", header.data_offset));
    }
    let channels = header.channels as usize;
    let bps = header.encoding.bytes_per_sample();
    let frame_bytes = bps * channels;
    let max_frames = (max_seconds * f64::from(header.sample_rate)).ceil().min(1e15) as usize;
    let mut frames_left = max_frames.saturating_add(1);
    if let Some(size) = header.data_size {
        frames_left = frames_left.min(size as usize / frame_bytes);
    }
    let mut data = reader.take((frames_left as u64).saturating_mul(frame_bytes as u64));
    // Read in blocks so memory follows the data actually present, not the header's claim.
    let block_frames = 16_384;
    let mut buf = vec![0u8; block_frames * frame_bytes];
    let mut frame = vec![0f32; block_frames * channels];
    let mut mono = Vec::new();
    let mut pending = 0usize;
    loop {
        let n = data.read(&mut buf[pending..]).map_err(|e| e.to_string())?;
        pending += n;
        let whole = pending / frame_bytes;
        if whole > 0 {
            let bytes = &buf[..whole * frame_bytes];
            for (dst, src) in frame.iter_mut().zip(bytes.chunks_exact(bps)) {
                *dst = header.encoding.decode(src);
            }
            downmix_into(&frame[..whole * channels], channels, &mut mono);
            buf.copy_within(whole * frame_bytes..pending, 0);
            pending -= whole * frame_bytes;
        }
        if n == 0 {
            break;
        }
    }
    Ok((header, mono))
}

/// G.711 μ-law byte to 16-bit linear (Sun's `ulaw2linear`, peak ±32124).
pub fn mulaw_to_i16(byte: u8) -> i16 {
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if u & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

/// G.711 A-law byte to 16-bit linear (Sun's `alaw2linear`, peak ±32256).
pub fn alaw_to_i16(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut t = i32::from(a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(encoding: u32, rate: u32, channels: u32, size: u32) -> Vec<u8> {
        let mut h = MAGIC.to_vec();
        for w in [24u32, size, encoding, rate, channels] {
            h.extend_from_slice(&w.to_be_bytes());
        }
        h
    }

    #[test]
    fn g711_tables_match_the_standard() {
        // Known G.711 points: 0xFF/0x7F are the μ-law zeros, 0x00 the most negative.
        assert_eq!(mulaw_to_i16(0xFF), 0);
        assert_eq!(mulaw_to_i16(0x7F), 0);
        assert_eq!(mulaw_to_i16(0x00), -32124);
        assert_eq!(mulaw_to_i16(0x80), 32124);
        assert_eq!(alaw_to_i16(0xD5), 8);
        assert_eq!(alaw_to_i16(0x55), -8);
        assert_eq!(alaw_to_i16(0xAA), 32256);
        assert_eq!(alaw_to_i16(0x2A), -32256);
    }

    #[test]
    fn reads_16bit_stereo_as_channel_mean() {
        let mut f = header(3, 8000, 2, 8);
        for v in [16384i16, 0, -32768, 32767] {
            f.extend_from_slice(&v.to_be_bytes());
        }
        let (h, mono) = read_mono(&f[..], f64::INFINITY).unwrap();
        assert_eq!(h.sample_rate, 8000);
        assert_eq!(mono, vec![0.25, (-32768.0 + 32767.0) / 65536.0]);
    }

    #[test]
    fn every_linear_width_scales_like_libsndfile() {
        let cases: [(u32, Vec<u8>, f32); 5] = [
            (2, vec![0x80], -1.0),
            (4, vec![0x40, 0, 0], 0.5),
            (5, vec![0xC0, 0, 0, 0], -0.5),
            (6, 0.25f32.to_be_bytes().to_vec(), 0.25),
            (7, (-0.125f64).to_be_bytes().to_vec(), -0.125),
        ];
        for (code, bytes, want) in cases {
            let mut f = header(code, 8000, 1, u32::MAX);
            f.extend_from_slice(&bytes);
            let (_, mono) = read_mono(&f[..], f64::INFINITY).unwrap();
            assert_eq!(mono, vec![want], "encoding {code}");
        }
    }

    #[test]
    fn truncated_data_yields_what_is_present() {
        let mut f = header(3, 8000, 1, 1_000_000);
        f.extend_from_slice(&[0x40, 0x00, 0x20]);
        let (_, mono) = read_mono(&f[..], f64::INFINITY).unwrap();
        assert_eq!(mono, vec![0.5]);
    }

    #[test]
    fn impossible_headers_are_rejected() {
        assert!(read_mono(&header(3, 0, 1, 0)[..], 10.0).unwrap_err().contains("sample rate"));
        assert!(read_mono(&header(3, 8000, 0, 0)[..], 10.0).unwrap_err().contains("channel"));
        assert!(read_mono(&header(99, 8000, 1, 0)[..], 10.0).unwrap_err().contains("encoding"));
        let mut far = header(3, 8000, 1, 0);
        far[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(read_mono(&far[..], 10.0).unwrap_err().contains("past the end"));
        assert!(read_mono(&b".snd"[..], 10.0).unwrap_err().contains("shorter"));
    }
}
