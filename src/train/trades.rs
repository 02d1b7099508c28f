//! TRADES' inner maximisation: the point of the L∞ ε-ball that maximises `KL(f(x) ‖ f(x'))`.

use burn::module::Module;
use burn::tensor::Tensor;

use crate::attack::noise;
use crate::attack::projection::{Norm, project};
use crate::model::{Classifier, kl_divergence};

/// Starts at `x + 0.001·N(0, 1)` and takes `steps` signed-gradient steps of `step_size` on the
/// KL divergence from the clean prediction, projecting onto the ε-ball and the box.
pub fn adversarial(model: &Classifier, images: Tensor<4>, epsilon: f32, steps: usize, step_size: f32, seed: u64) -> Tensor<4> {
    let model = model.valid();
    let images = images.without_autodiff();
    let clean_logits = model.forward(images.clone());
    let mut rng = noise::generator(seed, 0);
    let start = noise::normal(&mut rng, images.dims(), &images.device()) * 0.001;
    let mut x = project(images.clone() + start, images.clone(), Norm::Linf, epsilon);
    for _ in 0..steps {
        let xg = x.clone().autodiff().require_grad();
        let kl = kl_divergence(clean_logits.clone(), model.forward(xg.clone())).sum();
        let gradient = xg.grad(&kl.backward()).expect("x' requires a gradient");
        x = project(x + gradient.sign() * step_size, images.clone(), Norm::Linf, epsilon);
    }
    x
}
