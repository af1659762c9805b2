//! Batch normalisation over `[batch, channels, plane]` on plain `f32`
//! slices: the per-channel moments, the normalisation and the training-mode
//! gradient, each one pass over the data (burn's generic version makes a
//! dozen, four of them transposes).

use rayon::prelude::*;

/// Lanes of the partial sums (what the compiler turns into vector registers).
const LANES: usize = 16;

/// Per-channel mean and biased variance of `x` `[batch, channels, plane]`,
/// as `[means…, variances…]` (`2 · channels` values).
pub fn channel_moments(x: &[f32], channels: usize, plane: usize) -> Vec<f32> {
    let (batch, count) = sizes(x.len(), channels, plane);
    let per_channel: Vec<(f32, f32)> = (0..channels)
        .into_par_iter()
        .map(|c| {
            // Sums of x − shift (the channel's first value) keep the
            // variance exact when the mean is large against the spread.
            let shift = if count > 0 { x[c * plane] } else { 0.0 };
            let (mut sum, mut squares) = (0.0f64, 0.0f64);
            for n in 0..batch {
                let (s, q) = shifted_sums(plane_of(x, n, c, channels, plane), shift);
                sum += s;
                squares += q;
            }
            let count = count.max(1) as f64;
            let mean = sum / count;
            (shift + mean as f32, (squares / count - mean * mean).max(0.0) as f32)
        })
        .collect();
    per_channel.iter().map(|m| m.0).chain(per_channel.iter().map(|m| m.1)).collect()
}

/// `y = (x − mean) / sqrt(var + epsilon) · gamma + beta` per channel, with
/// `moments` as [`channel_moments`] returns them.
pub fn normalize(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    moments: &[f32],
    epsilon: f64,
    plane: usize,
) -> Vec<f32> {
    let channels = gamma.len();
    sizes(x.len(), channels, plane);
    let (scale, offset) = affine(gamma, beta, moments, epsilon);
    let mut y = vec![0.0; x.len()];
    if plane == 0 {
        return y;
    }
    y.par_chunks_mut(plane).zip(x.par_chunks(plane)).enumerate().for_each(|(i, (y, x))| {
        let (a, b) = (scale[i % channels], offset[i % channels]);
        y.iter_mut().zip(x).for_each(|(y, &x)| *y = x * a + b);
    });
    y
}

/// Gradients of training-mode batch norm (the moments being `x`'s own) given
/// the output gradient `dy`: `(dx, dgamma, dbeta)`.
pub fn normalize_backward(
    x: &[f32],
    gamma: &[f32],
    moments: &[f32],
    epsilon: f64,
    dy: &[f32],
    plane: usize,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let channels = gamma.len();
    let (batch, count) = sizes(x.len(), channels, plane);
    assert_eq!(dy.len(), x.len(), "batch norm: output gradient and input differ in size");
    let (mean, var) = moments.split_at(channels);
    // Per channel: Σ dy and Σ dy·(x − mean).
    let sums: Vec<(f64, f64)> = (0..channels)
        .into_par_iter()
        .map(|c| {
            let mut acc = (0.0, 0.0);
            for n in 0..batch {
                let (s, p) = gradient_sums(
                    plane_of(dy, n, c, channels, plane),
                    plane_of(x, n, c, channels, plane),
                    mean[c],
                );
                acc = (acc.0 + s, acc.1 + p);
            }
            acc
        })
        .collect();
    let m = count.max(1) as f64;
    let mut dgamma = vec![0.0; channels];
    let mut dbeta = vec![0.0; channels];
    // dx = k1·dy + k2·x + k3 per channel (the usual formula, expanded).
    let mut coefficients = vec![(0.0f32, 0.0f32, 0.0f32); channels];
    for c in 0..channels {
        let inv_std = 1.0 / (f64::from(var[c]) + epsilon).sqrt();
        let (sum_dy, sum_dy_centered) = sums[c];
        dbeta[c] = sum_dy as f32;
        dgamma[c] = (sum_dy_centered * inv_std) as f32;
        let a = f64::from(gamma[c]) * inv_std;
        let k2 = -a * inv_std * inv_std * sum_dy_centered / m;
        let k3 = -a * sum_dy / m - k2 * f64::from(mean[c]);
        coefficients[c] = (a as f32, k2 as f32, k3 as f32);
    }
    let mut dx = vec![0.0; x.len()];
    if plane > 0 {
        dx.par_chunks_mut(plane).zip(x.par_chunks(plane).zip(dy.par_chunks(plane))).enumerate().for_each(
            |(i, (dx, (x, dy)))| {
                let (k1, k2, k3) = coefficients[i % channels];
                dx.iter_mut().zip(x.iter().zip(dy)).for_each(|(d, (&x, &g))| *d = k1 * g + k2 * x + k3);
            },
        );
    }
    (dx, dgamma, dbeta)
}

