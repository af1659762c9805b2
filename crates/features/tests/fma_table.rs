//! The FMA-518 row: its statistics of the feature groups that librosa's
//! fixtures hold (chroma_stft, mfcc, spectral centroid/bandwidth/contrast/
//! rolloff, zcr: 7 of the 11 groups, 476 of 518 values) against the same
//! statistics of librosa's arrays. The CQT-based groups are covered by the
//! chroma_cqt/tonnetz fixture tests. Tolerance 1e-4 relative to the group's
//! largest magnitude (5e-3 for kurtosis and skewness, which divide by small
//! variances in near-constant rows such as chroma maxima).

mod common;

use common::*;
use genreid_features::table::{FMA_GROUPS, fma_statistics};
use genreid_features::{fma518, fma518_columns};

#[test]
fn fma518_groups_match_statistics_of_librosa_arrays() {
    assert_eq!(fma518_columns().len(), 518);
    assert_eq!(fma518_columns()[0], "chroma_cens_kurtosis_01");
    assert_eq!(fma518_columns()[517], "zcr_std_01");
    let fixture_of = |group: &str| match group {
        "chroma_stft" => Some("chroma_stft"),
        "mfcc" => Some("mfcc20"),
        "spectral_bandwidth" => Some("spectral_bandwidth"),
        "spectral_centroid" => Some("spectral_centroid"),
        "spectral_contrast" => Some("spectral_contrast"),
        "spectral_rolloff" => Some("spectral_rolloff"),
        "zcr" => Some("zero_crossing_rate"),
        _ => None,
    };
    for (name, y, entry) in clips() {
        let row = fma518(&y, 22_050.0).unwrap();
        assert_eq!(row.len(), 518);
        let mut offset = 0;
        for (group, width) in FMA_GROUPS {
            if let Some(key) = fixture_of(group) {
                let (shape, data) = reference(&entry, key);
                let frames = shape[1];
                assert_eq!(shape[0], width);
                let want: Vec<[f64; 7]> =
                    (0..width).map(|r| fma_statistics(&data[r * frames..(r + 1) * frames])).collect();
                for s in 0..7 {
                    let scale = want.iter().map(|w| w[s].abs()).fold(1e-12, f64::max);
                    let tol = if s == 0 || s == 5 { 5e-3 } else { 1e-4 };
                    for k in 0..width {
                        let (g, w) = (row[offset + s * width + k], want[k][s]);
                        let err = (g - w).abs() / scale;
                        assert!(
                            err < tol || (g.is_nan() && w.is_nan()),
                            "{name} {group} stat {s} #{k}: {g} vs {w} ({err:.2e})"
                        );
                    }
                }
            }
            offset += 7 * width;
        }
    }
}
