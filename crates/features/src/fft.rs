//! FFT plans shared per thread: planning a size costs far more than one
//! transform, so every feature asks here instead of planning anew.

use std::cell::RefCell;
use std::sync::Arc;

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};

thread_local! {
    static REAL: RefCell<RealFftPlanner<f64>> = RefCell::new(RealFftPlanner::new());
    static COMPLEX: RefCell<FftPlanner<f64>> = RefCell::new(FftPlanner::new());
}

/// A real-to-complex forward FFT of length `n`.
pub fn real_forward(n: usize) -> Arc<dyn RealToComplex<f64>> {
    REAL.with(|p| p.borrow_mut().plan_fft_forward(n))
}

/// A complex-to-real inverse FFT of length `n` (unnormalised).
pub fn real_inverse(n: usize) -> Arc<dyn ComplexToReal<f64>> {
    REAL.with(|p| p.borrow_mut().plan_fft_inverse(n))
}

/// A complex forward FFT of length `n`.
pub fn complex_forward(n: usize) -> Arc<dyn Fft<f64>> {
    COMPLEX.with(|p| p.borrow_mut().plan_fft_forward(n))
}