/// `(batch, values per channel)`, checking that `len` is whole planes.
fn sizes(len: usize, channels: usize, plane: usize) -> (usize, usize) {
    let per_sample = channels * plane;
    assert!(
        channels > 0 && len.is_multiple_of(per_sample),
        "batch norm: {len} values are not [batch, {channels}, {plane}]"
    );
    let batch = len.checked_div(per_sample).unwrap_or(0);
    (batch, batch * plane)
}

fn plane_of(x: &[f32], n: usize, c: usize, channels: usize, plane: usize) -> &[f32] {
    &x[(n * channels + c) * plane..][..plane]
}

/// Per channel `(scale, offset)` with `y = x · scale + offset`.
fn affine(gamma: &[f32], beta: &[f32], moments: &[f32], epsilon: f64) -> (Vec<f32>, Vec<f32>) {
    let channels = gamma.len();
    assert!(
        beta.len() == channels && moments.len() == 2 * channels,
        "batch norm: parameters are not [channels]"
    );
    (0..channels)
        .map(|c| {
            let a = f64::from(gamma[c]) / (f64::from(moments[channels + c]) + epsilon).sqrt();
            (a as f32, (f64::from(beta[c]) - f64::from(moments[c]) * a) as f32)
        })
        .unzip()
}

/// `(Σ (v − shift), Σ (v − shift)²)` in lane-wise `f32` partial sums.
fn shifted_sums(values: &[f32], shift: f32) -> (f64, f64) {
    let (mut s, mut q) = ([0.0f32; LANES], [0.0f32; LANES]);
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for i in 0..LANES {
            let d = chunk[i] - shift;
            s[i] += d;
            q[i] += d * d;
        }
    }
    let tail = rest.iter().map(|&v| f64::from(v - shift));
    let (ts, tq) = tail.fold((0.0, 0.0), |(s, q), d| (s + d, q + d * d));
    (s.iter().map(|&v| f64::from(v)).sum::<f64>() + ts, q.iter().map(|&v| f64::from(v)).sum::<f64>() + tq)
}

