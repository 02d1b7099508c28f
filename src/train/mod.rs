//! Training: standard and adversarial (mixed, fast FGSM with random start, PGD, TRADES), one
//! Adam step per batch, with a held-out validation check after every epoch. For `fgsm-rs` that
//! check guards against catastrophic overfitting: when PGD accuracy collapses, training stops
//! and the best epoch is restored.

pub mod defense;
pub mod trades;

use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor};

use crate::attack::{self, AttackConfig, AttackMethod};
use crate::data::Dataset;
use crate::eval;
use crate::model::weights::Metadata;
use crate::model::{Architecture, Classifier, cross_entropy};
use crate::readback::{self, ReadError};
pub use defense::Defense;

/// Everything that defines a training run.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// The network to train.
    pub architecture: Architecture,
    /// The defense.
    pub defense: Defense,
    /// Training ε (L∞, `[0,1]` pixel units) of the adversarial defenses.
    #[config(default = 0.3)]
    pub epsilon: f32,
    /// Passes over the training set.
    #[config(default = 1)]
    pub epochs: usize,
    /// Images per batch.
    #[config(default = 128)]
    pub batch_size: usize,
    /// Adam's (peak) learning rate.
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    /// Decay the learning rate to zero over the run along a half cosine (per batch), instead of
    /// keeping it constant.
    #[config(default = false)]
    pub cosine: bool,
    /// Seed of the initialisation, the shuffling and the random starts.
    #[config(default = 0)]
    pub seed: u64,
    /// Train on the first `limit` training images only (`None`: all).
    pub limit: Option<usize>,
    /// Shift training images by up to this many pixels at random (0: no augmentation).
    #[config(default = 0)]
    pub shift: usize,
    /// Weight λ of the adversarial term of `mixed`, in `[0,1]`.
    #[config(default = 0.5)]
    pub lambda: f32,
    /// Weight β of the robustness term of `trades`.
    #[config(default = 6.0)]
    pub beta: f32,
    /// Steps of the inner attack of `pgd` and `trades`.
    #[config(default = 10)]
    pub attack_steps: usize,
    /// Images held out of the training set for the per-epoch validation check.
    #[config(default = 1000)]
    pub validation: usize,
}

impl TrainConfig {
    /// Checks every parameter's range; the message names the parameter.
    pub fn validate(&self) -> Result<(), attack::ConfigError> {
        let fail = |m: String| Err(attack::ConfigError(m));
        if !(self.epsilon.is_finite() && (0.0..=1.0).contains(&self.epsilon)) {
            return fail(format!("ε = {} is out of range [0, 1]", self.epsilon));
        }
        if self.epochs == 0 || self.epochs > 1000 {
            return fail(format!("epochs = {} is out of range 1..=1000", self.epochs));
        }
        if self.batch_size == 0 || self.batch_size > 4096 {
            return fail(format!("batch size = {} is out of range 1..=4096", self.batch_size));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return fail(format!("learning rate = {} is out of range (0, 1]", self.learning_rate));
        }
        if self.shift > 4 {
            return fail(format!("shift = {} is out of range 0..=4 pixels", self.shift));
        }
        if self.limit == Some(0) {
            return fail("limit = 0 leaves nothing to train on".into());
        }
        if !(0.0..=1.0).contains(&self.lambda) {
            return fail(format!("λ = {} is out of range [0, 1]", self.lambda));
        }
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return fail(format!("β = {} must be ≥ 0", self.beta));
        }
        if self.attack_steps == 0 || self.attack_steps > 1000 {
            return fail(format!("attack steps = {} is out of range 1..=1000", self.attack_steps));
        }
        Ok(())
    }

    /// The learning rate at `progress` ∈ `[0,1]` of the whole run.
    pub fn learning_rate_at(&self, progress: f64) -> f64 {
        if self.cosine {
            self.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * progress.clamp(0.0, 1.0)).cos())
        } else {
            self.learning_rate
        }
    }

    /// Step size of the inner PGD/TRADES attack: 2.5ε/steps (Madry et al.).
    pub fn attack_step_size(&self) -> f32 {
        2.5 * self.epsilon / self.attack_steps as f32
    }

    /// The attack the per-epoch validation check runs: PGD, 10 steps of ε/4, random start.
    pub fn check_attack(&self) -> AttackConfig {
        AttackConfig::new(AttackMethod::Pgd)
            .with_epsilon(self.epsilon)
            .with_steps(10)
            .with_step_size(self.epsilon / 4.0)
            .with_seed(self.seed)
    }
}

