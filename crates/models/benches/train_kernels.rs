//! The training kernels of the CPU backend on the VGG-style net's heaviest
//! layer (32 → 32 maps, 3×3, 130 × 128 plane, batch 8): the same-padded
//! convolution forward and backward, and batch norm's moments, output and
//! gradient, each against the operation burn computes in its place.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};
use criterion::{Criterion, criterion_group, criterion_main};
use genreid_models::neural::conv_kernel::{ConvShape, conv_backward, conv_forward};
use genreid_models::neural::norm_kernel::{channel_moments, normalize, normalize_backward};

const SHAPE: ConvShape = ConvShape { batch: 8, c_in: 32, c_out: 32, height: 130, width: 128, kernel: 3 };

fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n).map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.5) - 1.0).collect()
}

fn convolution(c: &mut Criterion) {
    let s = SHAPE;
    let plane = s.height * s.width;
    let x = values(s.batch * s.c_in * plane, 1);
    let w = values(s.c_out * s.c_in * 9, 2);
    let b = values(s.c_out, 3);
    let dy = values(s.batch * s.c_out * plane, 4);
    let mut group = c.benchmark_group("conv 32→32 3×3 130×128 batch 8");
    group.bench_function("genreid forward", |bench| bench.iter(|| conv_forward(&x, &w, &b, s)));
    group.bench_function("genreid backward (dx, dw, db)", |bench| {
        bench.iter(|| conv_backward(&x, &w, &dy, s, true))
    });
    let device = Device::flex().autodiff();
    let conv = Conv2dConfig::new([s.c_in, s.c_out], [3, 3]).with_padding(PaddingConfig2d::Same).init(&device);
    let input = Tensor::<4>::random([s.batch, s.c_in, s.height, s.width], Distribution::Default, &device);
    let options = || ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    group.bench_function("burn forward", |bench| {
        bench.iter(|| {
            let bias = conv.bias.as_ref().map(|p| p.val());
            conv2d(input.clone().inner(), conv.weight.val().inner(), bias.map(|t| t.inner()), options())
                .into_data()
        })
    });
    group.bench_function("burn forward + backward", |bench| {
        bench.iter(|| {
            let x = input.clone().require_grad();
            conv.forward(x).sum().backward()
        })
    });
    group.finish();
}

fn batch_norm(c: &mut Criterion) {
    let (channels, plane) = (SHAPE.c_out, SHAPE.height * SHAPE.width);
    let x = values(SHAPE.batch * channels * plane, 5);
    let dy = values(x.len(), 6);
    let (gamma, beta) = (vec![1.0; channels], vec![0.0; channels]);
    let mut group = c.benchmark_group("batch norm 32 maps 130×128 batch 8");
    group.bench_function("genreid moments + output", |bench| {
        bench.iter(|| normalize(&x, &gamma, &beta, &channel_moments(&x, channels, plane), 1e-5, plane))
    });
    let moments = channel_moments(&x, channels, plane);
    group.bench_function("genreid gradient", |bench| {
        bench.iter(|| normalize_backward(&x, &gamma, &moments, 1e-5, &dy, plane))
    });
    let device = Device::flex().autodiff();
    let norm = burn::nn::BatchNormConfig::new(channels).init(&device);
    let input = Tensor::<4>::random(
        [SHAPE.batch, channels, SHAPE.height, SHAPE.width],
        Distribution::Default,
        &device,
    );
    group.bench_function("burn forward + backward", |bench| {
        bench.iter(|| norm.forward(input.clone().require_grad()).sum().backward())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = convolution, batch_norm
}
criterion_main!(benches);
