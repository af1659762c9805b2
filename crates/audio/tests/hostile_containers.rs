//! Crafted MP4 atoms, Ogg/Opus headers, Matroska elements, CAF, AIFF and
//! RF64 chunks cannot make genreid do unbounded work: the real library
//! fixtures of `shared/fixtures/formats` with header fields overwritten
//! (sizes, counts, rates, channel counts, edit lists, pre-skips) or cut
//! short give an error or a result within a time and a memory bound, by
//! both decode paths (whole upload and streamed file blocks).
//!
//! One test function, in a binary of its own: the cases run one after
//! another, so each case's peak memory is its own.

use std::time::{Duration, Instant};

use genreid_audio::{AudioError, Blocks, LoadOptions, MonoStream, load_bytes};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const TIME_BOUND: Duration = Duration::from_secs(20);
const MEMORY_BOUND_MB: f64 = 400.0;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(genreid_testkit::shared().join("fixtures/formats").join(name)).unwrap()
}

fn rss_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap() / 1024.0
}

fn bounded<T>(what: &str, case: impl FnOnce() -> T) -> T {
    std::fs::write("/proc/self/clear_refs", "5").expect("resetting the peak RSS (Linux clear_refs)");
    let before = rss_mb("VmRSS:");
    let started = Instant::now();
    let out = case();
    let took = started.elapsed();
    let grew = rss_mb("VmHWM:") - before;
    assert!(took < TIME_BOUND, "{what}: took {took:?}");
    assert!(grew < MEMORY_BOUND_MB, "{what}: peak memory grew by {grew:.0} MB");
    out
}

/// Decodes `bytes` whole (as an upload) and in blocks from a file; an error
/// must name the file.
fn both_paths(name: &str, bytes: Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, &bytes).unwrap();
    let check = |result: Result<usize, AudioError>| {
        if let Err(e) = result {
            assert!(e.to_string().contains(name), "{name}: error does not name the file: {e}");
        }
    };
    check(bounded(&format!("{name} (whole)"), || {
        load_bytes(name, bytes, &LoadOptions::default()).map(|s| s.len())
    }));
    check(bounded(&format!("{name} (blocks)"), || {
        let stream = MonoStream::open(&path)?;
        let mut blocks = Blocks::new(stream, 16_000, 256, 120.0, (1.0, 4.5), 4.0 * 3600.0)?;
        let mut n = 0;
        while let Some(block) = blocks.next_block()? {
            n += block.core_end - block.core_start;
        }
        Ok(n)
    }));
}

/// Offset of the first `marker` in `bytes` (the fixtures hold each one).
fn find(bytes: &[u8], marker: &[u8]) -> usize {
    bytes.windows(marker.len()).position(|w| w == marker).unwrap_or_else(|| panic!("{marker:?} not found"))
}

fn with(mut bytes: Vec<u8>, at: usize, value: &[u8]) -> Vec<u8> {
    bytes[at..at + value.len()].copy_from_slice(value);
    bytes
}

#[test]
fn crafted_containers_get_an_error_or_a_result_within_bounds() {
    // Named cases: the fields a hostile file would aim at.
    let m4a = fixture("aac.m4a");
    let elst = find(&m4a, b"elst");
    let moov = find(&m4a, b"moov") - 4;
    let stsz = find(&m4a, b"stsz");
    let opus = fixture("opus.opus");
    let head = find(&opus, b"OpusHead");
    let webm = fixture("opus.webm");
    let caf = fixture("caf.caf");
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
        both_paths(name, bytes);
    }

    // Random overwrites near each container's headers (the first 4 KiB and,
    // for MP4, the `moov` at the end), and random truncations.
    let files: Vec<(&str, Vec<u8>)> =
        ["aac.m4a", "alac.m4a", "opus.opus", "opus.webm", "flac.mka", "caf.caf", "aiff.aiff"]
            .iter()
            .map(|n| (*n, fixture(n)))
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
            both_paths(&format!("case_{at}_{value}.{ext}"), bytes);
            Ok(())
        })
        .unwrap();
}
