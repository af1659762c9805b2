//! The same-padded, stride-1 convolution of [`conv_kernel`](super::conv_kernel)
//! as a burn operation on the CPU backend (flex), differentiable through its
//! own backward: a backend extension with a handwritten autodiff step.
//!
//! Other backends (GPUs) and dtypes keep burn's own `conv2d`; [`runs_here`]
//! says which applies, so callers never reach a backend the extension does
//! not list.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::{DType, Device, Tensor, TensorData};

use super::conv_kernel::{ConvShape, conv_backward, conv_forward};

/// The extension: one differentiable same-padded convolution with bias.
#[backend_extension(Flex, Autodiff)]
pub trait SameConvBackend: Backend {
    /// `conv2d(x, weight, bias)` with stride 1, dilation 1, one group and
    /// `(k - 1) / 2` zeros on every side (`k` odd).
    fn conv2d_same(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

impl SameConvBackend for Flex {
    fn conv2d_same(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        let shape = shape_of(&x, &weight);
        let (x, weight, bias) = (x.to_contiguous(), weight.to_contiguous(), bias.to_contiguous());
        let y = conv_forward(floats(&x), floats(&weight), floats(&bias), shape);
        tensor(y, vec![shape.batch, shape.c_out, shape.height, shape.width])
    }
}

/// The backward step: keeps the input and the weight, and gives each tracked
/// parent its gradient from one [`conv_backward`].
#[derive(Debug)]
struct SameConvBackward;

impl Backward<Flex, 3> for SameConvBackward {
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node).to_contiguous();
        let (x, weight) = ops.state;
        let shape = shape_of(&x, &weight);
        let (x, weight) = (x.to_contiguous(), weight.to_contiguous());
        let (dx, dweight, dbias) =
            conv_backward(floats(&x), floats(&weight), floats(&dy), shape, node_x.is_some());
        if let (Some(node), Some(dx)) = (node_x, dx) {
            grads.register::<Flex>(node.id, tensor(dx, x.layout().shape().to_vec()));
        }
        if let Some(node) = node_weight {
            grads.register::<Flex>(node.id, tensor(dweight, weight.layout().shape().to_vec()));
        }
        if let Some(node) = node_bias {
            grads.register::<Flex>(node.id, tensor(dbias, vec![shape.c_out]));
        }
    }
}

impl<C: CheckpointStrategy> SameConvBackend for Autodiff<Flex, C> {
    fn conv2d_same(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        match SameConvBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight) = (x.primitive().clone(), weight.primitive().clone());
                let y = Flex::conv2d_same(x.clone(), weight.clone(), bias.into_primitive());
                prep.finish((x, weight), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::conv2d_same(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
            )),
        }
    }
}

/// Whether [`conv2d_same`] (or the batch norm of
/// [`norm_op`](super::norm_op)) can take these tensors: float32 on the CPU
/// backend, with or without autodiff.
pub fn runs_here<const D: usize>(tensors: &[&Tensor<D>]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32 && t.device().inner() == Device::flex())
}

/// Same-padded, stride-1 `conv2d(x, weight) + bias` for `x` `[batch, c_in, h, w]`,
/// `weight` `[c_out, c_in, k, k]` (`k` odd) and `bias` `[c_out]`, on this
/// module's kernels. Only for tensors [`runs_here`] accepts.
pub fn conv2d_same(x: Tensor<4>, weight: Tensor<4>, bias: Tensor<1>) -> Tensor<4> {
    let y = <Dispatch as SameConvBackend>::conv2d_same(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
    );
    Tensor::from_dispatch(y)
}

fn shape_of(x: &FlexTensor, weight: &FlexTensor) -> ConvShape {
    let (x, w) = (x.layout().shape(), weight.layout().shape());
    assert!(x.len() == 4 && w.len() == 4, "conv2d_same: input and weight must be 4-D");
    assert_eq!(w[1], x[1], "conv2d_same: weight has {} input channels, the input {}", w[1], x[1]);
    assert_eq!(w[2], w[3], "conv2d_same: the kernel must be square");
    ConvShape { batch: x[0], c_in: x[1], c_out: w[0], height: x[2], width: x[3], kernel: w[2] }
}

/// The values of a contiguous float32 tensor.
pub(super) fn floats(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("the CPU kernels take contiguous float32 tensors (runs_here)")
}

/// A contiguous tensor of `values`.
pub(super) fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

#[cfg(test)]
pub(super) mod tests {
    use burn::module::Module;
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2dConfig;

    use super::*;

    /// A float32 tensor's values.
    pub(in crate::neural) fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().expect("f32")
    }

    /// `a` equals burn's `b` within float32 rounding (2e-5 of the largest value).
    pub(in crate::neural) fn close_to_burn(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 2e-5 * scale, "{what}[{i}]: {x} vs burn's {y}");
        }
    }

    /// Outputs and all three gradients equal burn's `Conv2d` within float32
    /// rounding, through a loss that is not linear in the output.
    #[test]
    fn matches_burns_conv2d_forward_and_backward() {
        let device = Device::flex().autodiff();
        device.seed(3);
        for (c_in, c_out, kernel, h, w) in
            [(1, 4, 3, 9, 11), (3, 5, 3, 40, 33), (2, 3, 5, 6, 4), (4, 2, 1, 5, 5)]
        {
            let conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
                .with_padding(PaddingConfig2d::Same)
                .init(&device);
            let x =
                Tensor::<4>::random([2, c_in, h, w], burn::tensor::Distribution::Normal(0.0, 1.0), &device)
                    .require_grad();
            let bias = conv.bias.as_ref().expect("Conv2d has a bias by default").val();
            let ours = conv2d_same(x.clone(), conv.weight.val(), bias.clone());
            let burns = conv.forward(x.clone());
            let what = format!("{c_in}→{c_out} k{kernel} {h}×{w}");
            close_to_burn(&values(ours.clone()), &values(burns.clone()), &format!("y {what}"));
            let g_ours = ours.powi_scalar(2).sum().backward();
            let g_burn = burns.powi_scalar(2).sum().backward();
            let grad = |t: &Tensor<4>, g| values(t.grad(g).expect("tracked"));
            close_to_burn(&grad(&x, &g_ours), &grad(&x, &g_burn), &format!("dx {what}"));
            let w = conv.weight.val();
            close_to_burn(&grad(&w, &g_ours), &grad(&w, &g_burn), &format!("dw {what}"));
            let db = |g| values(bias.grad(g).expect("tracked"));
            close_to_burn(&db(&g_ours), &db(&g_burn), &format!("db {what}"));
        }
        let plain = Device::flex();
        let conv = Conv2dConfig::new([2, 3], [3, 3]).with_padding(PaddingConfig2d::Same).init(&plain);
        let x = Tensor::<4>::random([1, 2, 7, 8], burn::tensor::Distribution::Uniform(-1.0, 1.0), &plain);
        assert!(runs_here(&[&x, &conv.weight.val()]));
        let bias = conv.bias.as_ref().expect("bias").val();
        let (ours, burns) = (conv2d_same(x.clone(), conv.weight.val(), bias), conv.valid().forward(x));
        close_to_burn(&values(ours), &values(burns), "y without autodiff");
    }
}
