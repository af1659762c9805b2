//! Crafted headers cannot make genreid do unbounded work: any sample rate
//! from 0 to 2^32-1, any channel count, bit depth and claimed size (WAV,
//! `.au`), and crafted MP4 atoms, Opus headers, Matroska elements, CAF and
//! AIFF chunks give an error or a result, within a time and a memory
//! bound (peak RSS measured around each case; Linux's `clear_refs` resets
//! the high-water mark). The reproductions of the hostile-input report are
//! here as named cases.
//!
//! One test function: the cases run one after another, so each one's
//! memory is its own.

use std::time::{Duration, Instant};

use genreid_audio::{AudioError, Blocks, LoadOptions, MonoStream, Warning, load_bytes, load_checked};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Bounds every case must keep (generous: CI's two cores are shared).
const TIME_BOUND: Duration = Duration::from_secs(20);
const MEMORY_BOUND_MB: f64 = 400.0;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(genreid_testkit::shared().join("fixtures/audio").join(name)).unwrap()
}

/// 16-bit mono samples of a real recording (the speech fixture's data).
fn real_pcm(seconds: f64) -> Vec<u8> {
    let wav = fixture("speech_espeak_en.wav");
    let data = &wav[44..];
    let want = (seconds * 22_050.0) as usize * 2;
    data.iter().copied().cycle().take(want).collect()
}

/// A 44-byte WAV header: PCM (`format` 1) or IEEE float (3).
fn wav(format: u16, channels: u16, rate: u32, bits: u16, claimed: u32, data: &[u8]) -> Vec<u8> {
    let mut h = b"RIFF".to_vec();
    h.extend(claimed.saturating_add(36).to_le_bytes());
    h.extend(b"WAVEfmt ");
    h.extend(16u32.to_le_bytes());
    h.extend(format.to_le_bytes());
    h.extend(channels.to_le_bytes());
    h.extend(rate.to_le_bytes());
    let block = u32::from(channels) * u32::from(bits) / 8;
    h.extend(rate.wrapping_mul(block).to_le_bytes());
    h.extend((block as u16).to_le_bytes());
    h.extend(bits.to_le_bytes());
    h.extend(b"data");
    h.extend(claimed.to_le_bytes());
    h.extend_from_slice(data);
    h
}

fn au(encoding: u32, rate: u32, channels: u32, claimed: u32, data: &[u8]) -> Vec<u8> {
    let mut h = b".snd".to_vec();
    for w in [24u32, claimed, encoding, rate, channels] {
        h.extend(w.to_be_bytes());
    }
    h.extend_from_slice(data);
    h
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap() / 1024.0
}

fn current_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap() / 1024.0
}

/// Runs `case` and checks the time and memory it took.
fn bounded<T>(what: &str, case: impl FnOnce() -> T) -> T {
    std::fs::write("/proc/self/clear_refs", "5").expect("resetting the peak RSS (Linux clear_refs)");
    let before = current_rss_mb();
    let started = Instant::now();
    let out = case();
    let took = started.elapsed();
    let grew = peak_rss_mb() - before;
    assert!(took < TIME_BOUND, "{what}: took {took:?}");
    assert!(grew < MEMORY_BOUND_MB, "{what}: peak memory grew by {grew:.0} MB");
    out
}

