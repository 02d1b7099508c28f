//! The classic MLP of the TensorFlow.js demos: Flatten → Dense 128 ReLU → Dense 10.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::data::{CLASSES, PIXELS};

/// Size of the MLP.
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Units of the hidden ReLU layer.
    #[config(default = 128)]
    pub hidden: usize,
}

impl MlpConfig {
    /// A freshly initialised MLP on `device`.
    pub fn init(&self, device: &Device) -> Mlp {
        Mlp {
            fc1: LinearConfig::new(PIXELS, self.hidden).init(device),
            fc2: LinearConfig::new(self.hidden, CLASSES).init(device),
        }
    }
}

/// 784 → hidden (ReLU) → 10; the PyTorch equivalent has `fc1 = nn.Linear(784, 128)` and
/// `fc2 = nn.Linear(128, 10)`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Hidden layer, 784 → hidden.
    pub fc1: Linear,
    /// Output layer, hidden → 10 logits.
    pub fc2: Linear,
}

impl Mlp {
    /// Logits `[N, 10]` of images `[N, 1, 28, 28]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x: Tensor<2> = images.flatten(1, 3);
        self.fc2.forward(relu(self.fc1.forward(x)))
    }
}
