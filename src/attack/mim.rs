//! Momentum Iterative Method (Dong et al. 2018), L∞: the step follows the sign of an
//! accumulated, L1-normalised gradient `g ← μ·g + ∇/‖∇‖₁`.

use burn::tensor::Tensor;

use super::projection::{Norm, TINY, project};
use super::{AttackConfig, Goal};
use crate::model::Classifier;

/// `config.steps` momentum steps of `config.step_size` from the clean images, projected onto the
/// L∞ ε-ball and the box after every step.
pub fn mim(model: &Classifier, images: Tensor<4>, goal: &Goal, config: &AttackConfig) -> Tensor<4> {
    let [n, ..] = images.dims();
    let mut x = images.clone();
    let mut momentum = images.zeros_like();
    for _ in 0..config.steps {
        let gradient = goal.gradient(model, x.clone());
        let l1 = gradient.clone().abs().sum_dims(&[1, 2, 3]).reshape([n, 1, 1, 1]).add_scalar(TINY);
        momentum = momentum * config.decay + gradient / l1;
        x = project(x + momentum.clone().sign() * config.step_size, images.clone(), Norm::Linf, config.epsilon);
    }
    x
}
