//! Adversarial attacks, batched and seeded. Every attack returns images inside the `[0,1]` box
//! and inside its ε-ball (L∞ for `fgsm`, `pgd`, `mim`, `apgd`; L2 for `pgd-l2`, `deepfool`, `cw`),
//! with ε in `[0,1]` pixel units (an L2 budget is per image). DeepFool and C&W look for the
//! smallest perturbation; a result larger than ε is scaled back onto the ε-ball.
//!
//! The attacks never read tensors back to the host, so they run unchanged on WebGPU.

pub mod apgd;
pub mod cw;
pub mod deepfool;
pub mod fgsm;
pub mod goal;
pub mod mim;
pub mod noise;
pub mod pgd;
pub mod projection;

use std::fmt;
use std::str::FromStr;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Int, Tensor};

use crate::model::Classifier;
pub use goal::Goal;
pub use projection::Norm;

/// The attacks advlab implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum AttackMethod {
    /// Fast Gradient Sign Method (Goodfellow et al. 2015): one signed-gradient step of size ε.
    #[serde(rename = "fgsm")]
    Fgsm,
    /// Projected gradient descent in L∞ (Madry et al. 2018), random start unless disabled
    /// (then it is BIM, Kurakin et al.), with restarts.
    #[serde(rename = "pgd")]
    Pgd,
    /// Projected gradient descent in L2 with normalised-gradient steps.
    #[serde(rename = "pgd-l2")]
    PgdL2,
    /// Momentum Iterative Method (Dong et al. 2018), L∞.
    #[serde(rename = "mim")]
    Mim,
    /// DeepFool (Moosavi-Dezfooli et al. 2016), L2, minimal perturbation with overshoot.
    #[serde(rename = "deepfool")]
    DeepFool,
    /// Carlini–Wagner L2 (2017): tanh-space Adam, binary search over c, confidence κ.
    #[serde(rename = "cw")]
    CarliniWagner,
    /// Auto-PGD with cross-entropy (Croce & Hein 2020): step-size schedule with checkpoints,
    /// momentum and restarts; the strongest evaluation attack here.
    #[serde(rename = "apgd")]
    Apgd,
}

impl AttackMethod {
    /// Every attack, in the order the CLI and the page list them.
    pub const ALL: [AttackMethod; 7] = [
        AttackMethod::Fgsm,
        AttackMethod::Pgd,
        AttackMethod::PgdL2,
        AttackMethod::Mim,
        AttackMethod::DeepFool,
        AttackMethod::CarliniWagner,
        AttackMethod::Apgd,
    ];

    /// The name used by the CLI, share links and the page (`fgsm`, `pgd`, `pgd-l2`, …).
    pub fn name(self) -> &'static str {
        match self {
            AttackMethod::Fgsm => "fgsm",
            AttackMethod::Pgd => "pgd",
            AttackMethod::PgdL2 => "pgd-l2",
            AttackMethod::Mim => "mim",
            AttackMethod::DeepFool => "deepfool",
            AttackMethod::CarliniWagner => "cw",
            AttackMethod::Apgd => "apgd",
        }
    }

    /// The norm whose ε-ball bounds this attack's perturbation.
    pub fn norm(self) -> Norm {
        match self {
            AttackMethod::Fgsm | AttackMethod::Pgd | AttackMethod::Mim | AttackMethod::Apgd => Norm::Linf,
            AttackMethod::PgdL2 | AttackMethod::DeepFool | AttackMethod::CarliniWagner => Norm::L2,
        }
    }

    /// Whether the attack has a targeted variant (FGSM, PGD L∞/L2, MIM and C&W do).
    pub fn supports_target(self) -> bool {
        !matches!(self, AttackMethod::DeepFool | AttackMethod::Apgd)
    }
}

impl fmt::Display for AttackMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AttackMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AttackMethod::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let names: Vec<_> = AttackMethod::ALL.iter().map(|m| m.name()).collect();
            format!("unknown attack `{s}` (expected one of {})", names.join(", "))
        })
    }
}

