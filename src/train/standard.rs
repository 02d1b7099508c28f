//! Standard training's loss: the mean cross-entropy of the model on the batch. The adversarial
//! defenses apply it to their own training inputs.

use burn::tensor::{Int, Tensor};

use crate::model::{Classifier, cross_entropy};

/// The mean cross-entropy of `model` on `images` against `labels`, and its logits `[N,10]`.
pub fn loss(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>) -> (Tensor<1>, Tensor<2>) {
    let logits = model.forward(images);
    (cross_entropy(logits.clone(), labels).mean(), logits)
}
