//! A network's parameters by path name (`blocks.0.conv.weight`), out of and
//! into burn modules, for model files and checkpoints.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};

use crate::tensor_file::{Weight, Weights};
use crate::{ModelError, Result};

#[derive(Default)]
struct Collect {
    path: Vec<String>,
    weights: Weights,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let values = t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap_or_default();
        self.weights.insert(self.path.join("."), Weight { shape, values });
    }
}

/// Every float tensor of `module` (weights and batch-norm running statistics) by path.
pub fn weights_of<M: Module>(module: &M) -> Weights {
    let mut c = Collect::default();
    module.visit(&mut c);
    c.weights
}

/// A parameter id derived from its path (FNV-1a), the same in every process,
/// so optimizer state saved in a checkpoint finds its parameters on resume.
fn stable_id(path: &str) -> ParamId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    ParamId::from(h)
}

struct Assign<'a> {
    path: Vec<String>,
    weights: Option<&'a Weights>,
    device: &'a Device,
    errors: Vec<String>,
    used: usize,
}

impl ModuleMapper for Assign<'_> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.join(".");
        let Some(weights) = self.weights else {
            let (_, value, _) = param.consume();
            return Param::initialized(stable_id(&name), value);
        };
        let Some(w) = weights.get(&name) else {
            self.errors.push(format!("weight {name:?} is missing"));
            return param;
        };
        let want = param.val().dims().to_vec();
        if w.shape != want {
            self.errors.push(format!("weight {name:?} has shape {:?}, the network needs {want:?}", w.shape));
            return param;
        }
        self.used += 1;
        let (values, device) = (w.values.clone(), self.device.clone());
        let (_, old, _) = param.consume();
        let fresh = Tensor::<D>::from_data(TensorData::new(values, want), &device);
        Param::initialized(stable_id(&name), if old.is_require_grad() { fresh.require_grad() } else { fresh })
    }
}

/// `module` with every tensor replaced by the one of the same path in
/// `weights` (shapes checked; none may be missing or left over).
pub fn load_weights<M: Module>(module: M, weights: &Weights, device: &Device) -> Result<M> {
    let mut a = Assign { path: Vec::new(), weights: Some(weights), device, errors: Vec::new(), used: 0 };
    let module = module.map(&mut a);
    if a.errors.is_empty() && a.used != weights.len() {
        a.errors
            .push(format!("{} weights in the file do not belong to this network", weights.len() - a.used));
    }
    if let Some(first) = a.errors.first() {
        return Err(ModelError::InvalidInput(format!(
            "weights do not fit the network: {first}{}",
            if a.errors.len() > 1 { format!(" (and {} more)", a.errors.len() - 1) } else { String::new() }
        )));
    }
    Ok(module)
}

/// `module` with every parameter's id derived from its path (see
/// [`load_weights`], which does the same), for resumable training.
pub fn with_stable_ids<M: Module>(module: M, device: &Device) -> M {
    module.map(&mut Assign { path: Vec::new(), weights: None, device, errors: Vec::new(), used: 0 })
}
