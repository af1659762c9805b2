//! Opus, as a Symphonia audio decoder: Symphonia demuxes Opus from Ogg and
//! Matroska/WebM but has no Opus codec, so this one is registered beside
//! its own codecs (see [`crate::decode`]).
//!
//! The packets are decoded by the pure-Rust `opus-pure` crate (chosen on
//! measurement: ARCHITECTURE.md). The identification header that both
//! containers carry as the codec's extra data (`OpusHead`, RFC 7845 §5.1)
//! gives the channel mapping, the output gain and the pre-skip: the
//! decoder drops the first `pre_skip` frames itself, so a decode starts at
//! the source's first sample in either container, and it honours the
//! end trim that Ogg's last granule position puts on the final packet.

use symphonia::core::audio::{
    AsGenericAudioBufferRef, AudioBuffer, AudioMut, AudioSpec, Channels, GenericAudioBufferRef,
};
use symphonia::core::codecs::CodecInfo;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{
    AudioCodecParameters, AudioDecoder, AudioDecoderOptions, FinalizeResult,
};
use symphonia::core::codecs::registry::{RegisterableAudioDecoder, SupportedAudioCodec};
use symphonia::core::errors::{Error, Result, unsupported_error};
use symphonia::core::packet::PacketRef;

/// Opus always decodes at 48 kHz (RFC 7845 §5.1: the header's input rate is
/// informational only).
const OPUS_RATE: u32 = 48_000;
/// The longest Opus packet: 120 ms at 48 kHz (RFC 6716 §3.2.5).
const MAX_PACKET_FRAMES: usize = 5_760;

const INFO: CodecInfo = CodecInfo { short_name: "opus", long_name: "Opus (RFC 6716)", profiles: &[] };

/// What the `OpusHead` identification header says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OpusHead {
    /// Output channels.
    pub channels: usize,
    /// Frames at 48 kHz to drop from the start of the decode.
    pub pre_skip: u32,
    /// Linear factor from the header's output gain (Q7.8 dB).
    pub gain: f32,
    /// Channel mapping family (0: mono/stereo, 1: Vorbis surround order).
    pub mapping_family: u8,
}

impl OpusHead {
    /// Parses an `OpusHead` packet, refusing what RFC 7845 does not allow.
    pub(crate) fn parse(b: &[u8]) -> std::result::Result<Self, String> {
        if b.len() < 19 || &b[..8] != b"OpusHead" {
            return Err("the Opus identification header (OpusHead) is missing or short".into());
        }
        // Major version 0 only; minor versions are compatible.
        if b[8] >> 4 != 0 {
            return Err(format!("Opus header version {} is not supported", b[8]));
        }
        let channels = usize::from(b[9]);
        let pre_skip = u32::from(u16::from_le_bytes([b[10], b[11]]));
        let gain_q8 = i16::from_le_bytes([b[16], b[17]]);
        let mapping_family = b[18];
        if channels == 0 {
            return Err("the Opus header declares zero channels".into());
        }
        match mapping_family {
            0 if channels <= 2 => {}
            0 => return Err(format!("Opus channel mapping 0 allows 1 or 2 channels, not {channels}")),
            1 if channels <= 8 => {}
            1 => return Err(format!("Opus channel mapping 1 allows up to 8 channels, not {channels}")),
            other => return Err(format!("Opus channel mapping family {other} is not supported")),
        }
        let gain = 10f32.powf(f32::from(gain_q8) / (20.0 * 256.0));
        Ok(Self { channels, pre_skip, gain, mapping_family })
    }
}

enum Inner {
    Single(Box<opus_pure::OpusDecoder>),
    Multi(opus_pure::OpusMSDecoder),
}

/// Symphonia [`AudioDecoder`] for Opus packets.
pub struct OpusDecoder {
    params: AudioCodecParameters,
    head: OpusHead,
    inner: Inner,
    buf: AudioBuffer<f32>,
    scratch: Vec<f32>,
    /// Frames of the pre-skip still to drop.
    skip_left: u32,
}

impl OpusDecoder {
    fn try_new(params: &AudioCodecParameters, _opts: &AudioDecoderOptions) -> Result<Self> {
        let extra = params.extra_data.as_deref().unwrap_or_default();
        // The reader checks the header first and reports why it is wrong
        // (`crate::decode`); this is the decoder's own guard.
        let head = OpusHead::parse(extra).map_err(|_| Error::DecodeError("opus: invalid OpusHead header"))?;
        let inner = match head.mapping_family {
            0 => opus_pure::OpusDecoder::new(OPUS_RATE as i32, head.channels)
                .map(|d| Inner::Single(Box::new(d))),
            _ => opus_pure::OpusMSDecoder::new(OPUS_RATE as i32, head.channels, head.mapping_family)
                .map(Inner::Multi),
        };
        let inner = inner.map_err(|_| Error::Unsupported("this Opus channel layout"))?;
        let channels = Channels::Discrete(head.channels as u16);
        let spec = AudioSpec::new(OPUS_RATE, channels);
        Ok(Self {
            params: params.clone(),
            head,
            inner,
            buf: AudioBuffer::new(spec, MAX_PACKET_FRAMES),
            scratch: vec![0.0; MAX_PACKET_FRAMES * head.channels],
            skip_left: head.pre_skip,
        })
    }

