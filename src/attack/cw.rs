//! Carlini–Wagner L2 (2017): minimise `‖x' − x‖² + c·f(x')` over `x' = (tanh(w) + 1)/2` with
//! Adam, where `f` is the logit margin clipped at −κ, and binary-search `c` per image.

use burn::tensor::{Bool, Tensor};

use super::projection::l2_norms;
use super::{AttackConfig, Goal};
use crate::data::CLASSES;
use crate::model::Classifier;

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const UNBOUNDED: f32 = 1e10;

/// `(margin, success)` per image: the margin the attack drives below −κ (label logit minus the
/// best other logit when untargeted, best other minus target logit when targeted) and whether
/// the image meets the goal with confidence κ.
fn margin(goal: &Goal, logits: Tensor<2>, kappa: f32) -> (Tensor<1>, Tensor<1, Bool>) {
    let [n, _] = logits.dims();
    let class = goal.class();
    let one_hot = crate::model::one_hot(class.clone(), CLASSES);
    let real = logits.clone().gather(1, class.reshape([n, 1])).reshape([n]);
    let other = (logits.clone() - one_hot * UNBOUNDED).max_dim(1).reshape([n]);
    let m = if goal.is_targeted() { other - real } else { real - other };
    let success = goal.success(logits).bool_and(m.clone().lower_equal_elem(-kappa));
    (m, success)
}

/// C&W L2 with `config.binary_steps` searches over `c` (from `config.initial_const`), each
/// `config.steps` Adam steps of `config.learning_rate`. Images for which no adversarial was
/// found are returned unchanged.
pub fn carlini_wagner(model: &Classifier, images: Tensor<4>, goal: &Goal, config: &AttackConfig) -> Tensor<4> {
    let [n, ..] = images.dims();
    let device = images.device();
    let kappa = config.confidence;
    let w0 = ((images.clone() * 2.0 - 1.0) * 0.999_999).atanh();
    let mut c = Tensor::<1>::full([n], config.initial_const, &device);
    let mut lower = Tensor::<1>::zeros([n], &device);
    let mut upper = Tensor::<1>::full([n], UNBOUNDED, &device);
    let mut best_l2 = Tensor::<1>::full([n], UNBOUNDED, &device);
    let mut best = images.clone();

    for _ in 0..config.binary_steps {
        let mut w = w0.clone();
        let mut m = w.zeros_like();
        let mut v = w.zeros_like();
        let mut found = Tensor::<1>::zeros([n], &device).lower_elem(0.0);
        for t in 1..=config.steps {
            super::progress::tick();
            let wt = w.clone().autodiff().require_grad();
            let x = (wt.clone().tanh() + 1.0) * 0.5;
            let logits = model.forward(x.clone());
            let distance = (x.clone() - images.clone()).square().sum_dims(&[1, 2, 3]).reshape([n]);
            let (margin_value, _) = margin(goal, logits.clone(), kappa);
            let loss = distance + c.clone() * margin_value.clamp_min(-kappa);
            let grads = loss.sum().backward();
            let g = wt.grad(&grads).expect("w requires a gradient");

            // Record the candidate this step evaluated before moving on.
            let x = x.without_autodiff();
            let (_, success) = margin(goal, logits.without_autodiff(), kappa);
            let l2 = l2_norms(x.clone() - images.clone());
            let improved = success.clone().bool_and(l2.clone().lower(best_l2.clone()));
            best = super::projection::select(improved.clone(), x, best);
            best_l2 = best_l2.mask_where(improved, l2);
            found = found.bool_or(success);

            m = m * BETA1 + g.clone() * (1.0 - BETA1);
            v = v * BETA2 + g.square() * (1.0 - BETA2);
            let m_hat = m.clone() / (1.0 - BETA1.powi(t as i32));
            let v_hat = v.clone() / (1.0 - BETA2.powi(t as i32));
            w = w - m_hat * config.learning_rate / (v_hat.sqrt() + 1e-8);
        }
        // Success: shrink c towards the lower bound. Failure: grow it (×10 until bounded).
        upper = upper.clone().mask_where(found.clone(), upper.clone().min_pair(c.clone()));
        lower = lower.clone().mask_where(found.clone().bool_not(), lower.clone().max_pair(c.clone()));
        let bounded = upper.clone().lower_elem(UNBOUNDED * 0.1);
        let midpoint = (lower.clone() + upper.clone()) * 0.5;
        c = (c.clone() * 10.0).mask_where(bounded, midpoint);
    }
    best
}