/// Both decode paths: whole (an upload, resampled to 22,050 Hz) and
/// streamed in blocks from a file (what `classify` does).
fn both_paths(name: &str, bytes: Vec<u8>) -> (Result<usize, AudioError>, Result<usize, AudioError>) {
    let path = std::env::temp_dir().join(format!("genreid-hostile-{}-{name}", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let whole = bounded(&format!("{name} (whole)"), || {
        load_bytes(name, bytes, &LoadOptions::default()).map(|s| s.len())
    });
    let streamed = bounded(&format!("{name} (blocks)"), || {
        let stream = MonoStream::open(&path)?;
        let mut blocks = Blocks::new(stream, 16_000, 256, 120.0, (1.0, 4.5), 4.0 * 3600.0)?;
        let mut n = 0;
        while let Some(block) = blocks.next_block()? {
            n += block.core_end - block.core_start;
        }
        Ok(n)
    });
    let _ = std::fs::remove_file(&path);
    (whole, streamed)
}

#[test]
fn crafted_headers_get_an_error_or_a_result_within_bounds() {
    let five_seconds = real_pcm(5.0);
    // The report's reproductions: 5 s of real audio, only the rate changed.
    for rate in [u32::MAX, 1 << 31, 8, 100, 1, 0, 999, 768_001] {
        let name = format!("rate_{rate}.wav");
        let bytes = wav(1, 1, rate, 16, five_seconds.len() as u32, &five_seconds);
        let (whole, streamed) = both_paths(&name, bytes);
        for result in [whole, streamed] {
            let e = result.expect_err(&name).to_string();
            assert!(e.contains(&name) && e.contains("sample rate"), "{name}: {e}");
        }
    }
    // The limits themselves are real audio.
    for rate in [1_000, 8_000, 768_000] {
        let name = format!("rate_{rate}.wav");
        let (whole, streamed) =
            both_paths(&name, wav(1, 1, rate, 16, five_seconds.len() as u32, &five_seconds));
        assert!(whole.is_ok() && streamed.is_ok(), "{name}: {whole:?} {streamed:?}");
    }

    // Random headers over every field, around real audio or random bytes.
    let mut runner = TestRunner::new(Config { cases: 48, ..Config::default() });
    let rates = prop_oneof![
        Just(0u32),
        Just(1),
        Just(u32::MAX),
        Just(1 << 31),
        1u32..1_000,
        1_000u32..=768_000,
        any::<u32>()
    ];
    let header = (
        prop_oneof![Just(1u16), Just(3u16), any::<u16>()],
        prop_oneof![Just(0u16), 1u16..=8, 60u16..70, any::<u16>()],
        rates.clone(),
        prop_oneof![Just(8u16), Just(16), Just(24), Just(32), Just(64), any::<u16>()],
        any::<u32>(),
        0usize..=five_seconds.len(),
    );
    runner
        .run(&header, |(format, channels, rate, bits, claimed, len)| {
            let name = format!("f{format}_c{channels}_r{rate}_b{bits}_s{claimed}.wav");
            let _ = both_paths(&name, wav(format, channels, rate, bits, claimed, &five_seconds[..len]));
            Ok(())
        })
        .unwrap();
    let header = (
        prop_oneof![1u32..=7, Just(27u32), any::<u32>()],
        rates,
        prop_oneof![Just(0u32), 1u32..=8, any::<u32>()],
        any::<u32>(),
        0usize..=five_seconds.len(),
    );
    runner
        .run(&header, |(encoding, rate, channels, claimed, len)| {
            let name = format!("e{encoding}_r{rate}_c{channels}_s{claimed}.au");
            let _ = both_paths(&name, au(encoding, rate, channels, claimed, &five_seconds[..len]));
            Ok(())
        })
        .unwrap();
    crafted_containers_get_an_error_or_a_result_within_bounds();
}

#[test]
fn samples_far_beyond_full_scale_are_refused_and_small_overs_warned() {
    // A real clip as float, scaled by 1e30 (the report's case 3).
    let pcm = real_pcm(2.0);
    let float = |gain: f32| -> Vec<u8> {
        let data: Vec<u8> = pcm
            .chunks_exact(2)
            .flat_map(|b| (f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0 * gain).to_le_bytes())
            .collect();
        wav(3, 1, 22_050, 32, data.len() as u32, &data)
    };
    let e = load_bytes("loud.wav", float(1e30), &LoadOptions::default()).unwrap_err().to_string();
    assert!(e.contains("loud.wav") && e.contains("full scale"), "{e}");
    let peak = |bytes: Vec<u8>| load_checked_bytes("x.wav", bytes).1;
    assert!(peak(float(1.0)).is_empty());
    let warned = peak(float(4.0 / 0.6));
    assert!(matches!(warned.as_slice(), [Warning::AboveFullScale { .. }]), "{warned:?}");
}

fn load_checked_bytes(name: &str, bytes: Vec<u8>) -> (usize, Vec<Warning>) {
    let path = std::env::temp_dir().join(format!("genreid-hostile-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let loaded = load_checked(&path, &LoadOptions::default()).unwrap();
    let _ = std::fs::remove_file(&path);
    (loaded.signal.len(), loaded.warnings)
}

#[test]
fn truncated_and_cut_streams_say_so() {
    // A WAV cut to 10 % of its bytes: the audio that is there, and a warning.
    let full = fixture("rock_sectoid_escape_from_chaosland.wav");
    let (n, warnings) = load_checked_bytes("cut10.wav", full[..full.len() / 10].to_vec());
    assert!(n > 0);
    assert!(matches!(warnings.as_slice(), [Warning::Truncated { .. }]), "{warnings:?}");
    for name in [
        "rock_sectoid_escape_from_chaosland_stereo44k.flac",
        "rock_sectoid_escape_from_chaosland_stereo44k_128k.mp3",
    ] {
        let bytes = fixture(name);
        let (_, warnings) = load_checked_bytes(name, bytes[..bytes.len() / 3].to_vec());
        assert!(
            warnings.iter().any(|w| w.code() == "truncated" || w.code() == "damaged"),
            "{name}: {warnings:?}"
        );
        let (_, clean) = load_checked_bytes(name, bytes);
        assert!(clean.is_empty(), "{name}: {clean:?}");
    }
    // A limit shorter than the file: cut there, with a warning; a duration
    // the caller asked for is no news.
    let path = genreid_testkit::shared().join("fixtures/audio/rock_sectoid_escape_from_chaosland.wav");
    let capped = load_checked(&path, &LoadOptions { max_seconds: 2.0, ..Default::default() }).unwrap();
    assert_eq!(capped.signal.len(), 44_100);
    assert_eq!(capped.warnings, [Warning::Cut { at_seconds: 2.0 }]);
    let asked =
        load_checked(&path, &LoadOptions { duration_seconds: Some(2.0), ..Default::default() }).unwrap();
    assert!(asked.warnings.is_empty(), "{:?}", asked.warnings);
}

/// A fixture of `shared/fixtures/formats` (one clip in every library format).
fn format_fixture(name: &str) -> Vec<u8> {
    std::fs::read(genreid_testkit::shared().join("fixtures/formats").join(name)).unwrap()
}

/// Offset of the first `marker` in `bytes` (the fixtures hold each one).
fn find(bytes: &[u8], marker: &[u8]) -> usize {
    bytes.windows(marker.len()).position(|w| w == marker).unwrap_or_else(|| panic!("{marker:?} not found"))
}

/// Both decode paths on a crafted container; an error must name the file.
fn container_case(name: &str, bytes: Vec<u8>) {
    let (whole, streamed) = both_paths(name, bytes);
    for e in [whole.err(), streamed.err()].into_iter().flatten() {
        assert!(e.to_string().contains(name), "{name}: error does not name the file: {e}");
    }
}

fn with(mut bytes: Vec<u8>, at: usize, value: &[u8]) -> Vec<u8> {
    bytes[at..at + value.len()].copy_from_slice(value);
    bytes
}

/// Crafted MP4 atoms, Ogg/Opus headers, Matroska elements, CAF and AIFF
/// chunks: the library fixtures of `shared/fixtures/formats` with header
/// fields overwritten (sizes, counts, rates, channel counts, edit lists,
/// pre-skips) or cut short. An error must name the file.
fn crafted_containers_get_an_error_or_a_result_within_bounds() {
    // Named cases: the fields a hostile file would aim at.
    let m4a = format_fixture("aac.m4a");
    let elst = find(&m4a, b"elst");
    let moov = find(&m4a, b"moov") - 4;
    let stsz = find(&m4a, b"stsz");
    let opus = format_fixture("opus.opus");
    let head = find(&opus, b"OpusHead");
    let webm = format_fixture("opus.webm");
    let caf = format_fixture("caf.caf");
    let caf_desc = find(&caf, b"desc");
    let named: Vec<(&str, Vec<u8>)> = vec![
        // An edit list that skips 2^62 frames, or keeps 2^31 ms.
        ("skip_all.m4a", with(m4a.clone(), elst + 16, &(u32::MAX / 2).to_be_bytes())),
        ("keep_huge.m4a", with(m4a.clone(), elst + 12, &u32::MAX.to_be_bytes())),
        ("elst_count.m4a", with(m4a.clone(), elst + 8, &u32::MAX.to_be_bytes())),
        ("moov_size.m4a", with(m4a.clone(), moov, &u32::MAX.to_be_bytes())),
        ("moov_64bit.m4a", with(m4a.clone(), moov, &1u32.to_be_bytes())),
        ("stsz_count.m4a", with(m4a.clone(), stsz + 12, &u32::MAX.to_be_bytes())),
        // OpusHead: 255 channels, the largest pre-skip, +127 dB gain, family 255.
        ("channels.opus", with(opus.clone(), head + 9, &[255])),
        ("pre_skip.opus", with(opus.clone(), head + 10, &[0xFF, 0xFF])),
        ("gain.opus", with(opus.clone(), head + 16, &[0xFF, 0x7F])),
        ("family.opus", with(opus.clone(), head + 18, &[255])),
        // Matroska: the EBML header's and the Segment's sizes as "huge".
        ("ebml_size.webm", with(webm.clone(), 4, &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])),
        (
            "segment_size.webm",
            with(
                webm.clone(),
                find(&webm, &[0x18, 0x53, 0x80, 0x67]) + 4,
                &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE],
            ),
        ),
        // CAF: a sample rate of 1e300 and 2^32-1 channels.
        ("rate.caf", with(caf.clone(), caf_desc + 12, &1e300f64.to_be_bytes())),
        ("channels.caf", with(caf.clone(), caf_desc + 12 + 24, &u32::MAX.to_be_bytes())),
    ];
    for (name, bytes) in named {
        container_case(name, bytes);
    }

    // Random overwrites near each container's headers (the first 4 KiB and,
    // for MP4, the `moov` at the end), and random truncations.
    let files: Vec<(&str, Vec<u8>)> =
        ["aac.m4a", "alac.m4a", "opus.opus", "opus.webm", "flac.mka", "caf.caf", "aiff.aiff"]
            .iter()
            .map(|n| (*n, format_fixture(n)))
            .collect();
    let mut runner = TestRunner::new(Config { cases: 64, ..Config::default() });
    let case = (
        0..files.len(),
        prop_oneof![0usize..4_096, Just(usize::MAX)],
        0usize..8_192,
        prop_oneof![Just(0u32), Just(u32::MAX), Just(0x7FFF_FFFF), Just(1), any::<u32>()],
        prop_oneof![Just(None), (0.0f64..1.0).prop_map(Some)],
    );
    runner
        .run(&case, |(which, from_start, from_end, value, cut)| {
            let (name, original) = &files[which];
            let mut bytes = original.clone();
            // usize::MAX: counted from the end instead (the `moov` atom).
            let at = if from_start == usize::MAX {
                bytes.len() - 4 - from_end % (bytes.len() - 4)
            } else {
                from_start
            };
            bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
            if let Some(fraction) = cut {
                bytes.truncate((bytes.len() as f64 * fraction) as usize);
            }
            let ext = name.rsplit('.').next().unwrap();
            container_case(&format!("case_{at}_{value}.{ext}"), bytes);
            Ok(())
        })
        .unwrap();
}
