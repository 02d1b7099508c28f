//! Jacobian-based saliency map attack (Papernot et al. 2016), L0, targeted, on the logits
//! (the JSMA-Z variant), increasing pixels (θ = +1).
//!
//! Each iteration takes, per image, the gradients `a = ∂z_t/∂x` of the target's logit and
//! `b = ∂(Σ_{j≠t} z_j)/∂x` of the other logits, and over every pair of pixels `(p, q)` still in
//! the search domain picks the one with `a_p + a_q > 0`, `b_p + b_q < 0` and the largest
//! `−(a_p + a_q)(b_p + b_q)`; both pixels go to 1 and leave the domain. An image stops once it
//! is classified as the target or no pair qualifies. The maximum distortion γ is the L0 budget:
//! `⌊⌈ε·784⌉ / 2⌋` iterations change at most `⌈ε·784⌉` pixels. Untargeted, JSMA aims at the most
//! likely class other than the label (the easiest target).
//!
//! The pair search is a `[N, 784, 784]` tensor, so images are attacked in chunks of [`CHUNK`].

use burn::tensor::{Int, Tensor};

use super::Goal;
use super::projection::l0_budget;
use crate::attack::AttackConfig;
use crate::data::{CLASSES, PIXELS};
use crate::model::{Classifier, one_hot};

/// Images whose pair search runs at once (`CHUNK·784²` scores, 79 MB at 32).
pub const CHUNK: usize = 32;

/// The target of each image `[N]`: `goal`'s target, or else the most likely class other than
/// the label on the clean image.
fn targets(model: &Classifier, images: Tensor<4>, goal: &Goal) -> Tensor<1, Int> {
    let [n] = goal.labels.dims();
    goal.targets.clone().unwrap_or_else(|| {
        let others = model.forward(images) - one_hot(goal.labels.clone(), CLASSES) * 1e9;
        others.argmax(1).reshape([n])
    })
}

/// Gradient `[M, 784]` of `Σ weights ⊙ logits` with respect to the flattened images `[M, 784]`.
fn logit_gradient(model: &Classifier, x: &Tensor<2>, weights: Tensor<2>) -> Tensor<2> {
    let [m, _] = x.dims();
    let input = x.clone().without_autodiff().autodiff().require_grad();
    let logits = model.forward(input.clone().reshape([m, 1, 28, 28]));
    let grads = (logits * weights).sum().backward();
    input.grad(&grads).expect("the images require a gradient")
}

/// JSMA on one chunk of `M` images `[M,1,28,28]` with targets `[M]`.
fn attack_chunk(model: &Classifier, images: Tensor<4>, targets: Tensor<1, Int>, iterations: usize) -> Tensor<4> {
    let shape = images.dims();
    let m = shape[0];
    let device = images.device();
    let is_target = one_hot(targets.clone(), CLASSES);
    let mut x: Tensor<2> = images.reshape([m, PIXELS]);
    // The search domain: pixels that can still increase and have not been changed.
    let mut domain = x.clone().lower_elem(1.0).float();
    let index = Tensor::<1, Int>::arange(0..PIXELS as i64, &device);
    let distinct = index.clone().reshape([PIXELS, 1]).expand([PIXELS, PIXELS]).not_equal(index.reshape([1, PIXELS]).expand([PIXELS, PIXELS]));
    let distinct = distinct.float().reshape([1, PIXELS, PIXELS]).expand([m, PIXELS, PIXELS]);
    let pairs = |v: Tensor<2>, combine: fn(Tensor<3>, Tensor<3>) -> Tensor<3>| {
        combine(v.clone().reshape([m, PIXELS, 1]).expand([m, PIXELS, PIXELS]), v.reshape([m, 1, PIXELS]).expand([m, PIXELS, PIXELS]))
    };
    for _ in 0..iterations {
        super::progress::tick();
        let reached = model.forward(x.clone().reshape([m, 1, 28, 28])).argmax(1).reshape([m]).equal(targets.clone());
        let a = logit_gradient(model, &x, is_target.clone());
        let b = logit_gradient(model, &x, is_target.ones_like() - is_target.clone());
        let (alpha, beta) = (pairs(a, |p, q| p + q), pairs(b, |p, q| p + q));
        let admissible =
            pairs(domain.clone(), |p, q| p * q) * distinct.clone() * alpha.clone().greater_elem(0.0).float() * beta.clone().lower_elem(0.0).float();
        let saliency = (alpha * beta).neg() * admissible;
        let (best, pair) = saliency.reshape([m, PIXELS * PIXELS]).max_dim_with_indices(1);
        let pair = pair.reshape([m]);
        let active = reached.bool_not().bool_and(best.reshape([m]).greater_elem(0.0)).float().reshape([m, 1]);
        let (p, q) = (pair.clone().div_scalar(PIXELS as i64), pair.remainder_scalar(PIXELS as i64));
        let change = (one_hot(p, PIXELS) + one_hot(q, PIXELS)) * active;
        x = x.clone() + (x.ones_like() - x) * change.clone();
        domain = domain * (change.ones_like() - change);
    }
    x.reshape(shape)
}

/// JSMA with the L0 budget `config.epsilon` (fraction of pixels); `config.steps` is not used.
pub fn jsma(model: &Classifier, images: Tensor<4>, goal: &Goal, config: &AttackConfig) -> Tensor<4> {
    let [n, ..] = images.dims();
    let targets = targets(model, images.clone(), goal);
    let iterations = l0_budget(config.epsilon) / 2;
    let chunks: Vec<Tensor<4>> = (0..n)
        .step_by(CHUNK)
        .map(|start| {
            let len = CHUNK.min(n - start);
            attack_chunk(model, images.clone().narrow(0, start, len), targets.clone().narrow(0, start, len), iterations)
        })
        .collect();
    Tensor::cat(chunks, 0)
}
