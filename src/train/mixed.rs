//! The `mixed` defense (Goodfellow et al. 2015): every batch trains on its clean images and their
//! FGSM examples together, `(1 − λ)·CE(x) + λ·CE(FGSM(x))`.

use burn::tensor::{Int, Tensor};

use super::TrainConfig;
use crate::attack::{self, AttackMethod};
use crate::model::Classifier;

/// `(1 − λ)·CE(x) + λ·CE(FGSM_ε(x))`, with the logits of the FGSM examples.
pub fn loss(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>, config: &TrainConfig, seed: u64) -> (Tensor<1>, Tensor<2>) {
    let (clean, _) = super::standard::loss(model, images.clone(), labels.clone());
    let adversarial = attack::run(&config.inner_attack(AttackMethod::Fgsm, 1, config.epsilon, seed), model, images, labels.clone());
    let (adv, logits) = super::standard::loss(model, adversarial, labels);
    (clean * (1.0 - config.lambda) + adv * config.lambda, logits)
}
