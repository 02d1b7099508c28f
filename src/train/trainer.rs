//! The trainer: one Adam step per batch on the defense's loss (plus the regularisers), the batch
//! losses read back in groups, a diverging epoch restored, and the held-out check after every
//! epoch with, for `fgsm-rs`, the collapse guard. [`TrainingRun`](super::TrainingRun) drives it
//! epoch by epoch.

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor};

use super::{Defense, NoiseKind, TrainConfig, gradient_penalty};
use crate::attack;
use crate::data::Dataset;
use crate::device::readback::{self, ReadError};
use crate::eval;
use crate::model::Classifier;
use crate::model::weights::Metadata;

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

/// A training run in progress: the model, the optimizer and the epochs done.
pub struct Trainer {
    config: TrainConfig,
    device: Device,
    model: Classifier,
    optimizer: ModuleOptimizer,
    epochs_done: usize,
    best: Option<(f32, Classifier, usize)>,
    history: Vec<EpochReport>,
    /// Batches whose losses are read back together (see [`Trainer::read_every`]).
    read_every: usize,
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
        let weight_decay = (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay));
        Trainer {
            optimizer: AdamConfig::new().with_weight_decay(weight_decay).init(),
            config,
            device: device.clone(),
            model,
            epochs_done,
            best: None,
            history: Vec::new(),
            read_every: 1,
        }
    }

    /// Reads the batch losses back `batches` at a time (at least 1; 1 by default) instead of
    /// after every batch: on a GPU each read waits for the queue to drain, so fewer reads keep
    /// it busy. `train_epoch`'s `on_batch` then hears the batches of a group one after another,
    /// and a diverging batch is seen at the end of its group (the epoch is restored all the same).
    pub fn read_every(&mut self, batches: usize) {
        self.read_every = batches.max(1);
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
        let c = &self.config;
        let noise = (c.defense == Defense::Noise).then(|| match c.noise {
            NoiseKind::Gaussian => format!("gaussian std={}", c.noise_std),
            NoiseKind::Uniform => format!("uniform eps={}", c.epsilon),
        });
        Metadata {
            architecture: c.architecture,
            defense: c.defense.name().into(),
            epsilon: if c.defense == Defense::None { 0.0 } else { c.epsilon },
            epochs: self.epochs_done,
            seed: c.seed,
            clean_accuracy: None,
            robust_accuracy: None,
            robust_attack: None,
            noise,
            weight_decay: (c.weight_decay > 0.0).then_some(c.weight_decay),
            grad_penalty: (c.grad_penalty > 0.0).then_some(c.grad_penalty),
            training: Some(serde_json::to_string(c).expect("a training configuration encodes as JSON")),
        }
    }

    /// The defense's loss on a batch plus the input-gradient penalty on its clean images (when
    /// `grad_penalty` > 0), and the logits of the defense's training inputs.
    fn regularised_loss(&self, images: Tensor<4>, labels: Tensor<1, Int>, seed: u64) -> (Tensor<1>, Tensor<2>) {
        let (loss, logits) = defense_loss(&self.model, images.clone(), labels.clone(), &self.config, seed);
        if self.config.grad_penalty > 0.0 {
            let penalty = gradient_penalty::squared_gradient_norms(&self.model, images, labels).mean();
            (loss + penalty * self.config.grad_penalty, logits)
        } else {
            (loss, logits)
        }
    }

    /// One optimizer step of learning rate `lr` on a batch; returns the batch's loss and the
    /// number of correctly classified training inputs as device tensors (no read).
    pub fn step(&mut self, images: Tensor<4>, labels: Tensor<1, Int>, seed: u64, lr: f64) -> (Tensor<1>, Tensor<1>) {
        let [n, ..] = images.dims();
        let (loss, logits) = self.regularised_loss(images, labels.clone(), seed);
        let correct = logits.without_autodiff().argmax(1).reshape([n]).equal(labels).float().sum();
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        // Cloning a module shares its tensors; the optimizer returns the updated one.
        self.model = self.optimizer.step(lr, self.model.clone(), grads);
        (loss.without_autodiff().reshape([1]), correct)
    }

    /// Trains one epoch on `train` (seeded shuffle), reading the loss back after each batch for
    /// `on_batch`, then runs the validation check on `validation`. `on_batch` may wait (a paused
    /// run in the browser) and returns `false` to stop: the epoch is then abandoned and `None`
    /// returned; the model keeps the updates of the batches already run. A diverging epoch (a
    /// NaN or infinite batch loss, or non-finite weights after its last update) stops the run:
    /// the weights of the last finished epoch are restored and the report's `stopped` says so;
    /// `on_batch` never sees a non-finite loss.
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
        // The weights of the last finished epoch, restored if this one diverges.
        let start = self.model.clone();
        // Each batch's loss and number correct, on the device, until the group's read.
        let mut unread = Vec::with_capacity(2 * self.read_every);
        for (i, indices) in batches.iter().enumerate() {
            let seed = self.config.seed ^ ((epoch as u64) << 32) ^ i as u64;
            let device = self.device.clone().autodiff();
            let (images, labels) = match self.config.shift {
                0 => train.batch(indices, &device),
                shift => train.shifted_batch(indices, shift, seed, &device),
            };
            let progress = ((epoch - 1) * total + i) as f64 / (self.config.epochs * total) as f64;
            let (loss, correct) = self.step(images, labels, seed, self.config.learning_rate_at(progress));
            unread.extend([loss, correct.reshape([1])]);
            if unread.len() < 2 * self.read_every && i + 1 < total {
                continue;
            }
            // One read for the group: (loss, correct) of each of its batches.
            let values = readback::floats(Tensor::cat(std::mem::take(&mut unread), 0)).await?;
            let first = i + 1 - values.len() / 2;
            for (k, pair) in values.chunks_exact(2).enumerate() {
                let (b, (loss, correct)) = (first + k, (pair[0], pair[1]));
                if !loss.is_finite() {
                    let what = format!("the loss of batch {} of {total} is {loss}", b + 1);
                    let mean = (b > 0).then(|| (loss_sum / b as f64) as f32);
                    return self.diverged(epoch, start, what, mean, validation).await.map(Some);
                }
                loss_sum += f64::from(loss);
                let size = batches[b].len();
                let report = BatchReport { epoch, batch: b + 1, batches: total, size, loss, accuracy: correct / size as f32 };
                if !on_batch(report).await {
                    return Ok(None);
                }
            }
        }
        if let Some(name) = crate::model::weights::non_finite_tensor(&self.model).await? {
            let what = format!("the last update left non-finite values in `{name}`");
            let mean = (loss_sum / total.max(1) as f64) as f32;
            return self.diverged(epoch, start, what, Some(mean), validation).await.map(Some);
        }
        self.epochs_done = epoch;
        let report = self.check(epoch, (loss_sum / total.max(1) as f64) as f32, validation).await?;
        self.history.push(report.clone());
        Ok(Some(report))
    }

    /// Ends a run whose epoch `epoch` diverged (`what`: the NaN/Inf seen): restores `start`, the
    /// weights of the last finished epoch, and reports why the run stopped. `train_loss` is the
    /// mean loss of the batches before the divergence (the restored model's validation loss
    /// when the first batch diverged), so the report holds only finite numbers.
    async fn diverged(&mut self, epoch: usize, start: Classifier, what: String, train_loss: Option<f32>, validation: &Dataset) -> Result<EpochReport, ReadError> {
        self.model = start;
        let clean = eval::clean(&self.model, validation, 256, &self.device).await?;
        let kept = match self.epochs_done {
            0 => "kept the initial weights (no epoch had finished)".to_string(),
            done => format!("restored epoch {done}"),
        };
        let report = EpochReport {
            epoch,
            train_loss: train_loss.unwrap_or(clean.loss),
            validation_accuracy: clean.accuracy,
            validation_robust_accuracy: None,
            stopped: Some(format!("training diverged in epoch {epoch}: {what}; {kept}. Try a lower learning rate")),
        };
        self.history.push(report.clone());
        Ok(report)
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
        } else if self.config.defense == Defense::FgsmRs && super::collapse::collapsed(best_so_far, robust.robust_accuracy) {
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

/// The loss `config.defense` minimises on a batch of `images` `[N,1,28,28]` with `labels` `[N]`
/// (its ε, λ, β, inner steps and noise from `config`), and the logits `[N,10]` of the training
/// inputs it was computed on (the adversarial ones for the adversarial defenses). `seed` seeds the
/// batch's random starts and noise.
pub fn defense_loss(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>, config: &TrainConfig, seed: u64) -> (Tensor<1>, Tensor<2>) {
    match config.defense {
        Defense::None => super::standard::loss(model, images, labels),
        Defense::Mixed => super::mixed::loss(model, images, labels, config, seed),
        Defense::FgsmRs => super::fgsm_rs::loss(model, images, labels, config, seed),
        Defense::Pgd => super::pgd::loss(model, images, labels, config, seed),
        Defense::Trades => super::trades::loss(model, images, labels, config, seed),
        Defense::Noise => super::noise::loss(model, images, labels, config, seed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::{AttackConfig, AttackMethod};
    use crate::fixtures::{mnist, train};
    use crate::model::Architecture;

    fn accuracy(model: &Classifier, config: Option<&AttackConfig>) -> f32 {
        let device = crate::fixtures::device();
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
        let device = crate::fixtures::device();
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
    fn reading_losses_in_groups_reports_every_batch_with_the_same_numbers() {
        let data = mnist();
        let (train, validation) = (data.train.take(1000), data.test.take(100));
        let device = crate::fixtures::device();
        let config = TrainConfig::new(Architecture::Mlp, Defense::None).with_epochs(1).with_batch_size(100);
        let run = |read_every: usize| {
            let mut trainer = Trainer::new(config.clone(), &device).unwrap();
            trainer.read_every(read_every);
            let mut batches = Vec::new();
            let report = pollster::block_on(trainer.train_epoch(&train, &validation, async |b| {
                batches.push((b.batch, b.size, b.loss, b.accuracy));
                true
            }))
            .unwrap()
            .unwrap();
            (batches, report.train_loss)
        };
        let (one, loss_one) = run(1);
        // 10 batches in groups of 4: two full groups and a last group of 2.
        let (grouped, loss_grouped) = run(4);
        assert_eq!(one.iter().map(|b| b.0).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
        assert_eq!(grouped, one, "the same batches, in order, with the same losses");
        assert_eq!(loss_grouped, loss_one);
    }

    #[test]
    fn a_resumed_run_guards_against_collapse_from_its_best_epoch_before_the_pause() {
        let data = mnist();
        let (train, validation) = (data.train.take(500), data.test.take(100));
        let device = crate::fixtures::device();
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
    fn a_diverging_run_stops_and_keeps_the_last_finite_epoch() {
        let data = mnist();
        let (train, validation) = (data.train.take(500), data.test.take(100));
        let device = crate::fixtures::device();
        let config = TrainConfig::new(Architecture::Mlp, Defense::None).with_epochs(3).with_batch_size(100);
        let mut trainer = Trainer::new(config.clone(), &device).unwrap();
        let first = pollster::block_on(trainer.train_epoch(&train, &validation, async |_| true)).unwrap().unwrap();
        assert!(first.stopped.is_none());
        let probe = crate::data::images_tensor(data.test.image(0).to_vec(), &device);
        let epoch_one = readback_now(trainer.model().forward(probe.clone()));
        // One NaN pixel: the batch holding that image has a NaN loss, and its update would make
        // every weight NaN.
        let mut poisoned = train.clone();
        poisoned.images[7 * crate::data::PIXELS + 300] = f32::NAN;
        let mut losses = Vec::new();
        let report = pollster::block_on(trainer.train_epoch(&poisoned, &validation, async |b| {
            losses.push(b.loss);
            true
        }))
        .unwrap()
        .unwrap();
        let reason = report.stopped.clone().expect("the run stopped");
        assert!(reason.contains("diverged in epoch 2") && reason.contains("NaN") && reason.contains("restored epoch 1"), "{reason}");
        assert!(losses.iter().all(|l| l.is_finite()), "on_batch saw {losses:?}");
        assert!(report.train_loss.is_finite() && report.validation_accuracy > 0.5, "{report:?}");
        assert_eq!(trainer.epochs_done(), 1);
        assert!(trainer.finished());
        assert_eq!(trainer.history().last(), Some(&report));
        let kept = readback_now(trainer.model().forward(probe));
        assert!(kept.iter().zip(&epoch_one).all(|(a, b)| (a - b).abs() < 1e-6), "epoch 1's weights are back");
        let bytes = pollster::block_on(crate::model::weights::to_bytes(&trainer.model(), &trainer.metadata())).unwrap();
        let (_, metadata) = crate::model::weights::from_bytes(&bytes, &device).unwrap();
        assert_eq!(metadata.epochs, 1);

        // Diverging in the first batch of the first epoch keeps the initial weights.
        let mut all_nan = train.clone();
        all_nan.images.fill(f32::NAN);
        let mut fresh = Trainer::new(config, &device).unwrap();
        let report = pollster::block_on(fresh.train_epoch(&all_nan, &validation, async |_| true)).unwrap().unwrap();
        let reason = report.stopped.clone().unwrap();
        assert!(reason.contains("batch 1 of 5 is NaN") && reason.contains("kept the initial weights"), "{reason}");
        assert!(report.train_loss.is_finite(), "{report:?}");
        assert_eq!((fresh.epochs_done(), fresh.finished()), (0, true));
        assert_eq!(pollster::block_on(crate::model::weights::non_finite_tensor(&fresh.model())).unwrap(), None);
    }

    #[test]
    fn noise_training_keeps_clean_accuracy() {
        for noise in NoiseKind::ALL {
            let config = TrainConfig::new(Architecture::Mlp, Defense::Noise).with_noise(noise).with_epochs(3).with_limit(Some(20_000));
            let acc = accuracy(&train(config), None);
            assert!(acc > 0.9, "{noise} noise: test accuracy {acc}");
        }
    }

    /// Mean exact input-gradient norm ‖∇ₓ CE‖₂ over the first 300 test images.
    fn mean_input_gradient_norm(model: &Classifier) -> f32 {
        let device = crate::fixtures::device();
        let indices: Vec<usize> = (0..300).collect();
        let (images, labels) = mnist().test.batch(&indices, &device);
        gradient_penalty::input_gradient_norms(model, images, labels).mean().into_scalar::<f32>()
    }

    #[test]
    fn the_gradient_penalty_lowers_the_input_gradient_norm() {
        let base = || TrainConfig::new(Architecture::Mlp, Defense::None).with_epochs(3).with_limit(Some(10_000));
        let standard = train(base());
        let penalised = train(base().with_grad_penalty(1.0));
        let (g_standard, g_penalised) = (mean_input_gradient_norm(&standard), mean_input_gradient_norm(&penalised));
        assert!(g_penalised < 0.8 * g_standard, "mean ‖∇ₓ CE‖: penalised {g_penalised} vs standard {g_standard}");
        let acc = accuracy(&penalised, None);
        assert!(acc > 0.9, "the penalised model still classifies: test accuracy {acc}");
    }

    /// Σ θ² over the MLP's weight matrices.
    fn squared_weight_norm(model: &Classifier) -> f32 {
        let Classifier::Mlp(mlp) = model else { panic!("the test trains an MLP") };
        let norm = |w: Tensor<2>| -> f32 { w.square().sum().into_scalar() };
        norm(mlp.fc1.weight.val()) + norm(mlp.fc2.weight.val())
    }

    #[test]
    fn weight_decay_lowers_the_weight_norm() {
        let base = || TrainConfig::new(Architecture::Mlp, Defense::None).with_epochs(3).with_limit(Some(10_000));
        let standard = train(base());
        let decayed = train(base().with_weight_decay(0.01));
        let (w_standard, w_decayed) = (squared_weight_norm(&standard), squared_weight_norm(&decayed));
        assert!(w_decayed < 0.5 * w_standard, "Σθ²: decayed {w_decayed} vs standard {w_standard}");
        let acc = accuracy(&decayed, None);
        assert!(acc > 0.9, "the decayed model still classifies: test accuracy {acc}");
    }

    #[test]
    fn the_weights_file_records_the_noise_and_the_regularisers() {
        let device = crate::fixtures::device();
        let config = TrainConfig::new(Architecture::Mlp, Defense::Noise).with_noise_std(0.5).with_weight_decay(1e-4).with_grad_penalty(2.0);
        let trainer = Trainer::new(config, &device).unwrap();
        let metadata = trainer.metadata();
        assert_eq!(metadata.noise.as_deref(), Some("gaussian std=0.5"));
        assert_eq!((metadata.weight_decay, metadata.grad_penalty), (Some(1e-4), Some(2.0)));
        let bytes = pollster::block_on(crate::model::weights::to_bytes(&trainer.model(), &metadata)).unwrap();
        let (_, read) = crate::model::weights::from_bytes(&bytes, &device).unwrap();
        assert_eq!(read, metadata, "the new entries survive a round trip");
        let uniform = TrainConfig::new(Architecture::Mlp, Defense::Noise).with_noise(NoiseKind::Uniform).with_epsilon(0.2);
        assert_eq!(Trainer::new(uniform, &device).unwrap().metadata().noise.as_deref(), Some("uniform eps=0.2"));
        let pgd = TrainConfig::new(Architecture::Mlp, Defense::Pgd).with_epsilon(0.2).with_attack_steps(7);
        let plain = Trainer::new(pgd.clone(), &device).unwrap().metadata();
        assert_eq!((&plain.noise, plain.weight_decay, plain.grad_penalty), (&None, None, None));
        assert_eq!(TrainConfig::of_weights(&plain), Ok(pgd), "the file records the whole run");
    }
}
