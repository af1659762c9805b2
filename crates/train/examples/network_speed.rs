//! Training and inference throughput of one network on random batches of a
//! fixed shape: what `benches/torch_side_by_side.sh` compares with PyTorch.
//!
//! `cargo run --release -p genreid-train --example network_speed -- vgg 32 130 128 20`
//! (architecture, batch, frames, bins, steps) prints one JSON line.

#![allow(clippy::print_stdout)]

use std::time::Instant;

/// The allocator the `genreid` binary uses (glibc's returns large blocks to
/// the system after every step, and training allocates many).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use genreid_models::neural::{ArchitectureSpec, parameter_count};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: usize| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
    let name = args.first().cloned().unwrap_or_else(|| "vgg".into());
    let (batch, frames, bins, steps) = (arg(1, 32), arg(2, 130), arg(3, 128), arg(4, 20));
    let spec = ArchitectureSpec::from_name(&name).unwrap_or_else(|| panic!("unknown architecture {name}"));
    let classes = 10;
    let device = Device::default().autodiff();
    device.seed(0);
    let mut net = spec.build(classes, bins, &device);
    let params = parameter_count(&net);
    let mut optim = AdamConfig::new().init();
    let x: Vec<f32> = (0..batch * frames * bins).map(|i| ((i * 7919) % 1000) as f32 / 1000.0).collect();
    let y: Vec<i64> = (0..batch).map(|i| (i % classes) as i64).collect();
    let step = |net: genreid_models::neural::Network, optim: &mut burn::optim::ModuleOptimizer| {
        let input = Tensor::<3>::from_data(TensorData::new(x.clone(), [batch, frames, bins]), &device);
        let target = Tensor::<2, Int>::from_data(TensorData::new(y.clone(), [batch, 1]), &device);
        let loss = log_softmax(net.forward(input), 1).gather(1, target).mean().neg();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        optim.step(1e-3, net, grads)
    };
    net = step(net, &mut optim); // warm-up
    let t0 = Instant::now();
    for _ in 0..steps {
        net = step(net, &mut optim);
    }
    let train = (steps * batch) as f64 / t0.elapsed().as_secs_f64();
    let eval = net.valid();
    let plain = Device::default();
    let input = || Tensor::<3>::from_data(TensorData::new(x.clone(), [batch, frames, bins]), &plain);
    let eval = eval.to_device(&plain);
    let _ = eval.forward(input()).into_data();
    let t0 = Instant::now();
    for _ in 0..steps {
        let _ = eval.forward(input()).into_data();
    }
    let infer = (steps * batch) as f64 / t0.elapsed().as_secs_f64();
    println!(
        "{{\"framework\": \"genreid (burn flex)\", \"model\": \"{name}\", \"parameters\": {params}, \"batch\": {batch}, \
         \"shape\": [{frames}, {bins}], \"train_samples_per_s\": {train:.1}, \"infer_samples_per_s\": {infer:.1}}}"
    );
}
