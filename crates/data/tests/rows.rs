//! Feature rows read in blocks equal the whole-file rows: a long file made
//! of real recordings, blocks of 20 s, GTZAN-57 and FMA-518 whole-file rows
//! and GTZAN-57 segment rows.

use std::path::PathBuf;

use genreid_audio::{LoadOptions, load};
use genreid_data::{RowOptions, RowSet, file_rows};
use genreid_features::{GTZAN57_COLUMNS, fma518, fma518_columns, gtzan57};

/// Tells the test files apart (tests run at once).
static NAMES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// 22,050-Hz mono WAV of several fixtures back to back (about 2.5 minutes).
fn long_wav() -> PathBuf {
    let dir = genreid_testkit::shared().join("fixtures/audio");
    let mut samples: Vec<i16> = Vec::new();
    for name in [
        "rock_sectoid_escape_from_chaosland.wav",
        "metal_muldjord_chaos_god.wav",
        "electronic_nexuiz_digital_pursuit.wav",
        "orchestral_wesnoth_heroes_rite.wav",
        "ambient_singularity_through_space.wav",
    ] {
        let y = load(&dir.join(name), &LoadOptions::default()).unwrap();
        samples.extend(y.samples.iter().map(|&x| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16));
    }
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut wav = b"RIFF".to_vec();
    wav.extend((36 + data.len() as u32).to_le_bytes());
    wav.extend(b"WAVEfmt ");
    wav.extend(16u32.to_le_bytes());
    wav.extend([1u8, 0, 1, 0]);
    wav.extend(22_050u32.to_le_bytes());
    wav.extend(44_100u32.to_le_bytes());
    wav.extend([2u8, 0, 16, 0]);
    wav.extend(b"data");
    wav.extend((data.len() as u32).to_le_bytes());
    wav.extend(data);
    let path = std::env::temp_dir().join(format!(
        "genreid-rows-{}-{}.wav",
        std::process::id(),
        NAMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::write(&path, wav).unwrap();
    path
}

fn close(what: &str, a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-6 * b.abs().max(1e-3), "{what}: blocks {a} vs whole {b}");
}

#[test]
fn rows_read_in_blocks_equal_whole_file_rows() {
    let path = long_wav();
    let whole = load(&path, &LoadOptions::default()).unwrap();
    assert!(whole.duration_seconds() > 100.0);
    let options = RowOptions { block_seconds: 20.0, ..RowOptions::default() };
    let blocks = file_rows(&path, &options).unwrap();
    assert!(blocks.warnings.is_empty(), "{:?}", blocks.warnings);
    let want = gtzan57(&whole.samples, 22_050.0).unwrap();
    let [(length, got)] = blocks.rows.as_slice() else { panic!("one row") };
    assert_eq!(*length, whole.len());
    for (i, column) in GTZAN57_COLUMNS.iter().enumerate() {
        close(column, got[i], want[i]);
    }

    // Segment rows (10 s, hop 7.5 s: overlapping), blocks of 20 s.
    let options = RowOptions { segment: Some((10.0, 7.5)), block_seconds: 20.0, ..RowOptions::default() };
    let blocks = file_rows(&path, &options).unwrap();
    let segments = genreid_audio::segment_samples(&whole.samples, 220_500, 165_375).unwrap();
    assert_eq!(blocks.rows.len(), segments.len());
    for (k, ((_, got), y)) in blocks.rows.iter().zip(&segments).enumerate().step_by(4) {
        let want = gtzan57(y, 22_050.0).unwrap();
        for (i, column) in GTZAN57_COLUMNS.iter().enumerate() {
            close(&format!("segment {k} {column}"), got[i], want[i]);
        }
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn fma518_rows_read_in_blocks_equal_the_whole_file_row() {
    let path = long_wav();
    let whole = load(&path, &LoadOptions { sample_rate: None, ..LoadOptions::default() }).unwrap();
    let options =
        RowOptions { set: RowSet::Fma518, sample_rate: None, block_seconds: 20.0, ..RowOptions::default() };
    let blocks = file_rows(&path, &options).unwrap();
    let want = fma518(&whole.samples, 22_050.0).unwrap();
    let [(length, got)] = blocks.rows.as_slice() else { panic!("one row") };
    assert_eq!(*length, whole.len());
    // The CQT's octave halving starts afresh in each block: measured 6e-6
    // at most (a minimum of chroma_cqt), against the 1e-6 of STFT features.
    for (i, column) in fma518_columns().iter().enumerate() {
        let (a, b) = (got[i], want[i]);
        assert!((a - b).abs() <= 2e-5 * b.abs().max(1e-3), "{column}: blocks {a} vs whole {b}");
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_length_limit_cuts_with_a_warning_unless_asked_for() {
    let path = genreid_testkit::shared().join("fixtures/audio/rock_sectoid_escape_from_chaosland.wav");
    let capped = file_rows(&path, &RowOptions { max_seconds: 10.0, ..RowOptions::default() }).unwrap();
    assert_eq!(capped.rows[0].0, 220_500);
    assert!(
        matches!(capped.warnings.as_slice(), [genreid_audio::Warning::Cut { .. }]),
        "{:?}",
        capped.warnings
    );
    let asked = file_rows(&path, &RowOptions { duration: Some(10.0), ..RowOptions::default() }).unwrap();
    assert!(asked.warnings.is_empty());
    let fma =
        file_rows(&path, &RowOptions { set: RowSet::Fma518, sample_rate: None, ..RowOptions::default() })
            .unwrap();
    assert_eq!(fma.rows[0].1.len(), 518);
}
