//! musicnn's network input against the original's
//! (../shared/fixtures/musicnn/input: librosa 0.11 mel power and the exact
//! log-compressed input of rock_sectoid_escape_from_chaosland.wav).

use genreid_features::musicnn::{MUSICNN_MELS, musicnn_logmel};
use genreid_testkit::{read_npy, shared};

#[test]
fn log_mel_input_equals_the_originals_from_the_same_16k_audio() {
    let dir = shared().join("fixtures/musicnn/input");
    // The first 3 s of librosa.load(sr=16000); frames whose window lies
    // wholly inside those 48000 samples (0..=186) equal the full clip's.
    let (_, audio) = read_npy(&dir.join("rock_audio16k_first48000.npy"));
    assert_eq!(audio.len(), 48_000);
    let ours = musicnn_logmel(&audio).unwrap();
    assert_eq!(ours.shape(), [188, MUSICNN_MELS]);
    let (shape, reference) = read_npy(&dir.join("rock_musicnn_input_logmel.npy"));
    assert_eq!(shape, [1876, MUSICNN_MELS]);
    let n = 187 * MUSICNN_MELS;
    let (mut equal, mut max_diff) = (0, 0f32);
    for (a, b) in ours.data[..n].iter().zip(&reference[..n]) {
        equal += usize::from(a == b);
        max_diff = max_diff.max((a - b).abs());
    }
    // Float16 rounding makes most values bit-identical; a mel power that lies
    // within float32 noise of a float16 rounding boundary may land one ulp
    // away (1/1024 relative before the log: at most 4.3e-4 after it).
    eprintln!("{equal} of {n} bit-identical, max |diff| {max_diff:.2e}");
    assert!(equal as f64 >= 0.99 * n as f64, "{equal} of {n} bit-identical");
    assert!(max_diff <= 5e-4, "max |diff| {max_diff:.3e}");

    // The mel power before float16 rounding (fmax 8 kHz is Nyquist here).
    let (_, power) = read_npy(&dir.join("rock_mel96_power_f32.npy"));
    let mel =
        genreid_features::melspectrogram(&audio, 16_000.0, genreid_features::StftConfig::new(512, 256), 96)
            .unwrap();
    let mut worst = 0f64;
    for t in 0..187 {
        for m in 0..MUSICNN_MELS {
            let (a, b) = (f64::from(mel.get(m, t)), f64::from(power[t * MUSICNN_MELS + m]));
            worst = worst.max((a - b).abs() / b.abs().max(1e-8));
        }
    }
    eprintln!("mel power: max relative difference {worst:.2e}");
    assert!(worst <= 1e-5, "{worst:.3e}");
}
