//! TRADES (Zhang et al. 2019): `CE(x) + β·KL(f(x) ‖ f(x'))`, with `x'` the point of the L∞
//! ε-ball that maximises the KL term (the inner maximisation, [`adversarial`]).

use burn::module::Module;
use burn::tensor::{Int, Tensor};

use crate::attack::noise;
use crate::attack::projection::{Norm, project};
use super::TrainConfig;
use crate::model::{Classifier, cross_entropy, kl_divergence};

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

/// `CE(x) + β·KL(f(x) ‖ f(x'))` over the batch, with the logits of `x'`.
pub fn loss(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>, config: &TrainConfig, seed: u64) -> (Tensor<1>, Tensor<2>) {
    let x_adv = adversarial(model, images.clone(), config.epsilon, config.attack_steps, config.attack_step_size(), seed);
    let clean_logits = model.forward(images);
    let adv_logits = model.forward(x_adv);
    let natural = cross_entropy(clean_logits.clone(), labels).mean();
    let robust = kl_divergence(clean_logits, adv_logits.clone()).mean();
    (natural + robust * config.beta, adv_logits)
}
