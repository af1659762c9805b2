//! Malformed input never panics: a corpus of broken files made here, and a
//! property test that feeds arbitrary and mutated bytes to every decoder.

use genreid_audio::{AudioError, LoadOptions, load_bytes};
use proptest::prelude::*;

fn wav_header(channels: u16, rate: u32, bits: u16, data_len: u32) -> Vec<u8> {
    let mut h = b"RIFF".to_vec();
    h.extend((36 + data_len).to_le_bytes());
    h.extend(b"WAVEfmt ");
    h.extend(16u32.to_le_bytes());
    h.extend(1u16.to_le_bytes());
    h.extend(channels.to_le_bytes());
    h.extend(rate.to_le_bytes());
    h.extend((rate * u32::from(channels) * u32::from(bits) / 8).to_le_bytes());
    h.extend((channels * bits / 8).to_le_bytes());
    h.extend(bits.to_le_bytes());
    h.extend(b"data");
    h.extend(data_len.to_le_bytes());
    h
}

fn au_header(encoding: u32, rate: u32, channels: u32, size: u32) -> Vec<u8> {
    let mut h = b".snd".to_vec();
    for w in [24u32, size, encoding, rate, channels] {
        h.extend(w.to_be_bytes());
    }
    h
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(genreid_testkit::shared().join("fixtures/audio").join(name)).unwrap()
}

fn try_load(name: &str, bytes: Vec<u8>) -> Result<usize, AudioError> {
    let options = LoadOptions { sample_rate: None, ..Default::default() };
    load_bytes(name, bytes, &options).map(|s| s.len())
}

#[test]
fn corpus_of_broken_files_gives_errors_naming_the_file() {
    let mp3 = fixture("rock_sectoid_escape_from_chaosland_stereo44k_128k.mp3");
    let flac = fixture("rock_sectoid_escape_from_chaosland_stereo44k.flac");
    let ogg = fixture("rock_sectoid_escape_from_chaosland_stereo44k_q4.ogg");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.wav", Vec::new()),
        ("text.mp3", b"this is not audio at all, just some text".repeat(20)),
        ("zeros.flac", vec![0u8; 4096]),
        ("zero_channels.wav", wav_header(0, 22_050, 16, 100)),
        ("zero_rate.wav", wav_header(1, 0, 16, 100)),
        ("header_only.wav", wav_header(1, 22_050, 16, 0)),
        ("zero_channels.au", au_header(3, 22_050, 0, 4)),
        ("zero_rate.au", au_header(3, 0, 1, 4)),
        ("absurd_channels.au", au_header(3, 22_050, u32::MAX, 4)),
        ("unknown_encoding.au", au_header(23, 22_050, 1, 4)),
        ("no_data.au", au_header(3, 22_050, 1, 1_000_000)),
        ("mp3_header_only.mp3", mp3[..200.min(mp3.len())].to_vec()),
        ("flac_header_only.flac", flac[..100].to_vec()),
        ("ogg_header_only.ogg", ogg[..58].to_vec()),
    ];
    for (name, bytes) in cases {
        match try_load(name, bytes) {
            Err(e) => assert!(e.to_string().contains(name), "{name}: error does not name the file: {e}"),
            Ok(n) => panic!("{name}: decoded {n} samples from a broken file"),
        }
    }
}

#[test]
fn float_wav_with_nan_samples_is_an_error_naming_the_file() {
    let mut bytes = wav_header(1, 8000, 32, 16);
    bytes[20..22].copy_from_slice(&3u16.to_le_bytes()); // WAVE_FORMAT_IEEE_FLOAT
    for v in [0.5f32, f32::NAN, -0.25, f32::INFINITY] {
        bytes.extend(v.to_le_bytes());
    }
    for rate in [None, Some(22_050)] {
        let options = LoadOptions { sample_rate: rate, ..Default::default() };
        let e = load_bytes("nan.wav", bytes.clone(), &options).unwrap_err().to_string();
        assert!(e.contains("nan.wav") && e.contains("NaN"), "{e}");
    }
}

#[test]
fn truncated_files_decode_what_is_there() {
    for name in [
        "rock_sectoid_escape_from_chaosland_stereo44k_128k.mp3",
        "rock_sectoid_escape_from_chaosland_stereo44k.flac",
        "rock_sectoid_escape_from_chaosland_stereo44k_q4.ogg",
        "rock_sectoid_escape_from_chaosland_stereo44k_5s.wav",
    ] {
        let bytes = fixture(name);
        let half = bytes[..bytes.len() / 2].to_vec();
        let n = try_load(name, half).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(n > 10_000, "{name}: only {n} samples from half a file");
    }
}

#[test]
fn a_huge_wav_header_does_not_allocate_what_it_claims() {
    // Claims 4 GiB of samples but holds 8 bytes: memory follows the data.
    let mut bytes = wav_header(2, 44_100, 16, u32::MAX - 64);
    bytes.extend([0u8; 8]);
    let _ = try_load("huge.wav", bytes);
}

fn seed_files() -> Vec<(&'static str, Vec<u8>)> {
    let clip = |name: &str, n: usize| {
        let b = fixture(name);
        b[..n.min(b.len())].to_vec()
    };
    let mut au = au_header(1, 8000, 1, 64);
    au.extend((0..64u8).collect::<Vec<_>>());
    vec![
        ("a.mp3", clip("rock_sectoid_escape_from_chaosland_stereo44k_128k.mp3", 6000)),
        ("a.flac", clip("rock_sectoid_escape_from_chaosland_stereo44k.flac", 12_000)),
        ("a.ogg", clip("rock_sectoid_escape_from_chaosland_stereo44k_q4.ogg", 12_000)),
        ("a.wav", clip("speech_espeak_en.wav", 4000)),
        ("a.au", au),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes under every extension: an error or samples, no panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), ext in 0usize..5) {
        let name = ["x.wav", "x.mp3", "x.flac", "x.ogg", "x.au"][ext];
        let _ = try_load(name, bytes);
    }

    /// Real files with random bytes overwritten: the decoders' error paths.
    #[test]
    fn mutated_real_files_never_panic(which in 0usize..5, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..16)) {
        let (name, mut bytes) = seed_files().swap_remove(which);
        let len = bytes.len();
        for (pos, value) in edits {
            bytes[pos % len] = value;
        }
        let _ = try_load(name, bytes);
    }
}
