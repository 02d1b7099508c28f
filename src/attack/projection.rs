//! Norms of perturbations and projection onto the ε-ball intersected with the `[0,1]` box.

use burn::tensor::Tensor;

/// The norm that measures a perturbation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Norm {
    /// Largest absolute pixel change.
    Linf,
    /// Euclidean length of the whole image's change.
    L2,
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
    use burn::tensor::{Device, Distribution};

    #[test]
    fn projections_land_in_ball_and_box() {
        let device = Device::flex();
        let x = Tensor::<4>::random([8, 1, 28, 28], Distribution::Default, &device);
        let far = Tensor::<4>::random([8, 1, 28, 28], Distribution::Uniform(-3.0, 3.0), &device);
        for (norm, eps) in [(Norm::Linf, 0.1f32), (Norm::L2, 1.5)] {
            let p = project(x.clone() + far.clone(), x.clone(), norm, eps);
            let delta = p.clone() - x.clone();
            let size: f32 = match norm {
                Norm::Linf => linf_norms(delta).max().into_scalar(),
                Norm::L2 => l2_norms(delta).max().into_scalar(),
            };
            assert!(size <= eps * (1.0 + 1e-5), "{norm:?}: {size} > {eps}");
            let lo: f32 = p.clone().min().into_scalar();
            let hi: f32 = p.max().into_scalar();
            assert!(lo >= 0.0 && hi <= 1.0);
        }
    }
}
