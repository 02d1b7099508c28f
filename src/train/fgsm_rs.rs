//! Fast adversarial training (`fgsm-rs`, Wong et al. 2020, "Fast is better than free"): the
//! cross-entropy on one FGSM step of 1.25ε from a uniform random start in the ε-ball. Its
//! catastrophic overfitting is caught by [`collapse`](super::collapse).

use burn::tensor::{Int, Tensor};

use super::TrainConfig;
use crate::attack::{self, AttackMethod};
use crate::model::Classifier;

/// `CE(x + δ)` with `δ` one projected signed-gradient step of 1.25ε from a random start.
pub fn loss(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>, config: &TrainConfig, seed: u64) -> (Tensor<1>, Tensor<2>) {
    let adversarial = attack::run(&config.inner_attack(AttackMethod::Pgd, 1, 1.25 * config.epsilon, seed), model, images, labels.clone());
    super::standard::loss(model, adversarial, labels)
}