    fn decode_inner(&mut self, packet: &PacketRef<'_>) -> Result<()> {
        let decoded = match &mut self.inner {
            Inner::Single(d) => d.decode(packet.data, MAX_PACKET_FRAMES, &mut self.scratch),
            Inner::Multi(d) => d.decode(packet.data, MAX_PACKET_FRAMES, &mut self.scratch),
        };
        let frames = decoded.map_err(|_| Error::DecodeError("opus: malformed packet"))?;
        let ch = self.head.channels;
        let samples = &mut self.scratch[..frames * ch];
        if self.head.gain != 1.0 {
            samples.iter_mut().for_each(|x| *x *= self.head.gain);
        }
        // The pre-skip first, then the container's own trims.
        let skip = (self.skip_left as usize).min(frames);
        self.skip_left -= skip as u32;
        let start = skip.max(packet.trim_start.get() as usize).min(frames);
        let end = frames.saturating_sub(packet.trim_end.get() as usize).max(start);
        self.buf.resize_uninit(end - start);
        self.buf.copy_from_slice_interleaved(&&samples[start * ch..end * ch]);
        Ok(())
    }
}

impl AudioDecoder for OpusDecoder {
    fn reset(&mut self) {
        if let Ok(fresh) = Self::try_new(&self.params, &AudioDecoderOptions::default()) {
            *self = fresh;
        }
        // After a seek the pre-skip does not apply again.
        self.skip_left = 0;
    }

    fn codec_info(&self) -> &CodecInfo {
        &INFO
    }

    fn codec_params(&self) -> &AudioCodecParameters {
        &self.params
    }

    fn decode_ref(&mut self, packet: &PacketRef<'_>) -> Result<GenericAudioBufferRef<'_>> {
        if let Err(e) = self.decode_inner(packet) {
            self.buf.clear();
            return Err(e);
        }
        Ok(self.buf.as_generic_audio_buffer_ref())
    }

    fn finalize(&mut self) -> FinalizeResult {
        FinalizeResult::default()
    }

    fn last_decoded(&self) -> GenericAudioBufferRef<'_> {
        self.buf.as_generic_audio_buffer_ref()
    }
}

impl RegisterableAudioDecoder for OpusDecoder {
    fn try_registry_new(
        params: &AudioCodecParameters,
        opts: &AudioDecoderOptions,
    ) -> Result<Box<dyn AudioDecoder>> {
        if params.codec != CODEC_ID_OPUS {
            return unsupported_error("opus: not an Opus stream");
        }
        Ok(Box::new(Self::try_new(params, opts)?))
    }

    fn supported_codecs() -> &'static [SupportedAudioCodec] {
        &[SupportedAudioCodec { id: CODEC_ID_OPUS, info: INFO }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(channels: u8, pre_skip: u16, gain: i16, family: u8) -> Vec<u8> {
        let mut b = b"OpusHead".to_vec();
        b.push(1);
        b.push(channels);
        b.extend_from_slice(&pre_skip.to_le_bytes());
        b.extend_from_slice(&48_000u32.to_le_bytes());
        b.extend_from_slice(&gain.to_le_bytes());
        b.push(family);
        b
    }

    #[test]
    fn header_fields_are_read() {
        let h = OpusHead::parse(&head(2, 312, 0, 0)).unwrap();
        assert_eq!((h.channels, h.pre_skip, h.gain, h.mapping_family), (2, 312, 1.0, 0));
        let loud = OpusHead::parse(&head(1, 0, 6 * 256, 0)).unwrap();
        assert!((loud.gain - 1.9953).abs() < 1e-3, "{}", loud.gain);
    }

    #[test]
    fn impossible_headers_are_refused() {
        assert!(OpusHead::parse(b"OpusHead").is_err());
        assert!(OpusHead::parse(&head(0, 0, 0, 0)).unwrap_err().contains("zero channels"));
        assert!(OpusHead::parse(&head(3, 0, 0, 0)).unwrap_err().contains("1 or 2"));
        assert!(OpusHead::parse(&head(9, 0, 0, 1)).unwrap_err().contains("up to 8"));
        assert!(OpusHead::parse(&head(2, 0, 0, 255)).unwrap_err().contains("255"));
        let mut v = head(2, 0, 0, 0);
        v[8] = 0x10;
        assert!(OpusHead::parse(&v).unwrap_err().contains("version"));
    }
}
