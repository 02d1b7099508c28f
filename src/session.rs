//! What the CLI and the page's engine worker both run, written once: a training run (the
//! held-out split and the limit, the epochs with their checks, test accuracy, the weights file
//! with its metadata, the best epoch), one attacked image (the adversarial image, its
//! probabilities and the norms of the perturbation); the evaluation sweep is
//! [`crate::eval::sweep`]'s. The worker only routes messages and the CLI only prints.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::attack::{self, AttackConfig, AttackMethod};
use crate::data::{Dataset, PIXELS, images_tensor};
use crate::eval;
use crate::model::Classifier;
use crate::model::weights::{self, Metadata};
use crate::device::readback;
use crate::train::{BatchReport, EpochReport, TrainConfig, Trainer};

/// The images of a training run.
#[derive(Clone, Debug)]
pub struct RunData {
    /// What the run trains on: the training set less the held-out images, cut to the limit.
    pub train: Dataset,
    /// The held-out images of the per-epoch check (the last `validation` training images).
    pub validation: Dataset,
    /// The test set, for the test accuracy after every epoch.
    pub test: Dataset,
}

impl RunData {
    /// Holds the last `config.validation` images of `train` out for the per-epoch check and keeps
    /// the first `config.limit` of the rest (all without a limit) to train on.
    pub fn split(config: &TrainConfig, train: &Dataset, test: Dataset) -> Self {
        let (rest, validation) = train.split_validation(config.validation);
        let train = match config.limit {
            Some(n) if n < rest.len() => rest.take(n),
            _ => rest,
        };
        RunData { train, validation, test }
    }
}

/// The best epoch of a run so far: its held-out PGD-10 accuracy and its weights.
pub struct BestEpoch {
    /// Epoch (from 1).
    pub epoch: usize,
    /// Held-out PGD-10 accuracy after it, in `[0,1]`.
    pub accuracy: f32,
    /// Its weights.
    pub model: Classifier,
}

/// Where a training run starts.
pub enum Start {
    /// A fresh model, initialised from the run's seed.
    Fresh,
    /// Weights that already finished `epochs_done` epochs of this run (a resumed run), with the
    /// run's best epoch so far when known (`fgsm-rs`'s collapse guard compares against it).
    Resume {
        /// The weights.
        model: Classifier,
        /// Epochs they finished.
        epochs_done: usize,
        /// The best epoch before the pause.
        best: Option<BestEpoch>,
    },
    /// Other weights to start from (adversarial fine-tuning of a standard model); the run's
    /// epochs count from 0.
    Init(Classifier),
}

/// What a finished epoch leaves.
pub struct FinishedEpoch {
    /// The held-out check.
    pub report: EpochReport,
    /// Accuracy on the whole test set, in `[0,1]`.
    pub test_accuracy: f32,
    /// The model after this epoch (or the restored best one, when the collapse guard stopped the
    /// run) as a safetensors file; its metadata holds the test accuracy.
    pub weights: Vec<u8>,
    /// Epochs the weights have finished.
    pub epochs_done: usize,
    /// True when these weights are the run's best epoch so far, the one `fgsm-rs`'s collapse
    /// guard would restore.
    pub best: bool,
}

/// A training run: a [`Trainer`] with its data, epoch by epoch.
pub struct TrainingRun {
    config: TrainConfig,
    trainer: Trainer,
    data: RunData,
    device: Device,
}

impl TrainingRun {
    /// Starts `config` on `device` (checked first; the message names a bad parameter).
    pub fn start(config: TrainConfig, data: RunData, device: &Device, start: Start) -> Result<Self, String> {
        if data.train.is_empty() {
            return Err("there is nothing to train on: the training set holds no image beyond the held-out ones".into());
        }
        let trainer = match start {
            Start::Fresh => Trainer::new(config.clone(), device),
            Start::Resume { model, epochs_done, best } => Trainer::resume(config.clone(), device, model, epochs_done).map(|t| match best {
                Some(b) => t.with_best(b.accuracy, b.model, b.epoch),
                None => t,
            }),
            Start::Init(model) => Trainer::resume(config.clone(), device, model, 0),
        }
        .map_err(|e| e.to_string())?;
        Ok(TrainingRun { config, trainer, data, device: device.clone() })
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The run's images.
    pub fn data(&self) -> &RunData {
        &self.data
    }

    /// Epochs finished so far.
    pub fn epochs_done(&self) -> usize {
        self.trainer.epochs_done()
    }

    /// True when every epoch is done or the collapse guard stopped the run.
    pub fn finished(&self) -> bool {
        self.trainer.finished()
    }

    /// Batches in one epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.data.train.len().div_ceil(self.config.batch_size)
    }

    /// The current model in inference mode.
    pub fn model(&self) -> Classifier {
        self.trainer.model()
    }

    /// Reads batch losses back `batches` at a time (see [`Trainer::read_every`]).
    pub fn read_every(&mut self, batches: usize) {
        self.trainer.read_every(batches);
    }

