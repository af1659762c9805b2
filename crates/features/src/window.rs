//! Analysis windows (scipy's `get_window(..., fftbins=True)`).

/// The periodic Hann window of `n` points (`scipy.signal.get_window("hann", n)`),
/// in `f64`.
pub fn hann(n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![1.0];
    }
    let step = 2.0 * std::f64::consts::PI / n as f64;
    (0..n).map(|i| 0.5 - 0.5 * (step * i as f64).cos()).collect()
}

/// `window` zero-padded on both sides to `size` (librosa's `pad_center`).
pub fn pad_center(window: &[f64], size: usize) -> Vec<f64> {
    let mut out = vec![0.0; size.max(window.len())];
    let lpad = (out.len() - window.len()) / 2;
    out[lpad..lpad + window.len()].copy_from_slice(window);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_hann_is_scipys() {
        let w = hann(4);
        let want = [0.0, 0.5, 1.0, 0.5];
        for (a, b) in w.iter().zip(want) {
            assert!((a - b).abs() < 1e-15);
        }
        assert_eq!(pad_center(&[1.0, 1.0], 6), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    }
}