/// One attack and its parameters. Fields an attack does not use are ignored by it.
#[derive(Config, Debug, PartialEq)]
pub struct AttackConfig {
    /// The attack.
    pub method: AttackMethod,
    /// Perturbation budget in `[0,1]` pixel units: L∞ radius for L∞ attacks, per-image L2 radius
    /// for L2 attacks.
    #[config(default = 0.3)]
    pub epsilon: f32,
    /// Iterations (PGD, MIM, APGD, DeepFool; C&W: Adam steps per binary-search step).
    #[config(default = 40)]
    pub steps: usize,
    /// Step size in pixel units (PGD L∞, MIM; PGD L2 uses it as an L2 step). APGD adapts its own.
    #[config(default = 0.01)]
    pub step_size: f32,
    /// Start PGD L∞/L2 at a uniform random point of the ε-ball (Madry); `false` gives BIM.
    #[config(default = true)]
    pub random_start: bool,
    /// Independent runs of PGD/APGD; per image the most successful one is kept.
    #[config(default = 1)]
    pub restarts: usize,
    /// Target class 0–9 for a targeted attack (FGSM, PGD, PGD L2, MIM, C&W); `None` = untargeted.
    pub target: Option<usize>,
    /// Seed of the random start.
    #[config(default = 0)]
    pub seed: u64,
    /// MIM's momentum decay μ.
    #[config(default = 1.0)]
    pub decay: f32,
    /// DeepFool's overshoot.
    #[config(default = 0.02)]
    pub overshoot: f32,
    /// C&W's confidence margin κ (in logits).
    #[config(default = 0.0)]
    pub confidence: f32,
    /// C&W's binary-search steps over the constant c.
    #[config(default = 5)]
    pub binary_steps: usize,
    /// C&W's initial constant c.
    #[config(default = 1.0)]
    pub initial_const: f32,
    /// C&W's Adam learning rate (in tanh space).
    #[config(default = 0.1)]
    pub learning_rate: f32,
}

/// An attack parameter outside its range; the message names the parameter and the range.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl AttackConfig {
    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |m: String| Err(ConfigError(m));
        let max_eps = if self.method.norm() == Norm::Linf { 1.0 } else { 28.0 };
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0 && self.epsilon <= max_eps) {
            return fail(format!("ε = {} is out of range: {} needs 0 ≤ ε ≤ {max_eps}", self.epsilon, self.method));
        }
        if self.steps == 0 || self.steps > 10_000 {
            return fail(format!("steps = {} is out of range 1..=10000", self.steps));
        }
        if !(self.step_size.is_finite() && self.step_size > 0.0 && self.step_size <= max_eps) {
            return fail(format!("step size = {} is out of range (0, {max_eps}]", self.step_size));
        }
        if self.restarts == 0 || self.restarts > 100 {
            return fail(format!("restarts = {} is out of range 1..=100", self.restarts));
        }
        if let Some(t) = self.target {
            if t > 9 {
                return fail(format!("target = {t} is not a digit 0–9"));
            }
            if !self.method.supports_target() {
                return fail(format!("{} has no targeted variant", self.method));
            }
        }
        if !(self.decay.is_finite() && self.decay >= 0.0) {
            return fail(format!("decay = {} must be ≥ 0", self.decay));
        }
        if !(self.overshoot.is_finite() && (0.0..=1.0).contains(&self.overshoot)) {
            return fail(format!("overshoot = {} is out of range [0, 1]", self.overshoot));
        }
        if !(self.confidence.is_finite() && self.confidence >= 0.0) {
            return fail(format!("confidence κ = {} must be ≥ 0", self.confidence));
        }
        if self.binary_steps == 0 || self.binary_steps > 20 {
            return fail(format!("binary steps = {} is out of range 1..=20", self.binary_steps));
        }
        if !(self.initial_const.is_finite() && self.initial_const > 0.0) {
            return fail(format!("initial constant c = {} must be > 0", self.initial_const));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return fail(format!("learning rate = {} must be > 0", self.learning_rate));
        }
        Ok(())
    }
}

/// Runs the attack on `images` `[N,1,28,28]` in `[0,1]` with true `labels` `[N]` and returns
/// the adversarial images (same shape, same device). The model is used in inference mode
/// whatever mode it is in. Call [`AttackConfig::validate`] first on untrusted parameters.
pub fn run(config: &AttackConfig, model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>) -> Tensor<4> {
    let model = model.valid();
    let images = images.without_autodiff();
    let goal = Goal::new(labels, config.target);
    let adversarial = match config.method {
        AttackMethod::Fgsm => fgsm::fgsm(&model, images.clone(), &goal, config.epsilon),
        AttackMethod::Pgd | AttackMethod::PgdL2 => pgd::pgd(&model, images.clone(), &goal, config),
        AttackMethod::Mim => mim::mim(&model, images.clone(), &goal, config),
        AttackMethod::DeepFool => deepfool::deepfool(&model, images.clone(), &goal, config),
        AttackMethod::CarliniWagner => cw::carlini_wagner(&model, images.clone(), &goal, config),
        AttackMethod::Apgd => apgd::apgd(&model, images.clone(), &goal, config),
    };
    projection::project(adversarial, images, config.method.norm(), config.epsilon)
}

#[cfg(test)]
mod tests;
