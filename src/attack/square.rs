//! Square attack (Andriushchenko et al. 2020), L∞, untargeted and score-based: it only reads the
//! logits, never a gradient, so a model that masks its gradients does not stop it.
//!
//! It starts from vertical stripes (every column of an image moved by +ε or −ε at random) and
//! then, once per query, proposes to set a random square of the perturbation to ±ε (one random
//! sign per image); a proposal that lowers the margin loss `z_y − max_{j≠y} z_j` is kept, and an
//! image stops changing once it is misclassified. The square covers a fraction p of the image,
//! halved along the paper's schedule. Every random draw (stripes, squares, signs) happens on the
//! host from the seed, so the page and the CLI make the same proposals; the accept/reject
//! decisions are per-image masks on the device, so nothing is read back.

use burn::tensor::{Int, Tensor, TensorData};
use rand::Rng;
use rand::rngs::StdRng;

use super::goal::margin;
use super::noise;
use super::pgd::best_of;
use super::projection::select;
use super::{AttackConfig, Goal};
use crate::model::Classifier;

/// Image side in pixels.
const SIDE: usize = 28;

/// Offset of Square's random streams, so that they never coincide with the random starts of
/// the gradient attacks drawn from the same seed.
const STREAM: usize = 1 << 20;

/// The iterations (of the paper's 10,000) after which p is halved.
const HALVINGS: [usize; 9] = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];

/// The fraction p of the image the square covers at query `i` of `queries`: the paper's
/// schedule for 10,000 queries (`p_init` halved after queries 10, 50, 200, 500, 1000, 2000, 4000,
/// 6000 and 8000), rescaled to `queries`.
pub fn fraction(p_init: f32, i: usize, queries: usize) -> f32 {
    let at = i * 10_000 / queries.max(1);
    let halvings = HALVINGS.iter().filter(|&&h| at > h).count();
    p_init / (1u32 << halvings) as f32
}

/// The side in pixels, 1–27, of a square covering a fraction `p` of the 28×28 image.
pub fn square_side(p: f32) -> usize {
    ((p * (SIDE * SIDE) as f32).sqrt().round() as usize).clamp(1, SIDE - 1)
}

/// Float tensor `[N,1,28,28]` holding each pixel's row (or column) index.
fn coordinates(n: usize, rows: bool, device: &burn::tensor::Device) -> Tensor<4> {
    let line = Tensor::<1, Int>::arange(0..SIDE as i64, device).float();
    let grid = if rows { line.reshape([1, 1, SIDE, 1]) } else { line.reshape([1, 1, 1, SIDE]) };
    grid.expand([n, 1, SIDE, SIDE])
}

/// One run of [`AttackConfig::square_queries`] queries on the random stream `restart`.
fn run_once(model: &Classifier, images: Tensor<4>, goal: &Goal, config: &AttackConfig, restart: usize) -> Tensor<4> {
    let (eps, queries) = (config.epsilon, config.square_queries());
    let [n, ..] = images.dims();
    let device = images.device();
    let mut rng = noise::generator(config.seed, STREAM + restart);
    let sign = |rng: &mut StdRng| if rng.random::<bool>() { 1.0f32 } else { -1.0 };

    let stripes: Vec<f32> = (0..n * SIDE).map(|_| sign(&mut rng) * eps).collect();
    let stripes = Tensor::<4>::from_data(TensorData::new(stripes, [n, 1, 1, SIDE]), &device).expand([n, 1, SIDE, SIDE]);
    let mut best = (images.clone() + stripes).clamp(0.0, 1.0);
    let mut best_margin = margin(model.forward(best.clone()), goal.labels.clone());

    // Per query and image: the square's top row, left column and sign, drawn all at once.
    let sides: Vec<usize> = (0..queries).map(|i| square_side(fraction(config.p_init, i, queries))).collect();
    let mut draws = Vec::with_capacity(queries * n * 3);
    for &s in &sides {
        for _ in 0..n {
            draws.push(rng.random_range(0..=SIDE - s) as f32);
            draws.push(rng.random_range(0..=SIDE - s) as f32);
            draws.push(sign(&mut rng));
        }
    }
    let draws = Tensor::<3>::from_data(TensorData::new(draws, [queries, n, 3]), &device);
    let (rows, columns) = (coordinates(n, true, &device), coordinates(n, false, &device));

    for (i, &s) in sides.iter().enumerate() {
        super::progress::tick();
        let draw = draws.clone().narrow(0, i, 1).reshape([n, 3]);
        let at = |j: usize| draw.clone().narrow(1, j, 1).reshape([n, 1, 1, 1]).expand([n, 1, SIDE, SIDE]);
        let (top, left, square_sign) = (at(0), at(1), at(2));
        let inside = |coordinate: &Tensor<4>, start: Tensor<4>| {
            coordinate.clone().greater_equal(start.clone()).bool_and(coordinate.clone().lower(start.add_scalar(s as f32)))
        };
        let window = inside(&rows, top).bool_and(inside(&columns, left));
        let delta = (best.clone() - images.clone()).mask_where(window, square_sign * eps);
        let proposal = (images.clone() + delta).clamp(0.0, 1.0);
        let proposal_margin = margin(model.forward(proposal.clone()), goal.labels.clone());
        let accept = proposal_margin.clone().lower(best_margin.clone()).bool_and(best_margin.clone().greater_elem(0.0));
        best = select(accept.clone(), proposal, best);
        best_margin = best_margin.mask_where(accept, proposal_margin);
    }
    best
}

/// The Square attack with `config.restarts` runs of [`AttackConfig::square_queries`] queries
/// each (one forward pass of the batch per query); per image the most successful run is kept.
/// Untargeted: `goal`'s target, if any, is not used.
pub fn square(model: &Classifier, images: Tensor<4>, goal: &Goal, config: &AttackConfig) -> Tensor<4> {
    let untargeted = Goal::new(goal.labels.clone(), None);
    best_of(model, &untargeted, (0..config.restarts).map(|restart| run_once(model, images.clone(), &untargeted, config, restart)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_square_shrinks_along_the_papers_schedule() {
        // 10,000 queries: p_init until query 10, halved after 10, 50, …, 8000.
        assert_eq!(fraction(0.8, 0, 10_000), 0.8);
        assert_eq!(fraction(0.8, 10, 10_000), 0.8);
        assert_eq!(fraction(0.8, 11, 10_000), 0.4);
        assert_eq!(fraction(0.8, 51, 10_000), 0.2);
        assert_eq!(fraction(0.8, 9_999, 10_000), 0.8 / 512.0);
        // Rescaled: 1,000 queries reach the second halving after query 5.
        assert_eq!(fraction(0.8, 6, 1_000), 0.2);
        assert_eq!(square_side(0.8), 25);
        assert_eq!(square_side(0.8 / 512.0), 1);
        assert_eq!(square_side(1.0), 27);
    }
}
