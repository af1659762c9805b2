//! Batch norm on the kernels of [`norm_kernel`](super::norm_kernel) as burn
//! operations on the CPU backend (flex), with their own autodiff step, and
//! [`batch_norm`]: burn's `BatchNorm` module computed on them (same running
//! statistics, same numbers within float32 rounding).

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::nn::BatchNorm;
use burn::tensor::Tensor;

use super::conv_op::{floats, runs_here, tensor};
use super::norm_kernel;

/// The extension: batch moments, and normalisation by them whose gradient is
/// training-mode batch norm's.
#[backend_extension(Flex, Autodiff)]
pub trait NormBackend: Backend {
    /// Per-channel mean and biased variance of `[batch, channels, ...]` as
    /// `[2, channels]`; no gradient flows through it.
    fn channel_moments(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `(x − mean) / sqrt(var + epsilon) · gamma + beta` with `moments` from
    /// [`channel_moments`](NormBackend::channel_moments) of `x` itself; the
    /// gradient accounts for the moments' dependence on `x`.
    fn normalize(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        moments: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;
}

impl NormBackend for Flex {
    fn channel_moments(x: FlexTensor) -> FlexTensor {
        let (channels, plane) = layout(&x);
        let x = x.to_contiguous();
        tensor(norm_kernel::channel_moments(floats(&x), channels, plane), vec![2, channels])
    }

    fn normalize(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        moments: FlexTensor,
        epsilon: f64,
    ) -> FlexTensor {
        let (_, plane) = layout(&x);
        let shape = x.layout().shape().to_vec();
        let (x, gamma, beta, moments) =
            (x.to_contiguous(), gamma.to_contiguous(), beta.to_contiguous(), moments.to_contiguous());
        let y = norm_kernel::normalize(
            floats(&x),
            floats(&gamma),
            floats(&beta),
            floats(&moments),
            epsilon,
            plane,
        );
        tensor(y, shape)
    }
}

/// `(channels, values per sample and channel)` of `[batch, channels, ...]`.
fn layout(x: &FlexTensor) -> (usize, usize) {
    let shape = x.layout().shape();
    assert!(shape.len() >= 2, "batch norm: the input must be [batch, channels, ...]");
    (shape[1], shape[2..].iter().product())
}

/// The moments carry no gradient.
#[derive(Debug)]
struct NoGradient;

impl Backward<Flex, 1> for NoGradient {
    type State = ();

    fn backward(self, _ops: Ops<(), 1>, _grads: &mut Gradients, _checkpointer: &mut Checkpointer) {}
}

/// Training-mode batch norm's backward: keeps the input, gamma, the moments
/// and epsilon.
#[derive(Debug)]
struct NormalizeBackward;

impl Backward<Flex, 3> for NormalizeBackward {
    type State = (FlexTensor, FlexTensor, FlexTensor, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node).to_contiguous();
        let (x, gamma, moments, epsilon) = ops.state;
        let (_, plane) = layout(&x);
        let shape = x.layout().shape().to_vec();
        let (x, gamma, moments) = (x.to_contiguous(), gamma.to_contiguous(), moments.to_contiguous());
        let (dx, dgamma, dbeta) = norm_kernel::normalize_backward(
            floats(&x),
            floats(&gamma),
            floats(&moments),
            epsilon,
            floats(&dy),
            plane,
        );
        let channels = dgamma.len();
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, tensor(dx, shape));
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, tensor(dgamma, vec![channels]));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, tensor(dbeta, vec![channels]));
        }
    }
}

impl<C: CheckpointStrategy> NormBackend for Autodiff<Flex, C> {
    fn channel_moments(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let node = x.node();
        NoGradient.prepare::<C>([node]).compute_bound().stateless(Flex::channel_moments(x.into_primitive()))
    }

    fn normalize(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        moments: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let moments = moments.into_primitive();
        match NormalizeBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, gamma) = (x.primitive().clone(), gamma.primitive().clone());
                let y = Flex::normalize(
                    x.clone(),
                    gamma.clone(),
                    beta.into_primitive(),
                    moments.clone(),
                    epsilon,
                );
                prep.finish((x, gamma, moments, epsilon), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::normalize(
                x.into_primitive(),
                gamma.into_primitive(),
                beta.into_primitive(),
                moments,
                epsilon,
            )),
        }
    }
}

