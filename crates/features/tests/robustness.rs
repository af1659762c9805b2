//! The feature path never panics: arbitrary signals (any length, silence,
//! NaN, infinities, huge values) give a row or an error.

use genreid_features::{StftConfig, fma518, gtzan57, melspectrogram, mfcc};
use proptest::prelude::*;

fn sample() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -1.0f32..1.0,
        1 => Just(0.0f32),
        1 => prop_oneof![Just(f32::NAN), Just(f32::INFINITY), Just(f32::NEG_INFINITY), Just(1e30f32), Just(-1e-30f32)],
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_signals_never_panic(y in proptest::collection::vec(sample(), 0..6000)) {
        let _ = gtzan57(&y, 22_050.0);
        let _ = fma518(&y, 44_100.0);
        let _ = mfcc(&y, 22_050.0, 20);
        let _ = melspectrogram(&y, 16_000.0, StftConfig::new(512, 256), 96);
    }
}

#[test]
fn silence_and_a_single_sample_give_rows() {
    let row = gtzan57(&vec![0.0; 22_050], 22_050.0).unwrap();
    assert_eq!(row.len(), 57);
    assert_eq!(row[16], 0.0, "no onsets: tempo 0 like librosa");
    assert!(gtzan57(&[0.5], 22_050.0).is_ok());
    assert!(gtzan57(&[], 22_050.0).is_err());
    assert!(fma518(&[], 22_050.0).is_err());
    assert_eq!(fma518(&vec![0.0; 22_050], 22_050.0).unwrap().len(), 518);
}
