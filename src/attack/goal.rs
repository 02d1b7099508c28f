//! What an attack tries to achieve: leave the true class (untargeted) or reach a target class,
//! and the loss it ascends to get there.

use burn::tensor::{Bool, Int, Tensor};

use crate::model::{Classifier, cross_entropy, one_hot};

/// The loss an attack ascends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Softmax cross-entropy of the label (untargeted) or minus that of the target (targeted).
    CrossEntropy,
    /// Difference of logits ratio (Croce & Hein 2020), with `z_π1 ≥ z_π2 ≥ …` the sorted logits:
    /// untargeted `−(z_y − max_{j≠y} z_j) / (z_π1 − z_π3)`, targeted
    /// `−(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2)`. Invariant to shifting and scaling the logits, so
    /// a saturated softmax does not hide its gradient.
    Dlr,
}

/// Keeps the DLR denominator away from zero.
const DLR_TINY: f32 = 1e-12;

/// The attack's goal for a batch: the true labels, for a targeted attack the target class of
/// every image, and the loss.
#[derive(Clone, Debug)]
pub struct Goal {
    /// True labels `[N]`.
    pub labels: Tensor<1, Int>,
    /// Target classes `[N]` of a targeted attack.
    pub targets: Option<Tensor<1, Int>>,
    /// The loss [`Goal::objective`] computes.
    pub loss: Loss,
}

impl Goal {
    /// An untargeted goal, or a targeted one when `target` is a class 0–9, with the
    /// cross-entropy loss.
    pub fn new(labels: Tensor<1, Int>, target: Option<usize>) -> Self {
        let targets = target.map(|t| labels.zeros_like().add_scalar(t as i64));
        Goal { labels, targets, loss: Loss::CrossEntropy }
    }

    /// A targeted goal with one target class `[N]` per image and the given loss.
    pub fn per_image(labels: Tensor<1, Int>, targets: Tensor<1, Int>, loss: Loss) -> Self {
        Goal { labels, targets: Some(targets), loss }
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

    /// The per-example objective `[N]` the attack ascends (see [`Loss`]).
    pub fn objective(&self, logits: Tensor<2>) -> Tensor<1> {
        match (self.loss, &self.targets) {
            (Loss::CrossEntropy, None) => cross_entropy(logits, self.labels.clone()),
            (Loss::CrossEntropy, Some(t)) => cross_entropy(logits, t.clone()).neg(),
            (Loss::Dlr, targets) => dlr(logits, self.labels.clone(), targets.clone()),
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
        let (gradient, logits, objective) = self.differentiate(model, images);
        Probe { gradient, objective, success: self.success(logits) }
    }

    /// The gradient `[N,1,28,28]` of the summed objective with respect to `images`, alone (what
    /// PGD, FGSM and MIM step along: no work on which images meet the goal). `model` must be in
    /// inference mode.
    pub fn gradient(&self, model: &Classifier, images: Tensor<4>) -> Tensor<4> {
        self.differentiate(model, images).0
    }

    /// The gradient, the logits `[N, 10]` and the per-example objective at `images` (one forward
    /// and one backward pass; counts as one step of the attack's progress).
    fn differentiate(&self, model: &Classifier, images: Tensor<4>) -> (Tensor<4>, Tensor<2>, Tensor<1>) {
        super::progress::tick();
        let x = images.without_autodiff().autodiff().require_grad();
        let logits = model.forward(x.clone());
        let objective = self.objective(logits.clone());
        let grads = objective.clone().sum().backward();
        let gradient = x.grad(&grads).expect("the images require a gradient");
        (gradient, logits.without_autodiff(), objective.without_autodiff())
    }
}

/// The logit of class `classes` `[N]` in each row of `logits` `[N, C]`, as `[N]`.
fn logit_of(logits: Tensor<2>, classes: Tensor<1, Int>) -> Tensor<1> {
    let [n] = classes.dims();
    logits.gather(1, classes.reshape([n, 1])).reshape([n])
}

/// The margin `z_y − max_{j≠y} z_j` `[N]` of the labels `[N]` over the best other class in
/// `logits` `[N, C]`: negative exactly when the image is misclassified.
pub fn margin(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [n, c] = logits.dims();
    let others = logits.clone() - one_hot(labels.clone(), c) * 1e9;
    logit_of(logits, labels) - others.max_dim(1).reshape([n])
}

/// The difference of logits ratio `[N]` of [`Loss::Dlr`].
fn dlr(logits: Tensor<2>, labels: Tensor<1, Int>, targets: Option<Tensor<1, Int>>) -> Tensor<1> {
    let [n, _] = logits.dims();
    // Top-k rather than a sort: it stays on the device on every backend.
    let top = logits.clone().topk(4, 1);
    let column = |i: usize| top.clone().narrow(1, i, 1).reshape([n]);
    match targets {
        None => margin(logits, labels).neg() / (column(0) - column(2)).add_scalar(DLR_TINY),
        Some(t) => {
            let gap = logit_of(logits.clone(), labels) - logit_of(logits, t);
            gap.neg() / (column(0) - (column(2) + column(3)) * 0.5).add_scalar(DLR_TINY)
        }
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
