//! A small CNN for MNIST: two 5×5 convolution + 2×2 max-pool blocks, then a dense head.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::data::CLASSES;

/// Size of the CNN.
#[derive(Config, Debug)]
pub struct CnnConfig {
    /// Output channels of the first convolution.
    #[config(default = 16)]
    pub channels1: usize,
    /// Output channels of the second convolution.
    #[config(default = 32)]
    pub channels2: usize,
    /// Units of the hidden dense layer.
    #[config(default = 128)]
    pub hidden: usize,
}

impl CnnConfig {
    /// A freshly initialised CNN on `device`.
    pub fn init(&self, device: &Device) -> Cnn {
        let conv = |c_in: usize, c_out: usize| {
            Conv2dConfig::new([c_in, c_out], [5, 5])
                .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
                .init(device)
        };
        Cnn {
            conv1: conv(1, self.channels1),
            conv2: conv(self.channels1, self.channels2),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(self.channels2 * 7 * 7, self.hidden).init(device),
            fc2: LinearConfig::new(self.hidden, CLASSES).init(device),
        }
    }
}

/// conv1 (1→c1, 5×5, pad 2) ReLU maxpool 2 → conv2 (c1→c2, 5×5, pad 2) ReLU maxpool 2 →
/// flatten (c2·7·7) → fc1 ReLU → fc2. The PyTorch equivalent uses `nn.Conv2d(1, 16, 5,
/// padding=2)`, `nn.Conv2d(16, 32, 5, padding=2)`, `nn.MaxPool2d(2)`, `nn.Linear(1568, 128)`,
/// `nn.Linear(128, 10)` with `torch.flatten(x, 1)`.
#[derive(Module, Debug)]
pub struct Cnn {
    /// First convolution.
    pub conv1: Conv2d,
    /// Second convolution.
    pub conv2: Conv2d,
    /// 2×2 max-pooling, used after each convolution.
    pub pool: MaxPool2d,
    /// Dense hidden layer.
    pub fc1: Linear,
    /// Output layer (10 logits).
    pub fc2: Linear,
}

impl Cnn {
    /// Logits `[N, 10]` of images `[N, 1, 28, 28]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = self.pool.forward(relu(self.conv1.forward(images)));
        let x = self.pool.forward(relu(self.conv2.forward(x)));
        let x: Tensor<2> = x.flatten(1, 3);
        self.fc2.forward(relu(self.fc1.forward(x)))
    }
}