/// What happened in one batch.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BatchReport {
    /// Epoch (from 1).
    pub epoch: usize,
    /// Batch within the epoch (from 1).
    pub batch: usize,
    /// Batches in the epoch.
    pub batches: usize,
    /// Images in the batch.
    pub size: usize,
    /// Training loss of the batch.
    pub loss: f32,
    /// Accuracy of the batch's training inputs (adversarial ones for the adversarial defenses).
    pub accuracy: f32,
}

/// The validation check after one epoch.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochReport {
    /// Epoch (from 1).
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f32,
    /// Clean accuracy on the held-out validation images.
    pub validation_accuracy: f32,
    /// Accuracy under the check attack (PGD-10) on the held-out images; `None` for `none`.
    pub validation_robust_accuracy: Option<f32>,
    /// Why training stopped after this epoch, when it stopped early.
    pub stopped: Option<String>,
}

/// Whether robust accuracy `now` is a collapse from the best epoch's `best` (catastrophic
/// overfitting of fast FGSM training): below half of it and more than 20 points under it.
pub fn collapsed(best: f32, now: f32) -> bool {
    now < 0.5 * best && now < best - 0.2
}

/// A training run in progress: the model, the optimizer and the epochs done.
pub struct Trainer {
    config: TrainConfig,
    device: Device,
    model: Classifier,
    optimizer: ModuleOptimizer,
    epochs_done: usize,
    best: Option<(f32, Classifier, usize)>,
    history: Vec<EpochReport>,
}

impl Trainer {
    /// Starts a run from a fresh, seeded model on `device` (the CPU backend or WebGPU).
    pub fn new(config: TrainConfig, device: &Device) -> Result<Self, attack::ConfigError> {
        config.validate()?;
        device.seed(config.seed);
        let model = Classifier::new(config.architecture, &device.clone().autodiff());
        Ok(Self::with_model(config, device, model, 0))
    }

    /// Continues a run from a model that has already trained `epochs_done` epochs (Adam's moments
    /// start afresh).
    pub fn resume(config: TrainConfig, device: &Device, model: Classifier, epochs_done: usize) -> Result<Self, attack::ConfigError> {
        config.validate()?;
        if model.architecture() != config.architecture {
            return Err(attack::ConfigError(format!(
                "cannot resume: the weights are a {} but the run trains a {}",
                model.architecture(),
                config.architecture
            )));
        }
        device.seed(config.seed.wrapping_add(epochs_done as u64));
        let model = model.fork(&device.clone().autodiff()).train();
        Ok(Self::with_model(config, device, model, epochs_done))
    }

    /// Tells a resumed run its best epoch so far (`epoch`, with held-out PGD accuracy `accuracy`
    /// and weights `model`), so that the collapse guard compares against it and can restore it.
    pub fn with_best(mut self, accuracy: f32, model: Classifier, epoch: usize) -> Self {
        let model = model.fork(&self.device.clone().autodiff()).train();
        self.best = Some((accuracy, model, epoch));
        self
    }

    fn with_model(config: TrainConfig, device: &Device, model: Classifier, epochs_done: usize) -> Self {
        Trainer {
            optimizer: AdamConfig::new().init(),
            config,
            device: device.clone(),
            model,
            epochs_done,
            best: None,
            history: Vec::new(),
        }
    }

    /// Epochs finished so far.
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// The epoch the collapse guard would restore and its held-out PGD accuracy (`fgsm-rs` only;
    /// `None` before the first check).
    pub fn best_epoch(&self) -> Option<(usize, f32)> {
        self.best.as_ref().filter(|_| self.config.defense == Defense::FgsmRs).map(|(accuracy, _, epoch)| (*epoch, *accuracy))
    }

    /// The validation checks of the epochs run by this trainer.
    pub fn history(&self) -> &[EpochReport] {
        &self.history
    }

    /// True when all epochs are done or the collapse guard stopped the run.
    pub fn finished(&self) -> bool {
        self.epochs_done >= self.config.epochs || self.history.last().is_some_and(|r| r.stopped.is_some())
    }

