//! [`TrainConfig`]: everything that defines a training run, with each parameter's default and
//! range, and what follows from it (the learning-rate schedule, the inner attacks).

use burn::config::Config;

use super::{Defense, NoiseKind};
use crate::attack::{self, AttackConfig, AttackMethod};
use crate::model::Architecture;
use crate::model::weights::Metadata;

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
    /// Distribution of the `noise` defense's noise: Gaussian of σ `noise_std`, or uniform in the
    /// L∞ ball of radius `epsilon`.
    #[config(default = "NoiseKind::Gaussian")]
    pub noise: NoiseKind,
    /// σ of the `noise` defense's Gaussian noise, in `(0,1]` pixel units (0.3: the per-pixel
    /// scale of the classic MNIST ε, at which digits stay legible).
    #[config(default = 0.3)]
    pub noise_std: f32,
    /// L2 weight decay `W` in `[0,1]`, any defense: Adam's coupled penalty (`W·θ` is added to
    /// every parameter's gradient, i.e. `W/2·‖θ‖²` to the loss, biases included; not AdamW).
    /// 0: off.
    #[config(default = 0.0)]
    pub weight_decay: f32,
    /// Weight λ in `[0,1000]` of the input-gradient penalty, any defense: `λ·mean ‖∇ₓ CE‖₂²`
    /// over the clean training images is added to the loss (finite-difference estimate, see
    /// [`gradient_penalty`](super::gradient_penalty)). 0: off.
    #[config(default = 0.0)]
    pub grad_penalty: f32,
}

impl TrainConfig {
    /// The page's starting point for short runs on subsets: batch 64 and learning rate 0.002
    /// (with the defaults, 128 and 1e-3, one epoch of the MLP on 5,000 images reaches 82–85%;
    /// with these, 89% for seeds 0–2, natively and in the page). Every other value is the
    /// default.
    pub fn interactive(architecture: Architecture, defense: Defense) -> Self {
        TrainConfig::new(architecture, defense).with_batch_size(64).with_learning_rate(0.002)
    }

    /// The run a weights file records, checked: its `training` entry (the whole configuration)
    /// where it has one; otherwise what its other keys say (network, defense, ε, seed), every
    /// other parameter at its default.
    pub fn of_weights(metadata: &Metadata) -> Result<TrainConfig, attack::ConfigError> {
        let config = match &metadata.training {
            Some(json) => serde_json::from_str::<TrainConfig>(json)
                .map_err(|e| attack::ConfigError(format!("the weights file's `training` entry is not a training configuration: {e}")))?,
            None => {
                let defense: Defense = metadata.defense.parse().map_err(attack::ConfigError)?;
                let config = TrainConfig::new(metadata.architecture, defense).with_seed(metadata.seed);
                if defense == Defense::None { config } else { config.with_epsilon(metadata.epsilon) }
            }
        };
        config.validate()?;
        Ok(config)
    }

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
        if !(self.noise_std.is_finite() && self.noise_std > 0.0 && self.noise_std <= 1.0) {
            return fail(format!("noise std σ = {} is out of range (0, 1]", self.noise_std));
        }
        if !(0.0..=1.0).contains(&self.weight_decay) {
            return fail(format!("weight decay = {} is out of range [0, 1]", self.weight_decay));
        }
        if !(0.0..=1000.0).contains(&self.grad_penalty) {
            return fail(format!("gradient penalty = {} is out of range [0, 1000]", self.grad_penalty));
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

    /// The attack a defense trains against: `method` at the run's ε, `steps` steps of
    /// `step_size`, seeded by the batch's `seed`.
    pub fn inner_attack(&self, method: AttackMethod, steps: usize, step_size: f32, seed: u64) -> AttackConfig {
        AttackConfig::new(method).with_epsilon(self.epsilon).with_steps(steps).with_step_size(step_size).with_seed(seed)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weights_file_without_its_run_is_read_from_its_other_keys() {
        let mut metadata = Metadata::untrained(Architecture::Cnn);
        metadata.defense = "trades".into();
        metadata.epsilon = 0.3;
        metadata.seed = 4;
        let config = TrainConfig::of_weights(&metadata).unwrap();
        assert_eq!((config.architecture, config.defense, config.epsilon, config.seed), (Architecture::Cnn, Defense::Trades, 0.3, 4));
        metadata.defense = "adamw".into();
        assert!(TrainConfig::of_weights(&metadata).unwrap_err().0.contains("unknown defense `adamw`"));
        metadata.training = Some("{\"architecture\": 3}".into());
        assert!(TrainConfig::of_weights(&metadata).unwrap_err().0.contains("`training` entry"));
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
        assert!(base().with_noise_std(0.0).validate().unwrap_err().0.contains("noise std"));
        assert!(base().with_noise_std(f32::NAN).validate().unwrap_err().0.contains("noise std"));
        assert!(base().with_weight_decay(-1e-4).validate().unwrap_err().0.contains("weight decay"));
        assert!(base().with_weight_decay(f32::NAN).validate().unwrap_err().0.contains("weight decay"));
        assert!(base().with_grad_penalty(-1.0).validate().unwrap_err().0.contains("gradient penalty"));
        assert!(base().with_grad_penalty(f32::INFINITY).validate().unwrap_err().0.contains("gradient penalty"));
        assert!(base().with_weight_decay(5e-4).with_grad_penalty(1.0).validate().is_ok());
        assert_eq!("fgsm-rs".parse::<Defense>(), Ok(Defense::FgsmRs));
        assert_eq!("noise".parse::<Defense>(), Ok(Defense::Noise));
        assert!(Defense::ALL.contains(&Defense::Noise));
    }
}
