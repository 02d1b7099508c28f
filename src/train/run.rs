//! A training run, as the CLI's `train` and the page's engine both run it: the held-out split and
//! the limit, the epochs with their checks, test accuracy and the weights file with its metadata
//! after every epoch, the best epoch, and the one rule for resuming. Training's one entry point:
//! the worker only routes messages and the CLI only prints.

use burn::tensor::Device;

use super::{BatchReport, Defense, EpochReport, TrainConfig, Trainer};
use crate::attack::{AttackConfig, AttackMethod, ConfigError};
use crate::data::Dataset;
use crate::device::readback::ReadError;
use crate::eval;
use crate::model::Classifier;
use crate::model::weights::{self, Metadata, WeightsError};

/// Why a training run could not start or go on; each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A parameter out of range, or weights of another network.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The training set holds no image beyond the held-out ones.
    #[error("there is nothing to train on: the training set holds no image beyond the held-out ones")]
    NothingToTrainOn,
    /// The weights to resume come from another run (another defense).
    #[error("cannot resume: {0}")]
    OtherRun(String),
    /// A tensor could not be read back from the device (a lost GPU, say).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The weights file could not be written.
    #[error(transparent)]
    Weights(#[from] WeightsError),
}

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

/// Where a training run starts (made once a run, so its size does not matter).
#[allow(clippy::large_enum_variant)]
pub enum Start {
    /// A fresh model, initialised from the run's seed.
    Fresh,
    /// Weights that already finished `epochs_done` epochs of this run (a resumed run), with the
    /// run's best epoch so far when known (`fgsm-rs`'s collapse guard compares against it).
    /// Resuming is refused unless the weights' metadata names the run's defense and network.
    Resume {
        /// The weights.
        model: Classifier,
        /// Their metadata (what they were trained with).
        metadata: Metadata,
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
    /// Starts `config` on `device` (checked first; the message names a bad parameter). The one
    /// resume rule of the CLI and the page: weights resume only the run they came from, the same
    /// defense on the same network.
    pub fn start(config: TrainConfig, data: RunData, device: &Device, start: Start) -> Result<Self, RunError> {
        config.validate()?;
        if data.train.is_empty() {
            return Err(RunError::NothingToTrainOn);
        }
        let trainer = match start {
            Start::Fresh => Trainer::new(config.clone(), device)?,
            Start::Resume { model, metadata, epochs_done, best } => {
                let trained = TrainConfig::of_weights(&metadata)?;
                if trained.defense != config.defense {
                    return Err(RunError::OtherRun(format!("the weights were trained with defense {}, not {}", trained.defense, config.defense)));
                }
                let trainer = Trainer::resume(config.clone(), device, model, epochs_done)?;
                match best {
                    Some(b) => trainer.with_best(b.accuracy, b.model, b.epoch),
                    None => trainer,
                }
            }
            Start::Init(model) => Trainer::resume(config.clone(), device, model, 0)?,
        };
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
    pub async fn next_epoch(&mut self, on_batch: impl AsyncFnMut(BatchReport) -> bool) -> Result<Option<FinishedEpoch>, RunError> {
        let report = self.trainer.train_epoch(&self.data.train, &self.data.validation, on_batch).await?;
        let Some(report) = report else { return Ok(None) };
        let model = self.trainer.model();
        let test_accuracy = eval::clean(&model, &self.data.test, eval::BATCH, &self.device).await?.accuracy;
        let mut metadata = self.trainer.metadata();
        metadata.clean_accuracy = Some(test_accuracy);
        let weights = weights::to_bytes(&model, &metadata).await?;
        let epochs_done = self.trainer.epochs_done();
        let best = self.trainer.best_epoch().is_some_and(|(epoch, _)| epoch == epochs_done && report.stopped.is_none());
        Ok(Some(FinishedEpoch { report, test_accuracy, weights, epochs_done, best }))
    }

    /// The weights file of the finished run, its metadata holding test accuracy and robust
    /// accuracy under PGD-40 (40 steps of 0.01, random start) at the run's ε on the first
    /// `robust_images` test images (0: not measured). `progress` hears the images attacked.
    pub async fn final_weights(&self, robust_images: usize, progress: impl FnMut(usize)) -> Result<(Vec<u8>, Metadata), RunError> {
        let model = self.trainer.model();
        let mut metadata = self.trainer.metadata();
        metadata.clean_accuracy = Some(eval::clean(&model, &self.data.test, eval::BATCH, &self.device).await?.accuracy);
        let hardened = self.config.defense != Defense::None || self.config.grad_penalty > 0.0;
        if hardened && robust_images > 0 {
            let test = self.data.test.take(robust_images);
            let attack = AttackConfig::new(AttackMethod::Pgd).with_epsilon(self.config.epsilon);
            let report = eval::robust(&model, &attack, &test, eval::BATCH, &self.device, progress).await?;
            metadata.robust_accuracy = Some(report.robust_accuracy);
            metadata.robust_attack = Some(format!("pgd eps={} steps=40 step_size=0.01 n={}", self.config.epsilon, test.len()));
        }
        let bytes = weights::to_bytes(&model, &metadata).await?;
        Ok((bytes, metadata))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::mnist;
    use crate::model::Architecture;

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
    fn weights_resume_only_the_run_they_came_from() {
        let data = mnist();
        let device = crate::fixtures::device();
        let pgd = TrainConfig::new(Architecture::Mlp, Defense::Pgd).with_validation(100).with_limit(Some(200));
        let run_data = || RunData::split(&pgd, &data.train.take(400), data.test.take(10));
        let model = Classifier::new(Architecture::Mlp, &device);
        let trained_as = |defense: Defense| Trainer::new(TrainConfig { defense, ..pgd.clone() }, &device).unwrap().metadata();
        let resume = |defense| Start::Resume { model: model.clone(), metadata: trained_as(defense), epochs_done: 1, best: None };
        let err = TrainingRun::start(pgd.clone(), run_data(), &device, resume(Defense::Trades)).err().expect("another defense is refused");
        assert!(matches!(err, RunError::OtherRun(_)) && err.to_string().contains("trades"), "{err}");
        let run = TrainingRun::start(pgd.clone(), run_data(), &device, resume(Defense::Pgd)).expect("the same run resumes");
        assert_eq!(run.epochs_done(), 1);
        let cnn = TrainConfig::new(Architecture::Cnn, Defense::Pgd).with_validation(100).with_limit(Some(200));
        let err = TrainingRun::start(cnn, run_data(), &device, resume(Defense::Pgd)).err().expect("another network is refused");
        assert!(matches!(err, RunError::Config(_)) && err.to_string().contains("cannot resume"), "{err}");
    }
}
