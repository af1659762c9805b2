//! Every format of a real music library against ffmpeg's reference decodes
//! in `shared/fixtures/formats` (ten seconds of one stereo 44.1 kHz clip,
//! encoded by ffmpeg 5.1 into each format; see its README).

use std::path::PathBuf;

use genreid_audio::{AudioError, MonoStream, Source, decode};
use genreid_testkit::shared;

fn fixture(name: &str) -> PathBuf {
    shared().join("fixtures/formats").join(name)
}

fn mono(name: &str) -> genreid_audio::Decoded {
    decode(Source::File(&fixture(name)), f64::INFINITY).unwrap_or_else(|e| panic!("{e}"))
}

/// Signal-to-error ratio in dB of `got` against `want`, over their common length.
fn snr_db(got: &[f32], want: &[f32]) -> f64 {
    let n = got.len().min(want.len());
    let err: f64 = (0..n).map(|i| f64::from(got[i] - want[i]).powi(2)).sum();
    let sig: f64 = want[..n].iter().map(|x| f64::from(*x).powi(2)).sum();
    10.0 * (sig / err.max(1e-30)).log10()
}

/// The lag (in frames, within ±`max`) at which `got` best matches `want`.
fn best_lag(got: &[f32], want: &[f32], max: i64) -> i64 {
    let corr = |lag: i64| -> f64 {
        (50_000..250_000).map(|i| f64::from(want[i]) * f64::from(got[(i as i64 + lag) as usize])).sum()
    };
    (-max..=max).max_by(|a, b| corr(*a).total_cmp(&corr(*b))).unwrap()
}

#[test]
fn lossless_formats_decode_to_exactly_the_source() {
    let source = mono("source.wav");
    assert_eq!(source.signal.len(), 441_000);
    for name in ["alac.m4a", "aiff.aiff", "caf.caf", "flac.mka"] {
        let d = mono(name);
        assert_eq!((d.signal.sample_rate, d.channels), (44_100, 2), "{name}");
        assert_eq!(d.signal.len(), 441_000, "{name}: frame count");
        assert!(d.signal.samples == source.signal.samples, "{name}: samples differ from source.wav");
        assert!(d.warnings.is_empty(), "{name}: {:?}", d.warnings);
    }
}

#[test]
fn aac_matches_ffmpeg_and_starts_at_the_first_sample() {
    let source = mono("source.wav").signal.samples;
    // ffmpeg trims the priming but keeps the last frame's padding (441,344
    // frames); the edit list says the music is 441,000 frames, and so is ours.
    let reference = mono("aac.m4a.ffmpeg.wav").signal.samples;
    assert_eq!(reference.len(), 441_344);
    for name in ["aac.m4a", "aac_tagged.m4a"] {
        let d = mono(name);
        assert_eq!(d.signal.len(), 441_000, "{name}: the edit list's length");
        assert_eq!(best_lag(&d.signal.samples, &source, 2_048), 0, "{name}: shifted against source.wav");
        assert!(d.warnings.is_empty(), "{name}: {:?}", d.warnings);
    }
    let aac = mono("aac.m4a").signal.samples;
    let snr = snr_db(&aac, &reference);
    assert!(snr > 100.0, "AAC against ffmpeg's decode: {snr:.1} dB");
    let max_err = aac.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(max_err < 1e-4, "AAC against ffmpeg's decode: max error {max_err:e}");
}

#[test]
fn opus_matches_libopus_in_ogg_and_webm() {
    let reference = mono("opus.opus.ffmpeg.wav");
    assert_eq!((reference.signal.sample_rate, reference.signal.len()), (48_000, 480_000));
    for name in ["opus.opus", "opus.webm"] {
        let d = mono(name);
        assert_eq!((d.signal.sample_rate, d.channels), (48_000, 2), "{name}");
        // Ogg's granule position ends the stream at 480,000 frames; WebM
        // says nothing of the last packet's padding (ffmpeg keeps it too).
        let want_len = if name.ends_with(".opus") { 480_000 } else { 480_648 };
        assert_eq!(d.signal.len(), want_len, "{name}: frame count");
        assert_eq!(best_lag(&d.signal.samples, &reference.signal.samples, 1_000), 0, "{name}: pre-skip");
        let snr = snr_db(&d.signal.samples, &reference.signal.samples);
        assert!(snr > 80.0, "{name} against libopus: {snr:.1} dB");
    }
}

#[test]
fn opus_is_not_shifted_against_the_source() {
    // Back at 44.1 kHz, the Opus decode lines up with source.wav.
    let source = mono("source.wav").signal;
    let opus = mono("opus.opus").signal;
    let back = genreid_audio::resample(&opus, 44_100).unwrap();
    assert_eq!(best_lag(&back.samples, &source.samples, 2_000), 0);
    assert!(snr_db(&back.samples, &source.samples) > 15.0);
}

#[test]
fn wma_is_named_as_unsupported() {
    let e = decode(Source::File(&fixture("wma.wma")), 10.0).unwrap_err();
    assert!(matches!(e, AudioError::Unsupported { .. }), "{e:?}");
    let message = e.to_string();
    assert!(
        message.contains("wma.wma") && message.contains("WMA") && message.contains("not supported"),
        "{message}"
    );
    let e = MonoStream::open(&fixture("wma.wma")).err().expect("an error");
    assert!(e.to_string().contains("WMA"), "{e}");
}

