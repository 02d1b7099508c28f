//! What an attack tries to achieve: leave the true class (untargeted) or reach a target class.

use burn::tensor::{Bool, Int, Tensor};

use crate::model::{Classifier, cross_entropy};

/// The attack's goal for a batch: the true labels and, for a targeted attack, the target class
/// of every image.
#[derive(Clone, Debug)]
pub struct Goal {
    /// True labels `[N]`.
    pub labels: Tensor<1, Int>,
    /// Target classes `[N]` of a targeted attack.
    pub targets: Option<Tensor<1, Int>>,
}

impl Goal {
    /// An untargeted goal, or a targeted one when `target` is a class 0–9.
    pub fn new(labels: Tensor<1, Int>, target: Option<usize>) -> Self {
        let targets = target.map(|t| labels.zeros_like().add_scalar(t as i64));
        Goal { labels, targets }
    }

    /// The class whose logit the attack pushes down (untargeted: the label) or up (targeted:
    /// the target).
    pub fn class(&self) -> Tensor<1, Int> {
        self.targets.clone().unwrap_or_else(|| self.labels.clone())
    }

    /// True for a targeted goal.
    pub fn is_targeted(&self) -> bool {
        self.targets.is_some()
    }

    /// The per-example objective `[N]` the attack ascends: the cross-entropy of the label
    /// (untargeted) or minus the cross-entropy of the target (targeted).
    pub fn objective(&self, logits: Tensor<2>) -> Tensor<1> {
        match &self.targets {
            None => cross_entropy(logits, self.labels.clone()),
            Some(t) => cross_entropy(logits, t.clone()).neg(),
        }
    }

    /// Which predictions `[N]` meet the goal: not the label (untargeted), the target (targeted).
    pub fn success(&self, logits: Tensor<2>) -> Tensor<1, Bool> {
        let [n, _] = logits.dims();
        let predicted = logits.argmax(1).reshape([n]);
        match &self.targets {
            None => predicted.not_equal(self.labels.clone()),
            Some(t) => predicted.equal(t.clone()),
        }
    }

    /// Probes the model at `images`: the gradient of the summed objective with respect to the
    /// images, the per-example objective and which images meet the goal. `model` must be in
    /// inference mode.
    pub fn probe(&self, model: &Classifier, images: Tensor<4>) -> Probe {
        let x = images.without_autodiff().autodiff().require_grad();
        let logits = model.forward(x.clone());
        let objective = self.objective(logits.clone());
        let grads = objective.clone().sum().backward();
        let gradient = x.grad(&grads).expect("the images require a gradient");
        let logits = logits.without_autodiff();
        Probe { gradient, objective: objective.without_autodiff(), success: self.success(logits) }
    }
}

/// What [`Goal::probe`] measures at one batch of images.
#[derive(Clone, Debug)]
pub struct Probe {
    /// Gradient `[N,1,28,28]` of the summed objective with respect to the images.
    pub gradient: Tensor<4>,
    /// Per-example objective `[N]`.
    pub objective: Tensor<1>,
    /// Which images meet the goal `[N]`.
    pub success: Tensor<1, Bool>,
}
