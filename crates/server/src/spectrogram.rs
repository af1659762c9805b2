//! A small mel spectrogram of an upload for the page to draw: 64 bands,
//! at most 600 frames, in dB (80 dB range) scaled to bytes.

use base64::Engine as _;
use genreid_audio::Signal;
use genreid_features::{DbConfig, StftConfig, melspectrogram, power_to_db};
use serde::Serialize;

/// Mel bands drawn.
const BANDS: usize = 64;
/// Most frames drawn; longer audio gets a longer hop.
const MAX_FRAMES: usize = 600;

/// The picture: `bands` rows (lowest band first) of `frames` bytes, row-major, base64.
#[derive(Debug, Serialize)]
pub(crate) struct Picture {
    pub bands: usize,
    pub frames: usize,
    pub seconds: f64,
    /// 0 = 80 dB below the loudest cell, 255 = the loudest.
    pub data: String,
}

pub(crate) fn picture(signal: &Signal) -> Option<Picture> {
    let n = signal.len();
    let n_fft = 1024;
    let hop = (n / MAX_FRAMES + 1).max(256);
    let stft = StftConfig { n_fft, hop_length: hop, win_length: n_fft, center: true };
    let mel = melspectrogram(&signal.samples, f64::from(signal.sample_rate), stft, BANDS).ok()?;
    let db = power_to_db(&mel, &DbConfig::ref_max());
    let [bands, frames] = db.shape();
    let mut bytes = Vec::with_capacity(bands * frames);
    for band in 0..bands {
        bytes.extend(db.row(band).iter().map(|&v| ((v + 80.0) / 80.0 * 255.0).clamp(0.0, 255.0) as u8));
    }
    Some(Picture {
        bands,
        frames,
        seconds: n as f64 / f64::from(signal.sample_rate),
        data: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}
