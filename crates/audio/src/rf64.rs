//! Reader for RF64 and BW64 (EBU Tech 3306, ITU-R BS.2088): the 64-bit WAV
//! that broadcast recorders and DAWs write past 4 GB. Symphonia reads RIFF
//! WAV only, so this reader handles the 64-bit variant: a `ds64` chunk
//! holds the real sizes, and the 32-bit size fields read `0xFFFFFFFF`.
//!
//! Supported sample formats: 8/16/24/32-bit integer PCM and 32/64-bit
//! float, plain or as `WAVE_FORMAT_EXTENSIBLE`, scaled as libsndfile
//! does. The file is read a block at a time, so memory follows the audio
//! asked for, never the header's sizes.

use std::io::Read;

use crate::limits::{MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
use crate::signal::downmix_into;

/// Whether `head` (a file's first bytes) opens an RF64 or BW64 file.
pub(crate) fn is_rf64(head: &[u8]) -> bool {
    head.len() >= 4 && (&head[..4] == b"RF64" || &head[..4] == b"BW64")
}

/// Sample formats of the `fmt ` chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SampleFormat {
    U8,
    I16,
    I24,
    I32,
    F32,
    F64,
}

impl SampleFormat {
    fn bytes(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::I16 => 2,
            Self::I24 => 3,
            Self::I32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }

    fn decode(self, b: &[u8]) -> f32 {
        match self {
            Self::U8 => (f32::from(b[0]) - 128.0) / 128.0,
            Self::I16 => f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0,
            Self::I24 => (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0,
            Self::I32 => (f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])) / 2_147_483_648.0) as f32,
            Self::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            Self::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32,
        }
    }
}

/// An RF64 file positioned at its first sample, read a block at a time.
pub(crate) struct Rf64Reader<R: Read> {
    reader: R,
    format: SampleFormat,
    /// Interleaved channels.
    pub channels: usize,
    /// Frames per second.
    pub sample_rate: u32,
    /// Frames the `ds64` chunk announces.
    pub announced_frames: u64,
    frames_left: u64,
    bytes: Vec<u8>,
    frame: Vec<f32>,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default())
}

/// Reads exactly `n` bytes (at most 64 KiB: only headers are read this way).
fn read_chunk<R: Read>(r: &mut R, n: u64, what: &str) -> Result<Vec<u8>, String> {
    if n > 1 << 16 {
        return Err(format!("the {what} chunk claims {n} bytes"));
    }
    let mut b = vec![0u8; n as usize];
    r.read_exact(&mut b).map_err(|_| format!("the file ends inside its {what} chunk"))?;
    Ok(b)
}

