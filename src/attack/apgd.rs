//! Auto-PGD (Croce & Hein 2020), L∞: APGD-CE on the cross-entropy and APGD-T, targeted runs on
//! the DLR loss towards the most likely other classes.
//!
//! The step size starts at 2ε and is halved, per image, at checkpoints where too few of the
//! steps since the last checkpoint increased the loss (fewer than ρ = 0.75 of them) or where
//! neither the step size nor the best loss changed since the last checkpoint; a halving restarts
//! that image from its best point. Steps use momentum α = 0.75. All bookkeeping stays on the
//! device as per-image tensors.

use burn::tensor::{Bool, Tensor};

use super::goal::Probe;
use super::pgd::{best_of, random_start};
use super::projection::{Norm, project, select};
use super::{AttackConfig, Goal, Loss};
use crate::data::CLASSES;
use crate::model::{Classifier, one_hot};

/// Fraction of loss-increasing steps below which the step size is halved.
const RHO: f32 = 0.75;
/// Momentum weight of the new step.
const ALPHA: f32 = 0.75;

/// The iterations (in `1..steps`) at which the step size may be halved: `⌈p_j·steps⌉` with
/// `p_0 = 0`, `p_1 = 0.22`, `p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)`.
pub fn checkpoints(steps: usize) -> Vec<usize> {
    let (mut previous, mut current) = (0.0f64, 0.22f64);
    let mut out = Vec::new();
    while current < 1.0 {
        let at = (current * steps as f64 - 1e-9).ceil() as usize;
        if at > 0 && at < steps && out.last() != Some(&at) {
            out.push(at);
        }
        let next = current + (current - previous - 0.03).max(0.06);
        (previous, current) = (current, next);
    }
    out
}

fn per_image(mask: Tensor<1, Bool>) -> Tensor<4> {
    let [n] = mask.dims();
    mask.float().reshape([n, 1, 1, 1])
}

/// One APGD run from a random start.
fn run_once(model: &Classifier, images: Tensor<4>, goal: &Goal, config: &AttackConfig, restart: usize) -> Tensor<4> {
    let eps = config.epsilon;
    let proj = |x: Tensor<4>| project(x, images.clone(), Norm::Linf, eps);
    let schedule = checkpoints(config.steps);

    let x0 = proj(random_start(&images, Norm::Linf, eps, config.seed, restart));
    let p0: Probe = goal.probe(model, x0.clone());
    let mut eta = p0.objective.zeros_like().add_scalar(2.0 * eps);
    let mut best = (x0.clone(), p0.gradient.clone(), p0.objective.clone());
    let mut output = select(p0.success.clone(), x0.clone(), images.clone());
    let mut found = p0.success.clone();

    let step = |x: &Tensor<4>, g: &Tensor<4>, eta: &Tensor<1>| {
        let [n] = eta.dims();
        proj(x.clone() + g.clone().sign() * eta.clone().reshape([n, 1, 1, 1]))
    };
    let mut x_prev = x0.clone();
    let mut x = step(&x0, &p0.gradient, &eta);
    let mut probe = goal.probe(model, x.clone());
    let mut increases = probe.objective.clone().greater(p0.objective.clone()).float();
    let mut reduced_last = eta.clone().lower_elem(0.0);
    let mut best_at_checkpoint = best.2.clone();
    let mut last_checkpoint = 0usize;

    let mut remember = |probe: &Probe, x: &Tensor<4>, best: &mut (Tensor<4>, Tensor<4>, Tensor<1>)| {
        let improved = probe.objective.clone().greater(best.2.clone());
        best.0 = select(improved.clone(), x.clone(), best.0.clone());
        best.1 = select(improved.clone(), probe.gradient.clone(), best.1.clone());
        best.2 = best.2.clone().mask_where(improved, probe.objective.clone());
        let newly = probe.success.clone().bool_and(found.clone().bool_not());
        output = select(newly.clone(), x.clone(), output.clone());
        found = found.clone().bool_or(newly);
    };
    remember(&probe, &x, &mut best);

    for k in 1..config.steps {
        let z = step(&x, &probe.gradient, &eta);
        let x_next = proj(x.clone() + (z - x.clone()) * ALPHA + (x.clone() - x_prev) * (1.0 - ALPHA));
        let next = goal.probe(model, x_next.clone());
        increases = increases + next.objective.clone().greater(probe.objective.clone()).float();
        remember(&next, &x_next, &mut best);
        (x_prev, x, probe) = (x, x_next, next);

        if schedule.contains(&k) {
            // Comparisons counted since the last checkpoint (the first window also holds x¹ vs x⁰).
            let span = (k - last_checkpoint + usize::from(last_checkpoint == 0)) as f32;
            let too_few_increases = increases.clone().lower_elem(RHO * span);
            let stalled = reduced_last.clone().bool_not().bool_and(best.2.clone().lower_equal(best_at_checkpoint.clone()));
            let reduce = too_few_increases.bool_or(stalled);
            eta = eta.clone().mask_where(reduce.clone(), eta.clone() * 0.5);
            let restart_from_best = per_image(reduce.clone());
            x = x.clone() + (best.0.clone() - x.clone()) * restart_from_best.clone();
            probe.gradient = probe.gradient.clone() + (best.1.clone() - probe.gradient.clone()) * restart_from_best;
            probe.objective = probe.objective.clone().mask_where(reduce.clone(), best.2.clone());
            increases = increases.zeros_like();
            reduced_last = reduce;
            best_at_checkpoint = best.2.clone();
            last_checkpoint = k;
        }
    }
    // Images never misclassified during the run return their highest-loss point.
    select(found, output, best.0)
}

/// APGD on `goal` (APGD-CE for [`Goal::new`]'s cross-entropy) with `config.restarts` random
/// restarts (`config.steps` iterations each); per image the most successful run is kept.
/// `config.step_size` is not used: APGD adapts its own.
pub fn apgd(model: &Classifier, images: Tensor<4>, goal: &Goal, config: &AttackConfig) -> Tensor<4> {
    best_of(model, goal, (0..config.restarts).map(|restart| run_once(model, images.clone(), goal, config, restart)))
}

/// APGD-T: for k = 1..=`config.target_classes`, APGD on the targeted DLR loss towards each
/// image's k-th most likely class other than its label (ranked on the clean image), all from the
/// same random starts; per image the most successful run is kept (a misclassified result beats
/// a correct one, then the higher cross-entropy of the label). `goal`'s target, if any, is not
/// used: the attack picks its own.
pub fn apgd_targeted(model: &Classifier, images: Tensor<4>, goal: &Goal, config: &AttackConfig) -> Tensor<4> {
    let [n] = goal.labels.dims();
    let others = model.forward(images.clone()) - one_hot(goal.labels.clone(), CLASSES) * 1e9;
    let (_, ranked) = others.topk_with_indices(config.target_classes, 1);
    let untargeted = Goal::new(goal.labels.clone(), None);
    let runs = (0..config.target_classes).map(|k| {
        let targets = ranked.clone().narrow(1, k, 1).reshape([n]);
        apgd(model, images.clone(), &Goal::per_image(goal.labels.clone(), targets, Loss::Dlr), config)
    });
    best_of(model, &untargeted, runs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn checkpoints_follow_the_papers_schedule() {
        // For 100 iterations the paper's checkpoints are 22, 41, 57, 70, 80, 87, 93, 99.
        assert_eq!(super::checkpoints(100), vec![22, 41, 57, 70, 80, 87, 93, 99]);
    }
}