#[test]
fn streamed_and_in_memory_decodes_equal_file_decodes() {
    for name in ["aac.m4a", "alac.m4a", "opus.opus", "opus.webm", "aiff.aiff", "caf.caf", "flac.mka"] {
        let file = mono(name);
        assert!(file.warnings.is_empty(), "{name}: {:?}", file.warnings);
        let whole = file.signal;
        let bytes = std::fs::read(fixture(name)).unwrap();
        let ext = name.rsplit('.').next();
        let in_memory = decode(Source::Bytes { name, bytes: bytes.clone(), extension: ext }, f64::INFINITY)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(in_memory.signal == whole, "{name}: bytes");
        let reader = Box::new(std::io::Cursor::new(bytes));
        let streamed = decode(Source::Stream { name, reader, extension: ext }, f64::INFINITY)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(streamed.signal == whole, "{name}: stream");
        assert!(in_memory.warnings.is_empty(), "{name}: bytes: {:?}", in_memory.warnings);
        assert!(streamed.warnings.is_empty(), "{name}: stream: {:?}", streamed.warnings);
        // Block by block, as long files are read.
        let mut stream = MonoStream::open(&fixture(name)).unwrap();
        let mut blocks = Vec::new();
        while stream.read(10_000, &mut blocks).unwrap() > 0 {}
        assert!(blocks == whole.samples, "{name}: MonoStream");
    }
}

/// An MP3 with an ID3v2.`version` tag of `tag_bytes` (a picture frame of
/// that size) in front of a real MP3's frames.
fn mp3_with_big_tag(version: u8, tag_bytes: usize) -> Vec<u8> {
    let mp3 =
        std::fs::read(shared().join("fixtures/audio/rock_sectoid_escape_from_chaosland_stereo44k_128k.mp3"))
            .unwrap();
    // Step over the file's own ID3v2 tag, if any.
    let skip = if mp3.starts_with(b"ID3") {
        10 + mp3[6..10].iter().fold(0usize, |acc, &b| (acc << 7) | usize::from(b))
    } else {
        0
    };
    let syncsafe =
        |n: usize| [(n >> 21) as u8 & 0x7f, (n >> 14) as u8 & 0x7f, (n >> 7) as u8 & 0x7f, n as u8 & 0x7f];
    let mut body = b"\x00image/png\x00\x03cover\x00".to_vec();
    body.extend(std::iter::repeat_n(0xA5u8, tag_bytes));
    let mut frame = b"APIC".to_vec();
    if version == 4 {
        frame.extend_from_slice(&syncsafe(body.len()));
    } else {
        frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    }
    frame.extend_from_slice(&[0, 0]);
    frame.extend(body);
    let mut file = vec![b'I', b'D', b'3', version, 0, 0];
    file.extend_from_slice(&syncsafe(frame.len()));
    file.extend(frame);
    file.extend_from_slice(&mp3[skip..]);
    file
}

#[test]
fn mp3_with_a_4_mib_cover_decodes_like_the_plain_file() {
    let plain = mono_of_bytes("plain.mp3", mp3_with_big_tag(4, 0));
    for version in [3, 4] {
        let big = mono_of_bytes("cover.mp3", mp3_with_big_tag(version, 4 << 20));
        assert!(big == plain, "ID3v2.{version} with a 4 MiB picture");
    }
}

fn mono_of_bytes(name: &str, bytes: Vec<u8>) -> Vec<f32> {
    let d = decode(Source::Bytes { name, bytes, extension: Some("mp3") }, f64::INFINITY)
        .unwrap_or_else(|e| panic!("{e}"));
    d.signal.samples
}

#[test]
fn rf64_decodes_like_the_wav_it_holds() {
    // source.wav's samples rewritten as RF64 (ds64 sizes, 0xFFFFFFFF in the
    // 32-bit fields), whole and block by block.
    let wav = std::fs::read(fixture("source.wav")).unwrap();
    let data_at = wav.windows(4).position(|w| w == b"data").unwrap() + 8;
    let data = &wav[data_at..];
    let mut rf64 = b"RF64\xff\xff\xff\xffWAVEds64".to_vec();
    rf64.extend_from_slice(&28u32.to_le_bytes());
    rf64.extend_from_slice(&(data.len() as u64 + 72).to_le_bytes());
    rf64.extend_from_slice(&(data.len() as u64).to_le_bytes());
    rf64.extend_from_slice(&(data.len() as u64 / 4).to_le_bytes());
    rf64.extend_from_slice(&0u32.to_le_bytes());
    rf64.extend_from_slice(b"fmt \x10\0\0\0\x01\0\x02\0");
    rf64.extend_from_slice(&44_100u32.to_le_bytes());
    rf64.extend_from_slice(&(44_100u32 * 4).to_le_bytes());
    rf64.extend_from_slice(b"\x04\0\x10\0data\xff\xff\xff\xff");
    rf64.extend_from_slice(data);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recording.wav");
    std::fs::write(&path, &rf64).unwrap();
    let source = mono("source.wav");
    let d = decode(Source::File(&path), f64::INFINITY).unwrap();
    assert!(d.signal == source.signal && d.channels == 2 && d.warnings.is_empty());
    let mut stream = MonoStream::open(&path).unwrap();
    let mut blocks = Vec::new();
    while stream.read(30_000, &mut blocks).unwrap() > 0 {}
    assert!(blocks == source.signal.samples);
    // Cut short, it says so.
    std::fs::write(&path, &rf64[..rf64.len() / 2]).unwrap();
    let d = decode(Source::File(&path), f64::INFINITY).unwrap();
    assert!(
        d.warnings.iter().any(|w| matches!(w, genreid_audio::Warning::Truncated { .. })),
        "{:?}",
        d.warnings
    );
}
