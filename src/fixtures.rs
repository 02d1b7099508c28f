//! Shared test fixtures: real MNIST and a small MLP trained on it once per test binary.

use std::sync::OnceLock;

use burn::tensor::Device;

use crate::data::{Dataset, Mnist};
use crate::model::Classifier;
use crate::train::{Defense, TrainConfig, Trainer};

/// The device every core test runs on: burn's CPU backend. The one place to point the core's
/// tests at another backend (e.g. a GPU device in a build that has one).
pub fn device() -> Device {
    Device::flex()
}

/// MNIST from the default folder; a missing download fails with the message saying what to run.
pub fn mnist() -> &'static Mnist {
    static MNIST: OnceLock<Mnist> = OnceLock::new();
    MNIST.get_or_init(|| Mnist::load(&Mnist::default_dir()).unwrap_or_else(|e| panic!("{e}")))
}

/// Trains `config` on its subset of MNIST's training set and returns the model.
pub fn train(config: TrainConfig) -> Classifier {
    let device = device();
    let data = mnist();
    let (train, validation) = data.train.split_validation(1000);
    let train = train.take(config.limit.unwrap_or(train.len()));
    let mut trainer = Trainer::new(config, &device).expect("valid config");
    while !trainer.finished() {
        pollster::block_on(trainer.train_epoch(&train, &validation.take(200), async |_| true)).expect("training reads");
    }
    trainer.model()
}

/// An MLP trained for 2 epochs on 8,000 images (about 93% accurate), and the test set.
pub fn trained_mlp() -> (Classifier, Dataset) {
    static MODEL: OnceLock<Classifier> = OnceLock::new();
    let model = MODEL.get_or_init(|| train(TrainConfig::new(crate::model::Architecture::Mlp, Defense::None).with_epochs(2).with_limit(Some(8000))));
    (model.clone(), mnist().test.clone())
}