    /// Trains the next epoch (`on_batch` as in [`Trainer::train_epoch`]: it may wait, and
    /// returns `false` to stop), then measures test accuracy and writes the weights file. `None`:
    /// `on_batch` stopped the epoch, which is dropped.
    pub async fn next_epoch(&mut self, on_batch: impl AsyncFnMut(BatchReport) -> bool) -> Result<Option<FinishedEpoch>, String> {
        let report = self.trainer.train_epoch(&self.data.train, &self.data.validation, on_batch).await.map_err(|e| e.to_string())?;
        let Some(report) = report else { return Ok(None) };
        let model = self.trainer.model();
        let test_accuracy = eval::clean(&model, &self.data.test, eval::BATCH, &self.device).await.map_err(|e| e.to_string())?.accuracy;
        let mut metadata = self.trainer.metadata();
        metadata.clean_accuracy = Some(test_accuracy);
        let weights = weights::to_bytes(&model, &metadata).await.map_err(|e| e.to_string())?;
        let epochs_done = self.trainer.epochs_done();
        let best = self.trainer.best_epoch().is_some_and(|(epoch, _)| epoch == epochs_done && report.stopped.is_none());
        Ok(Some(FinishedEpoch { report, test_accuracy, weights, epochs_done, best }))
    }

    /// The weights file of the finished run, its metadata holding test accuracy and robust
    /// accuracy under PGD-40 (40 steps of 0.01, random start) at the run's ε on the first
    /// `robust_images` test images (0: not measured). `progress` hears the images attacked.
    pub async fn final_weights(&self, robust_images: usize, progress: impl FnMut(usize)) -> Result<(Vec<u8>, Metadata), String> {
        let model = self.trainer.model();
        let mut metadata = self.trainer.metadata();
        metadata.clean_accuracy = Some(eval::clean(&model, &self.data.test, eval::BATCH, &self.device).await.map_err(|e| e.to_string())?.accuracy);
        let hardened = metadata.defense != "none" || self.config.grad_penalty > 0.0;
        if hardened && robust_images > 0 {
            let test = self.data.test.take(robust_images);
            let attack = AttackConfig::new(AttackMethod::Pgd).with_epsilon(self.config.epsilon);
            let report = eval::robust(&model, &attack, &test, eval::BATCH, &self.device, progress).await.map_err(|e| e.to_string())?;
            metadata.robust_accuracy = Some(report.robust_accuracy);
            metadata.robust_attack = Some(format!("pgd eps={} steps=40 step_size=0.01 n={}", self.config.epsilon, test.len()));
        }
        let bytes = weights::to_bytes(&model, &metadata).await.map_err(|e| e.to_string())?;
        Ok((bytes, metadata))
    }
}

/// The size of a perturbation, in `[0,1]` pixel units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Norms {
    /// Largest change of any pixel.
    pub linf: f32,
    /// Length of the whole change.
    pub l2: f32,
    /// Pixels changed (by more than 1e-6).
    pub l0: usize,
}

impl Norms {
    /// The norms of `adversarial − original` (same length).
    pub fn between(original: &[f32], adversarial: &[f32]) -> Norms {
        let delta = adversarial.iter().zip(original).map(|(a, o)| a - o);
        let (linf, squares, l0) = delta.fold((0f32, 0f32, 0usize), |(m, s, n), d| (m.max(d.abs()), s + d * d, n + usize::from(d.abs() > 1e-6)));
        Norms { linf, l2: squares.sqrt(), l0 }
    }
}

/// The index of the largest value (the first of equal ones; 0 for an empty slice).
pub fn argmax(values: &[f32]) -> usize {
    values.iter().enumerate().fold(0, |best, (i, v)| if *v > values[best] { i } else { best })
}

/// One image after an attack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackedImage {
    /// The adversarial image: 784 pixels in `[0,1]`.
    pub adversarial: Vec<f32>,
    /// The model's ten class probabilities on it.
    pub probabilities: Vec<f32>,
    /// The norms of the perturbation.
    pub norms: Norms,
    /// AutoAttack only: the stage that broke the image (`None`: no stage did, or another
    /// attack).
    pub broken_by: Option<AttackMethod>,
}

/// The class probabilities of one 28×28 image (784 pixels in `[0,1]`), or a message when the
/// image is malformed or the model's outputs are not finite (broken weights give a message,
/// never "NaN%").
pub async fn probabilities(model: &Classifier, image: &[f32], device: &Device) -> Result<Vec<f32>, String> {
    if image.len() != PIXELS {
        return Err(format!("an image has 784 pixels, not {}", image.len()));
    }
    let values = readback::floats(model.valid().probabilities(images_tensor(image.to_vec(), device))).await.map_err(|e| e.to_string())?;
    finite(values)
}

fn finite(probabilities: Vec<f32>) -> Result<Vec<f32>, String> {
    if probabilities.iter().all(|p| p.is_finite()) {
        Ok(probabilities)
    } else {
        Err("the model's outputs are not finite numbers (NaN or ∞): its weights are broken, e.g. by a diverged training run".into())
    }
}

