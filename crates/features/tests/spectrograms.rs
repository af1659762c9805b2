//! STFT, mel, dB and MFCC against librosa 0.11 (`shared/fixtures/librosa`).
//!
//! Tolerances: librosa runs its FFT in float64 and stores complex64, as we do,
//! so spectrograms agree to float32 rounding (measured: <= 6e-7 relative).
//! We require elementwise relative error <= 1e-5 wherever the value is above
//! 1e-6 of the clip's maximum (below that, values are float32 noise of the
//! FFT), dB values within 1e-4 dB (measured 7.6e-6: one float32 ulp at
//! 80 dB), and MFCCs within 5e-4 absolute (measured 6.1e-5; they are sums of
//! 128 dB values of magnitude up to ~500, so float32 summation order shows).

mod common;

use common::*;
use genreid_features::*;

#[test]
fn mel_power_spectrograms_match() {
    for (name, y, entry) in clips() {
        for (key, n_fft, hop, n_mels) in [("mel128_power", 2048, 512, 128), ("mel64_power", 512, 256, 64)] {
            let (shape, want) = reference(&entry, key);
            let got = melspectrogram(&y, 22_050.0, StftConfig::new(n_fft, hop), n_mels).unwrap();
            let got = first_columns(&got, shape[1]);
            let floor = 1e-6 * want.iter().fold(0f64, |m, &w| m.max(f64::from(w)));
            let rel = max_rel(&got, &want, floor);
            eprintln!("{name} {key}: max rel {rel:.2e}");
            assert!(rel < 1e-5, "{name} {key}: max relative error {rel:.2e}");
        }
    }
}

#[test]
fn mel_db_with_ref_max_matches() {
    for (name, y, entry) in clips() {
        let (shape, want) = reference(&entry, "mel128_db");
        let mel = melspectrogram(&y, 22_050.0, StftConfig::new(2048, 512), 128).unwrap();
        let want_ref = entry["arrays"]["mel128_db"]["ref"].as_f64().unwrap();
        let rel_ref = (f64::from(mel.max()) - want_ref).abs() / want_ref;
        assert!(rel_ref < 1e-5, "{name}: np.max reference {} vs {want_ref}", mel.max());
        let db = power_to_db(&mel, &DbConfig::ref_max());
        let (abs, _) = errors(&first_columns(&db, shape[1]), &want);
        eprintln!("{name} mel128_db: max abs {abs:.2e} dB");
        assert!(abs < 1e-4, "{name}: mel dB off by {abs} dB");
    }
}

#[test]
fn stft_magnitude_db_matches() {
    for (name, y, entry) in clips() {
        let (shape, want) = reference(&entry, "stft1024_mag_db");
        let mag = magnitude_spectrogram(&y, StftConfig::new(1024, 256)).unwrap();
        let db = amplitude_to_db(&mag, DbRef::Max, Some(80.0));
        let (abs, _) = errors(&first_columns(&db, shape[1]), &want);
        eprintln!("{name} stft1024_mag_db: max abs {abs:.2e} dB");
        assert!(abs < 1e-4, "{name}: STFT dB off by {abs} dB");
    }
}

#[test]
fn mfcc_matches() {
    for (name, y, entry) in clips() {
        let (_, want) = reference(&entry, "mfcc20");
        let got = mfcc(&y, 22_050.0, 20).unwrap();
        let (abs, rel) = errors(&got.data, &want);
        eprintln!("{name} mfcc20: max abs {abs:.2e}, rel-to-max {rel:.2e}");
        assert!(abs < 5e-4, "{name}: MFCC off by {abs}");
    }
}

#[test]
fn filterbank_shapes_and_min_max() {
    let fb = MelFilterbank::new(&MelConfig::new(22_050.0, 2048, 128)).unwrap().to_dense();
    assert_eq!(fb.shape(), [128, 1025]);
    let n = min_max_normalize(&fb);
    assert_eq!(n.max(), 1.0);
}