/// `norm.forward(x)` for `[batch, channels, time, freq]`: on the CPU backend
/// in float32, this module's kernels (training mode: batch statistics, and
/// the running statistics updated by `norm.momentum` exactly as burn does;
/// inference: the running statistics); elsewhere burn's own.
pub fn batch_norm(norm: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    let (gamma, beta) = (norm.gamma.val(), norm.beta.val());
    if !runs_here(&[&x]) || !runs_here(&[&gamma, &beta]) {
        return norm.forward(x);
    }
    let device = x.device();
    let channels = gamma.dims()[0];
    assert_eq!(x.dims()[1], channels, "batch norm over {channels} channels given {:?}", x.dims());
    if device.is_autodiff() && norm.training.is_enabled() {
        let moments = Tensor::<2>::from_dispatch(<Dispatch as NormBackend>::channel_moments(
            x.clone().detach().into_dispatch(),
        ));
        let y = normalize(x, gamma, beta, moments.clone(), norm.epsilon);
        let mean = moments.clone().slice([0..1, 0..channels]).reshape([channels]);
        let var = moments.slice([1..2, 0..channels]).reshape([channels]);
        let m = norm.momentum;
        let running_mean =
            norm.running_mean.value_sync().to_device(&device).mul_scalar(1.0 - m).add(mean.mul_scalar(m));
        let running_var =
            norm.running_var.value_sync().to_device(&device).mul_scalar(1.0 - m).add(var.mul_scalar(m));
        norm.running_mean.update(running_mean.detach());
        norm.running_var.update(running_var.detach());
        y
    } else if !device.is_autodiff() {
        let stats = |t: Tensor<1>| t.to_device(&device).reshape([1, channels]);
        let moments = Tensor::cat(vec![stats(norm.running_mean.value()), stats(norm.running_var.value())], 0);
        normalize(x, gamma, beta, moments, norm.epsilon)
    } else {
        // Frozen on an autodiff device: the gradient must treat the running
        // statistics as constants, which `normalize`'s does not.
        norm.forward(x)
    }
}

fn normalize(x: Tensor<4>, gamma: Tensor<1>, beta: Tensor<1>, moments: Tensor<2>, epsilon: f64) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as NormBackend>::normalize(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        moments.into_dispatch(),
        epsilon,
    ))
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::nn::BatchNormConfig;
    use burn::tensor::{Device, Distribution};

    use super::*;
    use crate::neural::conv_op::tests::{close_to_burn, values};

    /// Training (output, three gradients, running statistics after two
    /// steps) and inference equal burn's `BatchNorm`, through a loss that is
    /// not linear in the output.
    #[test]
    fn matches_burns_batch_norm_in_training_and_inference() {
        let device = Device::flex().autodiff();
        device.seed(5);
        // Two modules (batch norm starts at gamma 1, beta 0): a clone would
        // share its running statistics with the original.
        let ours = BatchNormConfig::new(3).init(&device);
        let burns = BatchNormConfig::new(3).init(&device);
        for step in 0..2 {
            let x = Tensor::<4>::random([4, 3, 6, 5], Distribution::Normal(1.5, 2.0), &device).require_grad();
            let weights = Tensor::<4>::random([4, 3, 6, 5], Distribution::Uniform(-1.0, 1.0), &device);
            let y_ours = batch_norm(&ours, x.clone());
            let y_burn = burns.forward(x.clone());
            close_to_burn(&values(y_ours.clone()), &values(y_burn.clone()), &format!("y step {step}"));
            let g_ours = (y_ours.powi_scalar(2) * weights.clone()).sum().backward();
            let g_burn = (y_burn.powi_scalar(2) * weights).sum().backward();
            close_to_burn(&values(x.grad(&g_ours).expect("dx")), &values(x.grad(&g_burn).expect("dx")), "dx");
            let pairs = [
                (ours.gamma.val(), burns.gamma.val(), "dgamma"),
                (ours.beta.val(), burns.beta.val(), "dbeta"),
            ];
            for (a, b, what) in pairs {
                close_to_burn(
                    &values(a.grad(&g_ours).expect("tracked")),
                    &values(b.grad(&g_burn).expect("tracked")),
                    what,
                );
            }
        }
        close_to_burn(
            &values(ours.running_mean.value()),
            &values(burns.running_mean.value()),
            "running mean",
        );
        close_to_burn(
            &values(ours.running_var.value()),
            &values(burns.running_var.value()),
            "running variance",
        );
        let plain = Device::flex();
        let (ours, burns) = (ours.valid(), burns.valid());
        let x = Tensor::<4>::random([2, 3, 4, 4], Distribution::Normal(0.0, 1.0), &plain);
        close_to_burn(&values(batch_norm(&ours, x.clone())), &values(burns.forward(x)), "inference");
    }
}