/// Attacks one 28×28 image (784 pixels in `[0,1]`) whose true class (or, for a drawing, the
/// class the attack moves away from) is `label` 0–9, with one read back for the result.
pub async fn attack_image(model: &Classifier, config: &AttackConfig, image: &[f32], label: usize, device: &Device) -> Result<AttackedImage, String> {
    config.validate().map_err(|e| e.to_string())?;
    if image.len() != PIXELS || label > 9 {
        return Err(format!("an attack needs 784 pixels and a label 0–9, not {} pixels and {label}", image.len()));
    }
    let x = images_tensor(image.to_vec(), device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![label as i64], [1]), device);
    let model = model.valid();
    let (adversarial, broken_by) = if config.method == AttackMethod::AutoAttack {
        // Stage by stage, as `advlab eval` runs it, so that the report says which stage broke it.
        let staged = attack::autoattack::autoattack_by_stage(&model, x, y, config).await.map_err(|e| e.to_string())?;
        (staged.adversarial, staged.broken_by.first().copied().flatten())
    } else {
        (attack::run(config, &model, x, y), None)
    };
    // One read: the 784 pixels, then the ten probabilities.
    let both = Tensor::cat(vec![adversarial.clone().reshape([1, PIXELS]), model.probabilities(adversarial)], 1);
    let mut adversarial = readback::floats(both).await.map_err(|e| e.to_string())?;
    let probabilities = finite(adversarial.split_off(PIXELS))?;
    let norms = Norms::between(image, &adversarial);
    Ok(AttackedImage { adversarial, probabilities, norms, broken_by })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{mnist, trained_mlp};
    use crate::model::Architecture;
    use crate::train::Defense;

    #[test]
    fn norms_measure_the_change() {
        let original = [0.0, 0.5, 1.0, 0.2];
        let adversarial = [0.3, 0.5, 0.6, 0.2];
        let n = Norms::between(&original, &adversarial);
        assert!((n.linf - 0.4).abs() < 1e-6);
        assert!((n.l2 - 0.5).abs() < 1e-6);
        assert_eq!(n.l0, 2);
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
    }

    #[test]
    fn a_run_holds_out_the_last_images_then_takes_the_limit() {
        let data = mnist();
        let config = TrainConfig::new(Architecture::Mlp, Defense::None).with_validation(100).with_limit(Some(300));
        let all = data.train.take(1000);
        let run = RunData::split(&config, &all, data.test.take(10));
        assert_eq!((run.train.len(), run.validation.len()), (300, 100));
        assert_eq!(run.validation.image(0), all.image(900), "the held-out images are the last ones");
        assert_eq!(run.train.image(299), all.image(299));
    }

    #[test]
    fn an_epoch_leaves_a_weights_file_that_reads_back_with_its_test_accuracy() {
        let data = mnist();
        let config = TrainConfig::new(Architecture::Mlp, Defense::None).with_validation(100).with_limit(Some(2000)).with_epochs(2).with_batch_size(32);
        let device = crate::fixtures::device();
        let mut run = TrainingRun::start(config.clone(), RunData::split(&config, &data.train.take(3000), data.test.take(500)), &device, Start::Fresh).unwrap();
        let epoch = pollster::block_on(run.next_epoch(async |_| true)).unwrap().expect("a finished epoch");
        assert_eq!((epoch.epochs_done, run.epochs_done(), run.finished()), (1, 1, false));
        let (model, metadata) = weights::from_bytes(&epoch.weights, &device).unwrap();
        assert_eq!((metadata.epochs, metadata.clean_accuracy), (1, Some(epoch.test_accuracy)));
        assert!(epoch.test_accuracy > 0.7, "one epoch on 2,000 images learns ({})", epoch.test_accuracy);
        let clean = pollster::block_on(eval::clean(&model, &data.test.take(500), 100, &device)).unwrap();
        assert!((clean.accuracy - epoch.test_accuracy).abs() < 1e-6, "the file holds the model that was measured");
    }

    #[test]
    fn attacking_one_image_gives_the_batch_attack_and_its_norms() {
        let (model, test) = trained_mlp();
        let device = crate::fixtures::device();
        let config = AttackConfig::new(AttackMethod::Pgd).with_epsilon(0.2).with_steps(10).with_step_size(0.05);
        let image = test.image(0).to_vec();
        let label = usize::from(test.labels[0]);
        let attacked = pollster::block_on(attack_image(&model, &config, &image, label, &device)).unwrap();
        assert!(attacked.norms.linf <= 0.2 + 1e-6);
        assert_eq!(attacked.norms, Norms::between(&image, &attacked.adversarial));
        let (x, y) = test.batch(&[0], &device);
        let batch = pollster::block_on(readback::floats(attack::run(&config, &model, x, y))).unwrap();
        assert_eq!(batch, attacked.adversarial, "the same attack as `advlab eval` runs on a batch of one");
        let sum: f32 = attacked.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
        assert!(pollster::block_on(attack_image(&model, &config, &image[..100], label, &device)).unwrap_err().contains("784"));
    }
}
