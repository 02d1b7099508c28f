//! Norms of perturbations and projection onto the ε-ball intersected with the `[0,1]` box.

use burn::tensor::{IndexingUpdateOp, Tensor};

use crate::data::PIXELS;

/// The norm that measures a perturbation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Norm {
    /// Largest absolute pixel change.
    Linf,
    /// Euclidean length of the whole image's change.
    L2,
    /// Number of changed pixels. Its ε is the fraction of the 784 pixels allowed to change:
    /// the ε-ball holds the images with at most [`l0_budget`]`(ε) = ⌈ε·784⌉` changed pixels.
    L0,
}

/// The most pixels an L0 perturbation of budget `epsilon` (a fraction in `[0,1]`) may change:
/// `⌈ε·784⌉` (a hair of tolerance keeps `ε = k/784` at `k`).
pub fn l0_budget(epsilon: f32) -> usize {
    ((f64::from(epsilon) * PIXELS as f64 - 1e-4).ceil().max(0.0) as usize).min(PIXELS)
}

/// Small constant that keeps divisions by a norm finite.
pub const TINY: f32 = 1e-12;

/// Per-image L2 norms `[N]` of a batch `[N,1,28,28]`.
pub fn l2_norms(delta: Tensor<4>) -> Tensor<1> {
    let [n, ..] = delta.dims();
    delta.square().sum_dims(&[1, 2, 3]).reshape([n]).sqrt()
}

/// Per-image L∞ norms `[N]` of a batch `[N,1,28,28]`.
pub fn linf_norms(delta: Tensor<4>) -> Tensor<1> {
    let [n, ..] = delta.dims();
    delta.abs().reshape([n as i64, -1]).max_dim(1).reshape([n])
}

/// Per-image L0 norms `[N]` of a batch `[N,1,28,28]`: the number of pixels that differ from zero.
pub fn l0_norms(delta: Tensor<4>) -> Tensor<1> {
    let [n, ..] = delta.dims();
    delta.not_equal_elem(0.0).float().sum_dims(&[1, 2, 3]).reshape([n])
}

/// Keeps, per image, the `budget` largest-magnitude pixels of `delta` and zeroes the rest
/// (ties broken by position), the Euclidean projection onto the L0 ball.
fn keep_largest(delta: Tensor<4>, budget: usize) -> Tensor<4> {
    let shape = delta.dims();
    let n = shape[0];
    if budget >= PIXELS {
        return delta;
    }
    if budget == 0 {
        return delta.zeros_like();
    }
    let flat: Tensor<2> = delta.reshape([n, PIXELS]);
    let (_, largest) = flat.clone().abs().topk_with_indices(budget, 1);
    let keep = flat.zeros_like().scatter(1, largest, Tensor::ones([n, budget], &flat.device()), IndexingUpdateOp::Add);
    (flat * keep).reshape(shape)
}

/// Scales each image of `delta` so that its L2 norm is 1 (zero stays zero).
pub fn normalize_l2(delta: Tensor<4>) -> Tensor<4> {
    let [n, ..] = delta.dims();
    let norms = l2_norms(delta.clone()).add_scalar(TINY).reshape([n, 1, 1, 1]);
    delta / norms
}

/// Projects `adversarial` onto the `norm` ball of radius `epsilon` around `original`, then
/// into the `[0,1]` box. Clipping to the box after the L2 projection only shortens the
/// perturbation, so the result lies in both sets.
pub fn project(adversarial: Tensor<4>, original: Tensor<4>, norm: Norm, epsilon: f32) -> Tensor<4> {
    let delta = adversarial - original.clone();
    let delta = match norm {
        Norm::Linf => delta.clamp(-epsilon, epsilon),
        Norm::L2 => {
            let [n, ..] = delta.dims();
            let norms = l2_norms(delta.clone()).reshape([n, 1, 1, 1]);
            let factor = (norms.add_scalar(TINY).recip() * epsilon).clamp_max(1.0);
            delta * factor
        }
        Norm::L0 => keep_largest(delta, l0_budget(epsilon)),
    };
    (original + delta).clamp(0.0, 1.0)
}

/// Keeps, per image, `candidate` where `take` `[N]` is true and `current` elsewhere.
pub fn select(take: Tensor<1, burn::tensor::Bool>, candidate: Tensor<4>, current: Tensor<4>) -> Tensor<4> {
    let [n, ..] = current.dims();
    let mask = take.float().reshape([n, 1, 1, 1]);
    current.clone() + (candidate - current) * mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn l0_projection_keeps_the_largest_changes() {
        let device = crate::fixtures::device();
        let x = Tensor::<4>::zeros([2, 1, 28, 28], &device);
        let mut values = vec![0.0f32; 2 * 784];
        for (i, v) in [(3, 0.5), (10, -0.9), (500, 0.2), (783, 0.7)] {
            values[i] = v;
            values[784 + i] = v / 2.0;
        }
        let far = crate::data::images_tensor(values, &device);
        // ε = 2/784: two pixels may change; the box clips the negative one to 0 afterwards.
        let p = project(x.clone() + far, x.clone(), Norm::L0, 2.0 / 784.0);
        let kept = p.clone().reshape([2 * 784]).into_data().try_to_vec::<f32>().unwrap();
        let changed: Vec<usize> = kept.iter().enumerate().filter(|(_, v)| **v != 0.0).map(|(i, _)| i).collect();
        assert_eq!(changed, vec![783, 784 + 783], "pixel 10 (−0.9) and 783 (0.7) are kept, the box zeroes 10");
        assert_eq!(l0_budget(0.1), 79);
        assert_eq!(l0_budget(0.25), 196);
        assert_eq!(l0_budget(0.0), 0);
        assert_eq!(l0_budget(1.0), 784);
    }

    #[test]
    fn projections_land_in_ball_and_box() {
        let device = crate::fixtures::device();
        let x = Tensor::<4>::random([8, 1, 28, 28], Distribution::Default, &device);
        let far = Tensor::<4>::random([8, 1, 28, 28], Distribution::Uniform(-3.0, 3.0), &device);
        for (norm, eps) in [(Norm::Linf, 0.1f32), (Norm::L2, 1.5), (Norm::L0, 0.05)] {
            let p = project(x.clone() + far.clone(), x.clone(), norm, eps);
            let delta = p.clone() - x.clone();
            let (size, bound): (f32, f32) = match norm {
                Norm::Linf => (linf_norms(delta).max().into_scalar(), eps * (1.0 + 1e-5)),
                Norm::L2 => (l2_norms(delta).max().into_scalar(), eps * (1.0 + 1e-5)),
                Norm::L0 => (l0_norms(delta).max().into_scalar(), l0_budget(eps) as f32),
            };
            assert!(size <= bound, "{norm:?}: {size} > {bound}");
            let lo: f32 = p.clone().min().into_scalar();
            let hi: f32 = p.max().into_scalar();
            assert!(lo >= 0.0 && hi <= 1.0);
        }
    }
}