impl<R: Read> Rf64Reader<R> {
    /// Reads the header chunks up to the start of the samples.
    pub(crate) fn open(mut reader: R) -> Result<Self, String> {
        let mut h = [0u8; 12];
        reader.read_exact(&mut h).map_err(|_| "file is shorter than the RF64 header".to_string())?;
        if !is_rf64(&h) || &h[8..12] != b"WAVE" {
            return Err("not an RF64/BW64 WAVE file".into());
        }
        let mut data_size: Option<u64> = None;
        let mut fmt: Option<(SampleFormat, usize, u32)> = None;
        loop {
            let mut c = [0u8; 8];
            reader.read_exact(&mut c).map_err(|_| "the file ends before its data chunk".to_string())?;
            let id = [c[0], c[1], c[2], c[3]];
            let size32 = le32(&c, 4);
            match &id {
                b"ds64" => {
                    let b = read_chunk(&mut reader, u64::from(size32) + u64::from(size32 & 1), "ds64")?;
                    if b.len() < 24 {
                        return Err("the ds64 chunk is shorter than 24 bytes".into());
                    }
                    data_size = Some(le64(&b, 8));
                }
                b"fmt " => {
                    let b = read_chunk(&mut reader, u64::from(size32) + u64::from(size32 & 1), "fmt")?;
                    fmt = Some(parse_fmt(&b)?);
                }
                b"data" => {
                    let (format, channels, sample_rate) =
                        fmt.ok_or("the data chunk comes before any fmt chunk")?;
                    let size = match (size32, data_size) {
                        (u32::MAX, Some(s)) => s,
                        (u32::MAX, None) => {
                            return Err("the data size is in a ds64 chunk the file lacks".into());
                        }
                        (s, _) => u64::from(s),
                    };
                    let frame_bytes = (format.bytes() * channels) as u64;
                    let announced_frames = size / frame_bytes;
                    return Ok(Self {
                        reader,
                        format,
                        channels,
                        sample_rate,
                        announced_frames,
                        frames_left: announced_frames,
                        bytes: Vec::new(),
                        frame: Vec::new(),
                    });
                }
                _ => {
                    // Any other chunk (bext, LIST, JUNK...) is skipped unread.
                    let skip = u64::from(size32) + u64::from(size32 & 1);
                    let skipped = std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink())
                        .map_err(|e| e.to_string())?;
                    if skipped < skip {
                        return Err("the file ends before its data chunk".into());
                    }
                }
            }
        }
    }

    /// Appends up to `max_frames` frames (channel-mean mono) to `out`;
    /// returns how many, 0 at the end of the data (or of the file, when it
    /// is shorter than announced).
    pub(crate) fn read_into(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, String> {
        let frame_bytes = self.format.bytes() * self.channels;
        let frames = (max_frames.min(16_384) as u64).min(self.frames_left) as usize;
        self.bytes.resize(frames * frame_bytes, 0);
        let mut got = 0;
        while got < self.bytes.len() {
            match self.reader.read(&mut self.bytes[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        let whole = got / frame_bytes;
        if whole < frames {
            // The file ends early: what is present is the audio.
            self.frames_left = 0;
        } else {
            self.frames_left -= whole as u64;
        }
        let bps = self.format.bytes();
        self.frame.clear();
        self.frame.extend(self.bytes[..whole * frame_bytes].chunks_exact(bps).map(|s| self.format.decode(s)));
        downmix_into(&self.frame, self.channels, out);
        Ok(whole)
    }
}

/// Parses a `fmt ` chunk: (sample format, channels, rate).
fn parse_fmt(b: &[u8]) -> Result<(SampleFormat, usize, u32), String> {
    if b.len() < 16 {
        return Err("the fmt chunk is shorter than 16 bytes".into());
    }
    let mut tag = le16(b, 0);
    let channels = usize::from(le16(b, 2));
    let sample_rate = le32(b, 4);
    let bits = le16(b, 14);
    if tag == 0xFFFE {
        if b.len() < 40 {
            return Err("the extensible fmt chunk is shorter than 40 bytes".into());
        }
        tag = le16(b, 24);
    }
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(format!(
            "sample rate {sample_rate} Hz is outside what real audio uses ({MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz)"
        ));
    }
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(format!("channel count {channels} is out of range (1 to {MAX_CHANNELS})"));
    }
    let format = match (tag, bits) {
        (1, 8) => SampleFormat::U8,
        (1, 16) => SampleFormat::I16,
        (1, 24) => SampleFormat::I24,
        (1, 32) => SampleFormat::I32,
        (3, 32) => SampleFormat::F32,
        (3, 64) => SampleFormat::F64,
        (tag, bits) => {
            return Err(format!("RF64 sample format {tag:#06x} with {bits} bits is not supported"));
        }
    };
    Ok((format, channels, sample_rate))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An RF64 file of 16-bit interleaved `samples` (the layout EBU 3306 gives).
    pub(crate) fn rf64_file(samples: &[i16], channels: u16, rate: u32) -> Vec<u8> {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut f = b"RF64\xff\xff\xff\xffWAVE".to_vec();
        f.extend_from_slice(b"ds64");
        f.extend_from_slice(&28u32.to_le_bytes());
        f.extend_from_slice(&(data.len() as u64 + 72).to_le_bytes());
        f.extend_from_slice(&(data.len() as u64).to_le_bytes());
        f.extend_from_slice(&((samples.len() / usize::from(channels)) as u64).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(b"fmt ");
        f.extend_from_slice(&16u32.to_le_bytes());
        f.extend_from_slice(&1u16.to_le_bytes());
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&rate.to_le_bytes());
        f.extend_from_slice(&(rate * 2 * u32::from(channels)).to_le_bytes());
        f.extend_from_slice(&(2 * channels).to_le_bytes());
        f.extend_from_slice(&16u16.to_le_bytes());
        f.extend_from_slice(b"data\xff\xff\xff\xff");
        f.extend_from_slice(&data);
        f
    }

    #[test]
    fn reads_stereo_pcm_as_channel_mean() {
        let f = rf64_file(&[16_384, 0, -32_768, 32_767, 8_192, 8_192], 2, 48_000);
        let mut r = Rf64Reader::open(&f[..]).unwrap();
        assert_eq!((r.channels, r.sample_rate, r.announced_frames), (2, 48_000, 3));
        let mut mono = Vec::new();
        assert_eq!(r.read_into(&mut mono, 100).unwrap(), 3);
        assert_eq!(r.read_into(&mut mono, 100).unwrap(), 0);
        assert_eq!(mono, vec![0.25, (-32_768.0 + 32_767.0) / 65_536.0, 0.25]);
    }

    #[test]
    fn impossible_headers_are_refused() {
        let good = rf64_file(&[0, 0], 1, 8_000);
        let with = |at: usize, bytes: &[u8]| {
            let mut f = good.clone();
            f[at..at + bytes.len()].copy_from_slice(bytes);
            Rf64Reader::open(&f[..]).err().unwrap_or_default()
        };
        // fmt chunk starts at 12 + 8 + 28 = 48; its fields at 56.
        assert!(with(60, &u32::MAX.to_le_bytes()).contains("sample rate"));
        assert!(with(58, &0u16.to_le_bytes()).contains("channel count"));
        assert!(with(56, &2u16.to_le_bytes()).contains("not supported"));
        assert!(with(16, &u32::MAX.to_le_bytes()).contains("claims"));
        assert!(Rf64Reader::open(&good[..30]).is_err());
        assert!(Rf64Reader::open(&b"RF64"[..]).is_err());
    }
}