    /// The current model in inference mode.
    pub fn model(&self) -> Classifier {
        self.model.valid()
    }

    /// Metadata describing the run so far (accuracies are filled in by evaluation).
    pub fn metadata(&self) -> Metadata {
        Metadata {
            architecture: self.config.architecture,
            defense: self.config.defense.name().into(),
            epsilon: if self.config.defense == Defense::None { 0.0 } else { self.config.epsilon },
            epochs: self.epochs_done,
            seed: self.config.seed,
            clean_accuracy: None,
            robust_accuracy: None,
            robust_attack: None,
        }
    }

    /// The loss to minimise on a batch and the logits of the training inputs it was computed on.
    fn loss(&self, images: Tensor<4>, labels: Tensor<1, Int>, seed: u64) -> (Tensor<1>, Tensor<2>) {
        let c = &self.config;
        let eps = c.epsilon;
        let adversarial = |method: AttackMethod, steps: usize, step_size: f32| {
            let config = AttackConfig::new(method)
                .with_epsilon(eps)
                .with_steps(steps)
                .with_step_size(step_size)
                .with_seed(seed);
            attack::run(&config, &self.model, images.clone(), labels.clone())
        };
        let ce_on = |x: Tensor<4>| {
            let logits = self.model.forward(x);
            (cross_entropy(logits.clone(), labels.clone()).mean(), logits)
        };
        match c.defense {
            Defense::None => ce_on(images.clone()),
            Defense::Mixed => {
                let (clean, _) = ce_on(images.clone());
                let (adv, logits) = ce_on(adversarial(AttackMethod::Fgsm, 1, eps));
                (clean * (1.0 - c.lambda) + adv * c.lambda, logits)
            }
            Defense::FgsmRs => ce_on(adversarial(AttackMethod::Pgd, 1, 1.25 * eps)),
            Defense::Pgd => ce_on(adversarial(AttackMethod::Pgd, c.attack_steps, c.attack_step_size())),
            Defense::Trades => {
                let x_adv = trades::adversarial(&self.model, images.clone(), eps, c.attack_steps, c.attack_step_size(), seed);
                let clean_logits = self.model.forward(images.clone());
                let adv_logits = self.model.forward(x_adv);
                let natural = cross_entropy(clean_logits.clone(), labels.clone()).mean();
                let robust = crate::model::kl_divergence(clean_logits.clone(), adv_logits.clone()).mean();
                (natural + robust * c.beta, adv_logits)
            }
        }
    }

    /// One optimizer step of learning rate `lr` on a batch; returns the batch's loss and the
    /// number of correctly classified training inputs as device tensors (no read).
    pub fn step(&mut self, images: Tensor<4>, labels: Tensor<1, Int>, seed: u64, lr: f64) -> (Tensor<1>, Tensor<1>) {
        let [n, ..] = images.dims();
        let (loss, logits) = self.loss(images, labels.clone(), seed);
        let correct = logits.without_autodiff().argmax(1).reshape([n]).equal(labels).float().sum();
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        // Cloning a module shares its tensors; the optimizer returns the updated one.
        self.model = self.optimizer.step(lr, self.model.clone(), grads);
        (loss.without_autodiff().reshape([1]), correct)
    }

    /// Trains one epoch on `train` (seeded shuffle), reading the loss back after each batch for
    /// `on_batch`, then runs the validation check on `validation`. `on_batch` may wait (a paused
    /// run in the browser) and returns `false` to stop: the epoch is then abandoned and `None`
    /// returned; the model keeps the updates of the batches already run.
    pub async fn train_epoch(
        &mut self,
        train: &Dataset,
        validation: &Dataset,
        mut on_batch: impl AsyncFnMut(BatchReport) -> bool,
    ) -> Result<Option<EpochReport>, ReadError> {
        let epoch = self.epochs_done + 1;
        let batches = train.shuffled_batches(self.config.batch_size, self.config.seed, epoch);
        let total = batches.len();
        let mut loss_sum = 0f64;
        for (i, indices) in batches.iter().enumerate() {
            let seed = self.config.seed ^ ((epoch as u64) << 32) ^ i as u64;
            let device = self.device.clone().autodiff();
            let (images, labels) = match self.config.shift {
                0 => train.batch(indices, &device),
                shift => train.shifted_batch(indices, shift, seed, &device),
            };
            let progress = ((epoch - 1) * total + i) as f64 / (self.config.epochs * total) as f64;
            let (loss, correct) = self.step(images, labels, seed, self.config.learning_rate_at(progress));
            let values = readback::floats(Tensor::cat(vec![loss, correct.reshape([1])], 0)).await?;
            loss_sum += f64::from(values[0]);
            let report = BatchReport { epoch, batch: i + 1, batches: total, size: indices.len(), loss: values[0], accuracy: values[1] / indices.len() as f32 };
            if !on_batch(report).await {
                return Ok(None);
            }
        }
        self.epochs_done = epoch;
        let report = self.check(epoch, (loss_sum / total.max(1) as f64) as f32, validation).await?;
        self.history.push(report.clone());
        Ok(Some(report))
    }

