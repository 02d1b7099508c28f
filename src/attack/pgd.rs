//! Projected gradient descent (Madry et al. 2018) in L∞ and L2, with random start and restarts.
//! Without random start the L∞ version is BIM (Kurakin et al. 2017).

use burn::tensor::Tensor;

use super::noise;
use super::projection::{Norm, normalize_l2, project, select};
use super::{AttackConfig, Goal};
use crate::model::Classifier;

/// One PGD run from `start`: `steps` ascent steps of `step_size` (signed gradient for L∞,
/// L2-normalised gradient for L2), each projected onto the ε-ball and the box.
fn pgd_from(model: &Classifier, images: Tensor<4>, start: Tensor<4>, goal: &Goal, config: &AttackConfig) -> Tensor<4> {
    let (norm, epsilon) = (config.method.norm(), config.epsilon);
    let mut x = project(start, images.clone(), norm, epsilon);
    for _ in 0..config.steps {
        let gradient = goal.gradient(model, x.clone());
        let step = match norm {
            Norm::Linf => gradient.sign(),
            Norm::L2 => normalize_l2(gradient),
            Norm::L0 => unreachable!("PGD runs in L∞ or L2"),
        };
        x = project(x + step * config.step_size, images.clone(), norm, epsilon);
    }
    x
}

/// The random start of a run: uniform in the ε-ball (L∞ box or L2 ball). There is no L0 start:
/// `norm` must be L∞ or L2.
pub fn random_start(images: &Tensor<4>, norm: Norm, epsilon: f32, seed: u64, restart: usize) -> Tensor<4> {
    let mut rng = noise::generator(seed, restart);
    let device = images.device();
    let shape = images.dims();
    let delta = match norm {
        Norm::Linf => noise::uniform(&mut rng, shape, epsilon, &device),
        Norm::L2 => noise::l2_ball(&mut rng, shape, epsilon, &device),
        Norm::L0 => unreachable!("random starts are drawn in L∞ or L2"),
    };
    images.clone() + delta
}

/// Keeps, per image, the better of two adversarial batches: one that meets the goal beats one
/// that does not; otherwise the higher objective wins.
pub fn keep_best(model: &Classifier, goal: &Goal, best: Tensor<4>, candidate: Tensor<4>) -> Tensor<4> {
    let score = |x: Tensor<4>| {
        let logits = model.forward(x);
        goal.objective(logits.clone()) + goal.success(logits).float() * 1e6
    };
    let better = score(candidate.clone()).greater(score(best.clone()));
    select(better, candidate, best)
}

/// Per image, the most successful of `runs` (at least one) against `goal` (see [`keep_best`]);
/// the runs are computed one after the other.
pub fn best_of(model: &Classifier, goal: &Goal, runs: impl IntoIterator<Item = Tensor<4>>) -> Tensor<4> {
    runs.into_iter().reduce(|best, x| keep_best(model, goal, best, x)).expect("at least one run")
}

/// PGD with `config.restarts` runs; per image the most successful run is kept. Without random
/// start every run would be the same, so one runs.
pub fn pgd(model: &Classifier, images: Tensor<4>, goal: &Goal, config: &AttackConfig) -> Tensor<4> {
    let norm = config.method.norm();
    let runs = if config.random_start { config.restarts } else { 1 };
    best_of(
        model,
        goal,
        (0..runs).map(|restart| {
            let start = if config.random_start { random_start(&images, norm, config.epsilon, config.seed, restart) } else { images.clone() };
            pgd_from(model, images.clone(), start, goal, config)
        }),
    )
}
