//! Random-noise data augmentation, the `noise` defense: every training image is replaced by a
//! noisy copy, clamped back to the `[0,1]` box. The noise is drawn on the host from a seeded
//! generator (as the random starts of the attacks are), so that the page and the CLI train on
//! the same inputs for the same seed.

use burn::tensor::{Int, Tensor};

use super::{NoiseKind, TrainConfig};
use crate::attack::noise;
use crate::model::Classifier;

/// `images` `[N,1,28,28]` in `[0,1]` plus seeded noise of `kind`, clamped to `[0,1]`: Gaussian of
/// standard deviation `std`, or uniform in `[−epsilon, epsilon]` (both in pixel units). The same
/// `seed` gives the same noise on every backend.
pub fn noisy(images: Tensor<4>, kind: NoiseKind, std: f32, epsilon: f32, seed: u64) -> Tensor<4> {
    let mut rng = noise::generator(seed, 0);
    let device = images.device();
    let shape = images.dims();
    let draw = match kind {
        NoiseKind::Gaussian => noise::normal(&mut rng, shape, &device) * std,
        NoiseKind::Uniform => noise::uniform(&mut rng, shape, epsilon, &device),
    };
    (images + draw).clamp(0.0, 1.0)
}

/// The `noise` defense's loss: the cross-entropy on [`noisy`] copies of the batch (the run's
/// noise kind, σ and ε), with their logits.
pub fn loss(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>, config: &TrainConfig, seed: u64) -> (Tensor<1>, Tensor<2>) {
    super::standard::loss(model, noisy(images, config.noise, config.noise_std, config.epsilon, seed), labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::projection::{l2_norms, linf_norms};
    use crate::fixtures::mnist;

    fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn noisy_images_stay_in_the_box_and_are_seeded() {
        let device = crate::fixtures::device();
        let indices: Vec<usize> = (0..64).collect();
        let (images, _) = mnist().test.batch(&indices, &device);
        for kind in NoiseKind::ALL {
            let x = noisy(images.clone(), kind, 0.3, 0.3, 7);
            let values = floats(x.clone());
            assert!(values.iter().all(|v| (0.0..=1.0).contains(v)), "{kind}: a pixel left [0,1]");
            let delta = x.clone() - images.clone();
            let linf = floats(linf_norms(delta.clone()));
            let l2 = floats(l2_norms(delta));
            // Clamping only shortens the noise; most of it survives on MNIST's mostly-black images
            // (a pure σ = 0.3 draw has L2 norm 0.3·28 = 8.4, half of it clamped away at 0).
            assert!(l2.iter().all(|n| *n > 2.0), "{kind}: the noise is too weak: {l2:?}");
            if kind == NoiseKind::Uniform {
                assert!(linf.iter().all(|n| *n <= 0.3 + 1e-6), "{kind}: outside the ε-ball: {linf:?}");
            }
            let again = floats(noisy(images.clone(), kind, 0.3, 0.3, 7));
            assert_eq!(values, again, "{kind}: the same seed draws the same noise");
            let other = floats(noisy(images.clone(), kind, 0.3, 0.3, 8));
            assert_ne!(values, other, "{kind}: another seed draws other noise");
        }
    }

    #[test]
    fn noise_kinds_parse_by_name() {
        assert_eq!("uniform".parse::<NoiseKind>(), Ok(NoiseKind::Uniform));
        assert_eq!("gaussian".parse::<NoiseKind>(), Ok(NoiseKind::Gaussian));
        assert_eq!("salt".parse::<NoiseKind>().unwrap_err(), "unknown noise `salt` (expected one of gaussian, uniform)");
    }
}