    /// The per-epoch validation check and, for `fgsm-rs`, the collapse guard: when PGD accuracy
    /// falls below half of the best epoch's (and 20 points under it), the best epoch's model is
    /// restored and the run stops.
    async fn check(&mut self, epoch: usize, train_loss: f32, validation: &Dataset) -> Result<EpochReport, ReadError> {
        let clean = eval::clean(&self.model, validation, 256, &self.device).await?;
        let mut report = EpochReport {
            epoch,
            train_loss,
            validation_accuracy: clean.accuracy,
            validation_robust_accuracy: None,
            stopped: None,
        };
        if self.config.defense == Defense::None {
            return Ok(report);
        }
        let robust = eval::robust(&self.model, &self.config.check_attack(), validation, 256, &self.device, |_| {}).await?;
        report.validation_robust_accuracy = Some(robust.robust_accuracy);
        let best_so_far = self.best.as_ref().map_or(0.0, |b| b.0);
        if robust.robust_accuracy >= best_so_far {
            self.best = Some((robust.robust_accuracy, self.model.clone(), epoch));
        } else if self.config.defense == Defense::FgsmRs && collapsed(best_so_far, robust.robust_accuracy) {
            let (best_acc, best_model, best_epoch) = self.best.clone().expect("a best epoch exists");
            report.stopped = Some(format!(
                "catastrophic overfitting: PGD accuracy fell from {:.1}% (epoch {best_epoch}) to {:.1}%; restored epoch {best_epoch}",
                best_acc * 100.0,
                robust.robust_accuracy * 100.0
            ));
            self.model = best_model;
            self.epochs_done = best_epoch;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{mnist, train};

    fn accuracy(model: &Classifier, config: Option<&AttackConfig>) -> f32 {
        let device = Device::flex();
        let test = mnist().test.take(300);
        pollster::block_on(async {
            match config {
                None => eval::clean(model, &test, 300, &device).await.unwrap().accuracy,
                Some(c) => eval::robust(model, c, &test, 300, &device, |_| {}).await.unwrap().robust_accuracy,
            }
        })
    }

    #[test]
    fn standard_training_on_a_subset_reaches_ninety_percent() {
        let model = train(TrainConfig::new(Architecture::Mlp, Defense::None).with_epochs(3).with_limit(Some(10_000)));
        let acc = accuracy(&model, None);
        assert!(acc > 0.9, "test accuracy {acc}");
    }

    #[test]
    fn adversarial_training_beats_standard_training_under_pgd() {
        let base = |defense| TrainConfig::new(Architecture::Mlp, defense).with_epsilon(0.1).with_epochs(2).with_limit(Some(10_000)).with_attack_steps(5);
        let pgd = AttackConfig::new(AttackMethod::Pgd).with_epsilon(0.1).with_steps(20).with_step_size(0.01);
        let standard = accuracy(&train(base(Defense::None)), Some(&pgd));
        for defense in [Defense::Pgd, Defense::Trades, Defense::FgsmRs, Defense::Mixed] {
            let robust = accuracy(&train(base(defense)), Some(&pgd));
            assert!(robust > standard + 0.2, "{defense}: PGD accuracy {robust} vs standard {standard}");
        }
    }

    #[test]
    fn an_epoch_stopped_by_its_callback_is_dropped() {
        let data = mnist();
        let (train, validation) = (data.train.take(1000), data.test.take(100));
        let device = Device::flex();
        let mut trainer = Trainer::new(TrainConfig::new(Architecture::Mlp, Defense::None).with_epochs(2).with_batch_size(100), &device).unwrap();
        let mut batches = Vec::new();
        let report = pollster::block_on(trainer.train_epoch(&train, &validation, async |b| {
            batches.push((b.batch, b.batches, b.size));
            b.batch < 3
        }))
        .unwrap();
        assert!(report.is_none(), "a stopped epoch has no report");
        assert_eq!(batches, vec![(1, 10, 100), (2, 10, 100), (3, 10, 100)], "no batch after the stop");
        assert_eq!(trainer.epochs_done(), 0);
        assert!(trainer.history().is_empty());
        let report = pollster::block_on(trainer.train_epoch(&train, &validation, async |_| true)).unwrap().expect("a finished epoch");
        assert_eq!((report.epoch, trainer.epochs_done()), (1, 1));
    }

    #[test]
    fn a_resumed_run_guards_against_collapse_from_its_best_epoch_before_the_pause() {
        let data = mnist();
        let (train, validation) = (data.train.take(500), data.test.take(100));
        let device = Device::flex();
        let config = TrainConfig::new(Architecture::Mlp, Defense::FgsmRs).with_epsilon(0.1).with_epochs(5);
        let best = Classifier::new(Architecture::Mlp, &device);
        let probe = crate::data::images_tensor(data.test.image(0).to_vec(), &device);
        let best_logits = readback_now(best.forward(probe.clone()));
        // Epoch 3 (before a reload) was "perfectly robust": anything the resumed run reaches now
        // is a collapse against it, so the guard stops and restores epoch 3.
        let fresh = Classifier::new(Architecture::Mlp, &device);
        let mut trainer = Trainer::resume(config, &device, fresh, 3).unwrap().with_best(1.0, best, 3);
        let report = pollster::block_on(trainer.train_epoch(&train, &validation, async |_| true)).unwrap().unwrap();
        assert!(report.stopped.as_deref().is_some_and(|s| s.contains("epoch 3")), "{report:?}");
        assert_eq!(trainer.epochs_done(), 3);
        assert!(trainer.finished());
        assert_eq!(trainer.best_epoch(), Some((3, 1.0)));
        let restored = readback_now(trainer.model().forward(probe));
        assert!(restored.iter().zip(&best_logits).all(|(a, b)| (a - b).abs() < 1e-5), "the best epoch's weights are back");
    }

    fn readback_now(t: Tensor<2>) -> Vec<f32> {
        pollster::block_on(readback::floats(t)).unwrap()
    }

    #[test]
    fn the_collapse_guard_fires_on_a_collapse_and_not_on_noise() {
        assert!(collapsed(0.85, 0.02));
        assert!(collapsed(0.6, 0.25));
        assert!(!collapsed(0.85, 0.80), "a dip of 5 points is noise");
        assert!(!collapsed(0.15, 0.05), "early epochs near zero are not a collapse");
    }

    #[test]
    fn cosine_schedule_decays_from_the_peak_to_zero() {
        let c = TrainConfig::new(Architecture::Mlp, Defense::None).with_learning_rate(0.01);
        assert_eq!(c.learning_rate_at(0.7), 0.01);
        let c = c.with_cosine(true);
        assert!((c.learning_rate_at(0.0) - 0.01).abs() < 1e-12);
        assert!((c.learning_rate_at(0.5) - 0.005).abs() < 1e-12);
        assert!(c.learning_rate_at(1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_training_parameters_are_refused_with_their_name() {
        let base = || TrainConfig::new(Architecture::Cnn, Defense::Pgd);
        assert!(base().validate().is_ok());
        assert!(base().with_epsilon(2.0).validate().unwrap_err().0.contains("ε"));
        assert!(base().with_epochs(0).validate().unwrap_err().0.contains("epochs"));
        assert!(base().with_limit(Some(0)).validate().unwrap_err().0.contains("limit"));
        assert!(base().with_learning_rate(-1.0).validate().unwrap_err().0.contains("learning rate"));
        assert_eq!("fgsm-rs".parse::<Defense>(), Ok(Defense::FgsmRs));
    }
}
