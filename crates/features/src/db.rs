//! Decibel conversion and normalisation (`librosa.power_to_db`,
//! `amplitude_to_db`, and min-max scaling).

use crate::matrix::Matrix;

/// Reference level for dB conversion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DbRef {
    /// A fixed reference value (librosa's default `ref=1.0`).
    Value(f32),
    /// The largest value of the input (`ref=np.max`).
    Max,
}

/// Settings of [`power_to_db`], librosa's defaults by [`Default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DbConfig {
    /// Reference level.
    pub reference: DbRef,
    /// Values below `amin` are clipped to it before the logarithm (1e-10).
    pub amin: f32,
    /// Floor at `max - top_db` dB; `None` disables (default 80).
    pub top_db: Option<f32>,
}

impl Default for DbConfig {
    fn default() -> Self {
        Self { reference: DbRef::Value(1.0), amin: 1e-10, top_db: Some(80.0) }
    }
}

impl DbConfig {
    /// librosa's `ref=np.max` with the other defaults.
    pub fn ref_max() -> Self {
        Self { reference: DbRef::Max, ..Self::default() }
    }
}

/// `10 log10(max(amin, S)) - 10 log10(max(amin, ref))`, floored at
/// `max - top_db` (`librosa.power_to_db`), computed in `f32` like librosa.
pub fn power_to_db(s: &Matrix, config: &DbConfig) -> Matrix {
    let reference = match config.reference {
        DbRef::Value(v) => v.abs(),
        DbRef::Max => s.max().abs(),
    };
    let offset = (10.0 * f64::from(config.amin.max(reference)).log10()) as f32;
    let mut out = Matrix::zeros(s.rows, s.cols);
    decibels(&s.data, config.amin, offset, &mut out.data);
    if let Some(top) = config.top_db {
        let floor = out.max() - top;
        out.data.iter_mut().for_each(|x| *x = x.max(floor));
    }
    out
}

/// `10 log10(max(amin, x)) - offset` of every value, in `f32` as NumPy
/// computes it, on the widest vectors the CPU has: runs of normal finite
/// values go through [`log10_normal`]; anything else (a NaN, an infinity,
/// a subnormal `amin`) through the standard library, for that run.
fn decibels(src: &[f32], amin: f32, offset: f32, out: &mut [f32]) {
    struct Decibels<'a> {
        src: &'a [f32],
        amin: f32,
        offset: f32,
        out: &'a mut [f32],
    }
    impl pulp::WithSimd for Decibels<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _simd: S) {
            const RUN: usize = 512;
            for (xs, os) in self.src.chunks(RUN).zip(self.out.chunks_mut(RUN)) {
                let normal = xs.iter().all(|&x| {
                    let v = self.amin.max(x);
                    v.is_finite() && v >= f32::MIN_POSITIVE
                });
                if normal {
                    for (o, &x) in os.iter_mut().zip(xs) {
                        *o = 10.0 * log10_normal(self.amin.max(x)) - self.offset;
                    }
                } else {
                    for (o, &x) in os.iter_mut().zip(xs) {
                        *o = 10.0 * self.amin.max(x).log10() - self.offset;
                    }
                }
            }
        }
    }
    pulp::Arch::new().dispatch(Decibels { src, amin, offset, out });
}

/// `log10(x)` of a normal, finite, positive `f32`, branch-free so that it
/// vectorises: the exponent from the bits, the mantissa brought into
/// [√½, √2), and `ln m = 2 atanh((m - 1)/(m + 1))` by its odd series (the
/// terms left out are below 1e-9). Within a few ULP of the correctly
/// rounded value, as NumPy's own vectorised `log10` is.
#[inline(always)]
fn log10_normal(x: f32) -> f32 {
    const LN_2: f32 = std::f32::consts::LN_2;
    const LOG10_E: f32 = std::f32::consts::LOG10_E;
    let bits = x.to_bits();
    let mut exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m > std::f32::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    exponent += i32::from(big);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let series = 1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0))));
    (exponent as f32 * LN_2 + 2.0 * t * series) * LOG10_E
}

/// `20 log10(|S| / ref)` with `amin = 1e-5` and the same floor
/// (`librosa.amplitude_to_db`): `power_to_db(S², ref², amin²)`.
pub fn amplitude_to_db(s: &Matrix, reference: DbRef, top_db: Option<f32>) -> Matrix {
    let reference = match reference {
        DbRef::Value(v) => DbRef::Value(v * v),
        DbRef::Max => DbRef::Value(s.max().powi(2)),
    };
    let power = s.clone().map(|x| x * x);
    power_to_db(&power, &DbConfig { reference, amin: 1e-10, top_db })
}

/// Scales values linearly to `[0, 1]` (min-max normalisation over the whole
/// matrix); a constant matrix becomes all zeros.
pub fn min_max_normalize(s: &Matrix) -> Matrix {
    let (lo, hi) =
        s.data.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let range = hi - lo;
    s.clone().map(|x| if range > 0.0 { (x - lo) / range } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decibels_follow_librosa_conventions() {
        let s = Matrix::from_vec(1, 4, vec![1.0, 10.0, 100.0, 0.0]);
        let db = power_to_db(&s, &DbConfig::default());
        for (got, want) in db.data[..3].iter().zip([0.0, 10.0, 20.0]) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
        assert!((db.data[3] - (db.data[2] - 80.0)).abs() < 1e-5, "floored at max - top_db");
        let rel = power_to_db(&s, &DbConfig::ref_max());
        assert!(rel.data[2].abs() < 1e-5);
        let amp = amplitude_to_db(&Matrix::from_vec(1, 2, vec![1.0, 10.0]), DbRef::Value(1.0), None);
        assert!((amp.data[1] - 20.0).abs() < 1e-5);
        let n = min_max_normalize(&Matrix::from_vec(1, 3, vec![-2.0, 0.0, 2.0]));
        assert_eq!(n.data, vec![0.0, 0.5, 1.0]);
    }

    #[test]
    fn the_vectorised_log10_is_within_a_few_ulp() {
        let mut worst = 0f64;
        let mut x = f32::MIN_POSITIVE;
        while x < 1e30 {
            for k in 0..97 {
                let v = x * (1.0 + k as f32 / 97.0);
                let want = f64::from(v).log10();
                let got = f64::from(log10_normal(v));
                let ulp = f64::from(f32::EPSILON) * want.abs().max(1e-3);
                worst = worst.max((got - want).abs() / ulp);
            }
            x *= 3.7;
        }
        assert!(worst < 4.0, "{worst} ULP");
    }

    #[test]
    fn odd_values_take_the_standard_path() {
        let s = Matrix::from_vec(1, 3, vec![f32::INFINITY, 1e-45, 1.0]);
        let db = power_to_db(&s, &DbConfig { top_db: None, amin: 1e-45, ..DbConfig::default() });
        assert_eq!(db.data[0], f32::INFINITY);
        assert!((db.data[1] - 10.0 * 1e-45f32.log10()).abs() < 1e-3);
        assert!(db.data[2].abs() < 1e-6);
    }
}
