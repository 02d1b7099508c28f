//! FGSM (Goodfellow et al. 2015): `x' = clip(x + ε·sign(∇ₓ objective))`.

use burn::tensor::Tensor;

use super::Goal;
use crate::model::Classifier;

/// One signed-gradient step of size `epsilon` (L∞), clipped to `[0,1]`. Targeted goals step
/// towards the target (the objective is minus its cross-entropy).
pub fn fgsm(model: &Classifier, images: Tensor<4>, goal: &Goal, epsilon: f32) -> Tensor<4> {
    let gradient = goal.gradient(model, images.clone());
    (images + gradient.sign() * epsilon).clamp(0.0, 1.0)
}