/// `(Σ g, Σ g·(x − mean))` in lane-wise `f32` partial sums.
fn gradient_sums(g: &[f32], x: &[f32], mean: f32) -> (f64, f64) {
    let (mut s, mut p) = ([0.0f32; LANES], [0.0f32; LANES]);
    let (gc, xc) = (g.chunks_exact(LANES), x.chunks_exact(LANES));
    let (g_rest, x_rest) = (gc.remainder(), xc.remainder());
    for (g, x) in gc.zip(xc) {
        for i in 0..LANES {
            s[i] += g[i];
            p[i] += g[i] * (x[i] - mean);
        }
    }
    let tail = g_rest.iter().zip(x_rest).map(|(&g, &x)| (f64::from(g), f64::from(g) * f64::from(x - mean)));
    let (ts, tp) = tail.fold((0.0, 0.0), |(s, p), (a, b)| (s + a, p + b));
    (s.iter().map(|&v| f64::from(v)).sum::<f64>() + ts, p.iter().map(|&v| f64::from(v)).sum::<f64>() + tp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.5) - 1.0 + seed as f32).collect()
    }

    /// The definitions in f64: moments, output and (by central differences of
    /// `Σ g·y`, exact to rounding for this smooth loss) the input gradient.
    #[test]
    fn moments_output_and_gradients_follow_the_definition() {
        let (batch, channels, plane) = (3, 4, 37);
        let x = values(batch * channels * plane, 2);
        let gamma = [0.5, -1.5, 2.0, 1.0];
        let beta = [0.1, 0.0, -0.3, 2.0];
        let g = values(x.len(), 0);
        let eps = 1e-5;
        let stats = |x: &[f32]| -> Vec<(f64, f64)> {
            (0..channels)
                .map(|c| {
                    let v: Vec<f64> = (0..batch)
                        .flat_map(|n| plane_of(x, n, c, channels, plane).iter().map(|&v| f64::from(v)))
                        .collect();
                    let mean = v.iter().sum::<f64>() / v.len() as f64;
                    (mean, v.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / v.len() as f64)
                })
                .collect()
        };
        let forward = |x: &[f32]| -> Vec<f64> {
            let s = stats(x);
            x.iter()
                .enumerate()
                .map(|(i, &v)| {
                    let c = i / plane % channels;
                    (f64::from(v) - s[c].0) / (s[c].1 + eps).sqrt() * f64::from(gamma[c]) + f64::from(beta[c])
                })
                .collect()
        };
        let moments = channel_moments(&x, channels, plane);
        for (c, (mean, var)) in stats(&x).into_iter().enumerate() {
            assert!((f64::from(moments[c]) - mean).abs() < 1e-5, "mean {c}");
            assert!((f64::from(moments[channels + c]) - var).abs() < 1e-5 * var, "variance {c}");
        }
        let y = normalize(&x, &gamma, &beta, &moments, eps, plane);
        for (a, b) in y.iter().zip(forward(&x)) {
            assert!((f64::from(*a) - b).abs() < 1e-4, "{a} vs {b}");
        }
        let (dx, dgamma, dbeta) = normalize_backward(&x, &gamma, &moments, eps, &g, plane);
        let loss = |x: &[f32]| -> f64 { forward(x).iter().zip(&g).map(|(y, &g)| y * f64::from(g)).sum() };
        for i in (0..x.len()).step_by(17) {
            let h = 1e-2f32;
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += h;
            down[i] -= h;
            let numeric = (loss(&up) - loss(&down)) / f64::from(2.0 * h);
            assert!(
                (f64::from(dx[i]) - numeric).abs() < 2e-3 * numeric.abs().max(1.0),
                "dx[{i}]: {} vs {numeric}",
                dx[i]
            );
        }
        let s = stats(&x);
        for c in 0..channels {
            let (mut eg, mut eb) = (0.0, 0.0);
            for n in 0..batch {
                for (&xv, &gv) in
                    plane_of(&x, n, c, channels, plane).iter().zip(plane_of(&g, n, c, channels, plane))
                {
                    eg += f64::from(gv) * (f64::from(xv) - s[c].0) / (s[c].1 + eps).sqrt();
                    eb += f64::from(gv);
                }
            }
            assert!((f64::from(dgamma[c]) - eg).abs() < 1e-3 * eg.abs().max(1.0), "dgamma {c}");
            assert!((f64::from(dbeta[c]) - eb).abs() < 1e-3 * eb.abs().max(1.0), "dbeta {c}");
        }
    }

    #[test]
    fn a_constant_channel_has_zero_variance_not_a_negative_one() {
        let x = vec![1000.5f32; 2 * 3 * 5];
        let m = channel_moments(&x, 3, 5);
        assert_eq!(m, vec![1000.5, 1000.5, 1000.5, 0.0, 0.0, 0.0]);
    }
}
