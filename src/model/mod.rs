//! The classifiers: the classic MLP and a small CNN, one enum so that attacks, training and
//! evaluation take either. Inputs are `[N, 1, 28, 28]` images in `[0, 1]`; outputs are logits.

pub mod cnn;
pub mod mlp;
pub mod weights;


use burn::module::Module;
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor};

pub use cnn::{Cnn, CnnConfig};
pub use mlp::{Mlp, MlpConfig};

choices! {
    /// Which network a model is: the name used by the CLI, the weights metadata and the page.
    pub enum Architecture ("architecture") {
        /// Flatten → Dense 128 ReLU → Dense 10.
        Mlp = "mlp",
        /// Two 5×5 conv + max-pool blocks → Dense 128 ReLU → Dense 10.
        Cnn = "cnn",
    }
}

/// An MNIST classifier of either architecture. (Models are few and long-lived, so the size
/// difference between the variants does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Classifier {
    /// The multi-layer perceptron.
    Mlp(Mlp),
    /// The convolutional network.
    Cnn(Cnn),
}

impl Classifier {
    /// A freshly initialised model of the default size for `architecture`. Burn's initialisers
    /// draw from the device's random state: seed it first (`device.seed(seed)`) for a
    /// reproducible model.
    pub fn new(architecture: Architecture, device: &Device) -> Self {
        match architecture {
            Architecture::Mlp => Classifier::Mlp(MlpConfig::new().init(device)),
            Architecture::Cnn => Classifier::Cnn(CnnConfig::new().init(device)),
        }
    }

    /// Which architecture this is.
    pub fn architecture(&self) -> Architecture {
        match self {
            Classifier::Mlp(_) => Architecture::Mlp,
            Classifier::Cnn(_) => Architecture::Cnn,
        }
    }

    /// Logits `[N, 10]` of images `[N, 1, 28, 28]` in `[0, 1]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Classifier::Mlp(m) => m.forward(images),
            Classifier::Cnn(m) => m.forward(images),
        }
    }

    /// Class probabilities `[N, 10]` (softmax of the logits).
    pub fn probabilities(&self, images: Tensor<4>) -> Tensor<2> {
        softmax(self.forward(images), 1)
    }
}

/// The predicted class of one image's scores (logits or probabilities): the index of the largest
/// value (the first of equal ones; 0 for an empty slice).
pub fn argmax(values: &[f32]) -> usize {
    values.iter().enumerate().fold(0, |best, (i, v)| if *v > values[best] { i } else { best })
}

/// One-hot rows `[N, classes]` (1.0 at each label) of integer labels `[N]`. Unlike burn's
/// `one_hot`, it never reads the labels back to check them, so it runs on WebGPU.
pub fn one_hot(labels: Tensor<1, Int>, classes: usize) -> Tensor<2> {
    let [n] = labels.dims();
    let columns = Tensor::<1, Int>::arange(0..classes as i64, &labels.device()).reshape([1, classes]).expand([n, classes]);
    labels.reshape([n, 1]).expand([n, classes]).equal(columns).float()
}

/// Per-example softmax cross-entropy `[N]` of logits `[N, C]` against integer labels `[N]`.
///
/// Computed as `log(1 + Σ_{j≠y} exp(z_j − z_y))` rather than `−log_softmax(z)_y`: the two are
/// equal, but for a confident prediction the gradient of the latter is `p_y − 1`, which float32
/// rounds to noise (`p_y ≈ 1`), so the signs FGSM takes from it would differ between backends.
/// Here every gradient term is a sum of small, accurate numbers.
pub fn cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [n, c] = logits.dims();
    let is_label = one_hot(labels.clone(), c);
    let margins = logits.clone() - logits.gather(1, labels.reshape([n, 1]));
    // Σ_{j≠y} exp(margin_j) as a log-sum-exp, with the label's own (zero) margin masked out.
    let masked = margins - is_label * 1e9;
    let max = masked.clone().max_dim(1);
    let lse = ((masked - max.clone()).exp().sum_dim(1).log() + max).reshape([n]);
    // softplus(lse) = max(lse, 0) + log(1 + exp(−|lse|)), finite for any lse.
    lse.clone().clamp_min(0.0) + lse.abs().neg().exp().log1p()
}

/// Per-example KL divergence `KL(p ‖ q)` `[N]` between the softmax distributions of two logit
/// tensors `[N, C]` (TRADES' robustness term, with `p` the clean prediction).
pub fn kl_divergence(p_logits: Tensor<2>, q_logits: Tensor<2>) -> Tensor<1> {
    let [n, _] = p_logits.dims();
    let log_p = log_softmax(p_logits, 1);
    let log_q = log_softmax(q_logits, 1);
    (log_p.clone().exp() * (log_p - log_q)).sum_dim(1).reshape([n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn cross_entropy_matches_hand_computation() {
        let device = crate::fixtures::device();
        let logits = Tensor::<2>::from_data(TensorData::new(vec![2.0f32, 0.0, 0.0, 0.0, 0.0, 0.0], [2, 3]), &device);
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 2], [2]), &device);
        let ce = cross_entropy(logits, labels).into_data().try_to_vec::<f32>().unwrap();
        let z = 2f32.exp() + 2.0;
        assert!((ce[0] - (z.ln() - 2.0)).abs() < 1e-5);
        assert!((ce[1] - 3f32.ln()).abs() < 1e-5);
    }

    #[test]
    fn argmax_takes_the_first_of_equal_largest_values() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[]), 0);
    }

    #[test]
    fn one_hot_marks_each_label() {
        let device = crate::fixtures::device();
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![2i64, 0], [2]), &device);
        let rows = one_hot(labels, 3).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(rows, vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn both_architectures_map_images_to_ten_logits() {
        let device = crate::fixtures::device();
        for arch in [Architecture::Mlp, Architecture::Cnn] {
            let model = Classifier::new(arch, &device);
            let out = model.probabilities(Tensor::zeros([3, 1, 28, 28], &device));
            assert_eq!(out.dims(), [3, 10]);
            let total: f32 = out.sum().into_scalar();
            assert!((total - 3.0).abs() < 1e-4);
        }
    }
}
