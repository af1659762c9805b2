//! A spectrogram read in blocks equals the whole file's, kind by kind
//! (the whole file is itself checked against librosa in the CLI's tests),
//! and a picture of a long file pools its frames.

use genreid_features::Matrix;
use genreid_pipeline::spectrogram::{
    SpectrogramKind, SpectrogramOptions, spectrogram_frames, spectrogram_picture,
};

fn frames(options: &SpectrogramOptions) -> (Matrix, usize) {
    let path = genreid_testkit::shared().join("fixtures/audio/rock_sectoid_escape_from_chaosland.wav");
    let (mut data, mut rows, mut calls) = (Vec::new(), 0, 0);
    let mut columns: Vec<Vec<f32>> = Vec::new();
    let summary = spectrogram_frames(&path, options, |m| {
        calls += 1;
        rows = m.rows;
        for t in 0..m.cols {
            columns.push((0..m.rows).map(|r| m.get(r, t)).collect());
        }
        Ok(())
    })
    .unwrap();
    for r in 0..rows {
        data.extend(columns.iter().map(|c| c[r]));
    }
    assert_eq!((summary.rows, summary.frames), (rows, columns.len()));
    (Matrix::from_vec(rows, columns.len(), data), calls)
}

#[test]
fn every_kind_read_in_blocks_equals_the_whole_file() {
    use SpectrogramKind::*;
    for kind in [Stft, Mel, Mfcc, Chroma, Cqt, ChromaCqt] {
        for db in [false, true] {
            if db && !matches!(kind, Stft | Mel | Cqt) {
                continue;
            }
            let whole = SpectrogramOptions { kind, db, ..SpectrogramOptions::default() };
            let (want, calls) = frames(&whole);
            assert_eq!(calls, 1, "{kind:?}: a 30-s file is one block");
            let (got, calls) = frames(&SpectrogramOptions { block_seconds: 7.0, ..whole });
            assert!(calls >= 4, "{kind:?}: {calls} blocks");
            assert_eq!((got.rows, got.cols), (want.rows, want.cols), "{kind:?} db {db}");
            let peak = want.data.iter().fold(0f32, |m, &x| m.max(x.abs()));
            let mut worst = 0f32;
            for (a, b) in got.data.iter().zip(&want.data) {
                worst = worst.max((a - b).abs() / peak);
            }
            // Measured: equal for the STFT kinds; the CQT within 3e-7 of
            // its peak, 1.2e-5 in dB (of an 80-dB range).
            assert!(worst <= 1e-4, "{kind:?} db {db}: differs by {worst} of the peak");
        }
    }
}

#[test]
fn a_picture_pools_frames_beyond_its_columns_into_means() {
    let path = genreid_testkit::shared().join("fixtures/audio/rock_sectoid_escape_from_chaosland.wav");
    let options =
        SpectrogramOptions { hop: 16, n_fft: 64, n_mels: 16, block_seconds: 5.0, ..Default::default() };
    let (picture, seconds, summary) = spectrogram_picture(&path, &options).unwrap();
    // 30 s at a hop of 16 samples: 41,000 frames, pooled in fours.
    assert!(summary.frames > genreid_pipeline::spectrogram::PICTURE_COLUMNS * 2);
    assert_eq!(picture.cols, summary.frames.div_ceil(4));
    assert!((seconds - 4.0 * 16.0 / 22_050.0).abs() < 1e-12);
    let (whole, _) = frames(&options);
    let mean: f32 = (4..8).map(|t| whole.get(3, t)).sum::<f32>() / 4.0;
    assert!(
        (picture.get(3, 1) - mean).abs() <= 1e-5 * mean.abs().max(1e-9),
        "{} vs {mean}",
        picture.get(3, 1)
    );
}
