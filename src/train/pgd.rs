//! PGD adversarial training (`pgd`, Madry et al. 2018): the cross-entropy on PGD examples with a
//! random start, `attack_steps` steps of 2.5ε/steps.

use burn::tensor::{Int, Tensor};

use super::TrainConfig;
use crate::attack::{self, AttackMethod};
use crate::model::Classifier;

/// `CE(PGD_ε(x))`, with the logits of the PGD examples.
pub fn loss(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>, config: &TrainConfig, seed: u64) -> (Tensor<1>, Tensor<2>) {
    let adversarial = attack::run(&config.inner_attack(AttackMethod::Pgd, config.attack_steps, config.attack_step_size(), seed), model, images, labels.clone());
    super::standard::loss(model, adversarial, labels)
}
