//! DeepFool (Moosavi-Dezfooli et al. 2016), L2: linearise the classifier around the current
//! point and step to the nearest linearised decision boundary, until the label flips; the
//! accumulated step is scaled by `1 + overshoot`.

use burn::tensor::{Int, Tensor};

use super::projection::TINY;
use super::{AttackConfig, Goal};
use crate::data::{CLASSES, PIXELS};
use crate::model::Classifier;

/// Logits `[N, 10]` and their Jacobian `[N, 10, 784]` with respect to the images.
fn logits_and_jacobian(model: &Classifier, images: &Tensor<4>) -> (Tensor<2>, Tensor<3>) {
    let [n, ..] = images.dims();
    let mut rows = Vec::with_capacity(CLASSES);
    let mut logits = None;
    for k in 0..CLASSES {
        let x = images.clone().without_autodiff().autodiff().require_grad();
        let out = model.forward(x.clone());
        let grads = out.clone().slice([0..n, k..k + 1]).sum().backward();
        let gradient = x.grad(&grads).expect("the images require a gradient");
        rows.push(gradient.reshape([n, 1, PIXELS]));
        logits.get_or_insert(out.without_autodiff());
    }
    (logits.expect("ten classes"), Tensor::cat(rows, 1))
}

/// Untargeted DeepFool with at most `config.steps` linearisation steps; images that already
/// flipped stop moving.
pub fn deepfool(model: &Classifier, images: Tensor<4>, goal: &Goal, config: &AttackConfig) -> Tensor<4> {
    let [n, ..] = images.dims();
    let labels = goal.labels.clone();
    let label_col: Tensor<2, Int> = labels.clone().reshape([n, 1]);
    let is_label = crate::model::one_hot(labels.clone(), CLASSES);
    let mut total = Tensor::<2>::zeros([n, PIXELS], &images.device());
    let mut x = images.clone();
    for _ in 0..config.steps {
        super::progress::tick();
        let (logits, jacobian) = logits_and_jacobian(model, &x);
        let active = goal.success(logits.clone()).bool_not().float().reshape([n, 1]);
        let f = logits.clone() - logits.gather(1, label_col.clone());
        let w = jacobian.clone() - jacobian.gather(1, label_col.clone().reshape([n, 1, 1]).repeat_dim(2, PIXELS));
        let w_norm = w.clone().square().sum_dim(2).reshape([n, CLASSES]).sqrt();
        let distance = f.clone().abs() / w_norm.clone().add_scalar(TINY) + is_label.clone() * 1e10;
        let nearest = distance.argmin(1);
        let f_k = f.gather(1, nearest.clone()).abs();
        let w_k = w.gather(1, nearest.clone().reshape([n, 1, 1]).repeat_dim(2, PIXELS)).reshape([n, PIXELS]);
        let w_k_norm = w_norm.gather(1, nearest);
        let step = w_k * ((f_k + 1e-4) / (w_k_norm.square() + TINY));
        total = total + step * active;
        let perturbation = total.clone().reshape([n, 1, 28, 28]) * (1.0 + config.overshoot);
        x = (images.clone() + perturbation).clamp(0.0, 1.0);
    }
    x
}
