//! Input-gradient regularisation (Ross & Doshi-Velez 2018): the training loss gains
//! `λ · mean_i ‖∇ₓ CE(f(x_i), y_i)‖₂²`, the squared L2 norm of each example's cross-entropy
//! gradient with respect to its own input. A model whose loss is flat around the data needs a
//! larger perturbation to change its prediction.
//!
//! The exact penalty needs the gradient of a gradient (double backprop). burn 0.22.1's autodiff
//! does not record the backward pass: `Tensor::grad` returns a gradient "without an autodiff
//! association" (burn-tensor `src/tensor/api/autodiff.rs`, doc of `grad`), the backward steps of
//! burn-autodiff compute on the inner backend, and the dispatch layer refuses an autodiff tensor
//! inside another ("Autodiff should not wrap an autodiff tensor", burn-dispatch `src/backend.rs`).
//! So the penalty is computed by finite differences (Finlay & Oberman 2019, "Scaleable input
//! gradient regularization for adversarial robustness"): with `g` the input gradient and
//! `d = g/‖g‖₂` its direction, detached, `CE(x + h·d) − CE(x) = h·‖g‖₂ + O(h²)`, hence
//! `((CE(x + h·d) − CE(x)) / h)² ≈ ‖g‖₂²`. Both losses are ordinary forward passes of the model
//! being trained, so first-order backprop gives the penalty's gradient with respect to the
//! weights; the direction `d` is a constant of that backward pass (its own dependence on the
//! weights is dropped, as in Finlay & Oberman).

use burn::module::Module;
use burn::tensor::{Int, Tensor};

use crate::attack::goal::Goal;
use crate::attack::projection::{l2_norms, normalize_l2};
use crate::model::{Classifier, cross_entropy};

/// The finite-difference step `h` (L2 length of the step along the normalised input gradient,
/// `[0,1]` pixel units). Small against a digit's own L2 norm (about 9), so the difference
/// quotient is close to the directional derivative, and large enough that the difference of two
/// float32 losses is not rounding noise.
pub const FINITE_DIFFERENCE_STEP: f32 = 0.01;

/// Per-example finite-difference estimates `[N]` of `‖∇ₓ CE(f(x), y)‖₂²` for images
/// `[N,1,28,28]` in `[0,1]` and labels `[N]`, differentiable with respect to the weights of
/// `model` (a model in training mode records them). See the module documentation.
pub fn squared_gradient_norms(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>) -> Tensor<1> {
    let images = images.without_autodiff();
    let gradient = Goal::new(labels.clone(), None).gradient(&model.valid(), images.clone());
    let step = normalize_l2(gradient) * FINITE_DIFFERENCE_STEP;
    let loss_at = |x: Tensor<4>| cross_entropy(model.forward(x), labels.clone());
    let difference = loss_at(images.clone() + step) - loss_at(images);
    (difference / FINITE_DIFFERENCE_STEP).square()
}

/// The exact per-example input-gradient norms `‖∇ₓ CE(f(x), y)‖₂` `[N]` (no weight gradient;
/// the model is used in inference mode): what the penalty makes small.
pub fn input_gradient_norms(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>) -> Tensor<1> {
    l2_norms(Goal::new(labels, None).gradient(&model.valid(), images))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::trained_mlp;

    #[test]
    fn the_finite_difference_matches_the_squared_gradient_norm() {
        let (model, test) = trained_mlp();
        let device = crate::fixtures::device();
        let indices: Vec<usize> = (0..200).collect();
        let (images, labels) = test.batch(&indices, &device);
        let estimate = squared_gradient_norms(&model, images.clone(), labels.clone()).into_data().try_to_vec::<f32>().unwrap();
        let exact = input_gradient_norms(&model, images, labels).into_data().try_to_vec::<f32>().unwrap();
        let estimate_sum: f32 = estimate.iter().sum();
        let exact_sum: f32 = exact.iter().map(|g| g * g).sum();
        assert!(exact_sum > 1.0, "a trained model still has gradients: Σ‖g‖² = {exact_sum}");
        let relative = (estimate_sum - exact_sum).abs() / exact_sum;
        assert!(relative < 0.05, "Σ estimate {estimate_sum} vs Σ‖g‖² {exact_sum} ({relative:.3} off)");
        // Example by example, where the gradient is not negligible.
        for (e, g) in estimate.iter().zip(&exact) {
            if *g > 0.1 {
                assert!((e - g * g).abs() < 0.1 * g * g + 1e-3, "estimate {e} vs ‖g‖² {}", g * g);
            }
        }
    }
}
