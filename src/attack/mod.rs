//! Adversarial attacks, batched and seeded. Every attack returns images inside the `[0,1]` box
//! and inside its ε-ball (L∞ for `fgsm`, `pgd`, `mim`, `apgd`, `apgd-t`, `square`, `autoattack`;
//! L2 for `pgd-l2`, `deepfool`, `cw`; L0 for `jsma`), with ε in `[0,1]` pixel units (an L2 budget
//! is per image; an L0 budget is the fraction of the 784 pixels that may change). DeepFool and
//! C&W look for the smallest perturbation; a result larger than ε is scaled back onto the ε-ball.
//!
//! The attacks never read tensors back to the host, so they run unchanged on WebGPU. (AutoAttack
//! has a second entry point, [`autoattack::autoattack_by_stage`], that reads one mask back per
//! stage to attack only the images still robust.)

pub mod apgd;
pub mod autoattack;
pub mod cw;
pub mod deepfool;
pub mod fgsm;
pub mod goal;
pub mod jsma;
pub mod mim;
pub mod noise;
pub mod norms;
pub mod pgd;
pub mod progress;
pub mod projection;
pub mod square;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Int, Tensor};

use crate::model::Classifier;
pub use goal::{Goal, Loss};
pub use norms::Norms;
pub use projection::Norm;

choices! {
    /// The attacks advlab implements.
    pub enum AttackMethod ("attack") {
        /// Fast Gradient Sign Method (Goodfellow et al. 2015): one signed-gradient step of size ε.
        Fgsm = "fgsm",
        /// Projected gradient descent in L∞ (Madry et al. 2018), random start unless disabled
        /// (then it is BIM, Kurakin et al.), with restarts.
        Pgd = "pgd",
        /// Projected gradient descent in L2 with normalised-gradient steps.
        PgdL2 = "pgd-l2",
        /// Momentum Iterative Method (Dong et al. 2018), L∞.
        Mim = "mim",
        /// DeepFool (Moosavi-Dezfooli et al. 2016), L2, minimal perturbation with overshoot.
        DeepFool = "deepfool",
        /// Carlini–Wagner L2 (2017): tanh-space Adam, binary search over c, confidence κ.
        CarliniWagner = "cw",
        /// Auto-PGD with cross-entropy (Croce & Hein 2020): step-size schedule with checkpoints,
        /// momentum and restarts; the strongest evaluation attack here.
        Apgd = "apgd",
        /// Targeted APGD on the DLR loss (Croce & Hein 2020), L∞: one run towards each of the most
        /// likely other classes, per image the most successful kept. It picks its own targets, so
        /// as a method it is untargeted.
        ApgdT = "apgd-t",
        /// Square attack (Andriushchenko et al. 2020), L∞: random search with square-shaped updates
        /// on the margin loss; it only queries the logits, so masked gradients do not stop it.
        Square = "square",
        /// AutoAttack (Croce & Hein 2020), L∞: APGD-CE, then APGD-T, then Square, each on the images
        /// the previous stages left correctly classified; per image the first success is kept.
        AutoAttack = "autoattack",
        /// Jacobian-based saliency map attack (Papernot et al. 2016), L0, targeted: raises pairs of
        /// pixels to 1 chosen by their saliency for the target class.
        Jsma = "jsma",
    }
}

impl AttackMethod {
    /// The norm whose ε-ball bounds this attack's perturbation.
    pub fn norm(self) -> Norm {
        match self {
            AttackMethod::Fgsm
            | AttackMethod::Pgd
            | AttackMethod::Mim
            | AttackMethod::Apgd
            | AttackMethod::ApgdT
            | AttackMethod::Square
            | AttackMethod::AutoAttack => Norm::Linf,
            AttackMethod::PgdL2 | AttackMethod::DeepFool | AttackMethod::CarliniWagner => Norm::L2,
            AttackMethod::Jsma => Norm::L0,
        }
    }

    /// Whether `restarts` applies: independent random starts of PGD L∞/L2, APGD, APGD-T, Square
    /// and AutoAttack's stages, the best per image kept.
    pub fn uses_restarts(self) -> bool {
        matches!(
            self,
            AttackMethod::Pgd | AttackMethod::PgdL2 | AttackMethod::Apgd | AttackMethod::ApgdT | AttackMethod::Square | AttackMethod::AutoAttack
        )
    }

    /// Whether the attack has a targeted variant (FGSM, PGD L∞/L2, MIM, C&W and JSMA do).
    pub fn supports_target(self) -> bool {
        !matches!(
            self,
            AttackMethod::DeepFool | AttackMethod::Apgd | AttackMethod::ApgdT | AttackMethod::Square | AttackMethod::AutoAttack
        )
    }
}

/// One attack and its parameters. Fields an attack does not use are ignored by it.
#[derive(Config, Debug, PartialEq)]
pub struct AttackConfig {
    /// The attack.
    pub method: AttackMethod,
    /// Perturbation budget in `[0,1]` pixel units: L∞ radius for L∞ attacks, per-image L2 radius
    /// for L2 attacks; for JSMA (L0) the fraction of the 784 pixels that may change, at most
    /// `⌈ε·784⌉` of them.
    #[config(default = 0.3)]
    pub epsilon: f32,
    /// Iterations (PGD, MIM, APGD, APGD-T per target, DeepFool; C&W: Adam steps per
    /// binary-search step; Square: queries). AutoAttack gives each stage this many. JSMA's
    /// iterations follow from its L0 budget instead.
    #[config(default = 40)]
    pub steps: usize,
    /// Step size in pixel units (PGD L∞, MIM; PGD L2 uses it as an L2 step). APGD and APGD-T
    /// adapt their own; Square and JSMA take no gradient steps.
    #[config(default = 0.01)]
    pub step_size: f32,
    /// Start PGD L∞/L2 at a uniform random point of the ε-ball (Madry); `false` gives BIM.
    #[config(default = true)]
    pub random_start: bool,
    /// Independent runs of PGD/APGD/APGD-T (per target)/Square; per image the most successful one
    /// is kept.
    #[config(default = 1)]
    pub restarts: usize,
    /// Target class 0–9 for a targeted attack (FGSM, PGD, PGD L2, MIM, C&W, JSMA); `None` =
    /// untargeted (JSMA then aims at the most likely class other than the label).
    pub target: Option<usize>,
    /// Seed of the random starts (and of Square's random search).
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
    /// APGD-T's target classes: the runs aim at the 1st, 2nd, … most likely classes other than
    /// the label, this many of them (1–9; AutoAttack's standard is 9).
    #[config(default = 9)]
    pub target_classes: usize,
    /// Square's initial fraction p of the image a square covers, in `(0, 1]`; the schedule
    /// halves it as the queries go (AutoAttack's value 0.8).
    #[config(default = 0.8)]
    pub p_init: f32,
    /// Square's queries, alone or as AutoAttack's last stage; `None` = `steps`. AutoAttack's
    /// reference ("standard") version runs 100 APGD iterations and 5,000 Square queries.
    pub queries: Option<usize>,
}

/// An attack parameter outside its range; the message names the parameter and the range.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl AttackConfig {
    /// The iterations an attack may take (and Square's queries): 1–10,000. Every front end (the
    /// CLI, the forms, the share link) checks against this range, through [`Self::validate`].
    pub const STEPS: std::ops::RangeInclusive<usize> = 1..=10_000;

    /// The largest ε `method` takes: 28 for the L2 attacks (an L2 radius in pixel units; the L2
    /// length of an all-white image), 1 for the others (an L∞ radius in pixel units, or JSMA's
    /// fraction of the pixels). The ε slider's range is `0..=max_epsilon`.
    pub fn max_epsilon(method: AttackMethod) -> f32 {
        if method.norm() == Norm::L2 { 28.0 } else { 1.0 }
    }

    /// Square's queries: `queries` when set, else `steps`.
    pub fn square_queries(&self) -> usize {
        self.queries.unwrap_or(self.steps)
    }

    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |m: String| Err(ConfigError(m));
        let max_eps = Self::max_epsilon(self.method);
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0 && self.epsilon <= max_eps) {
            return fail(format!("ε = {} is out of range: {} needs 0 ≤ ε ≤ {max_eps}", self.epsilon, self.method));
        }
        let (first, last) = (Self::STEPS.start(), Self::STEPS.end());
        if !Self::STEPS.contains(&self.steps) {
            return fail(format!("steps = {} is out of range {first}..={last}", self.steps));
        }
        if let Some(q) = self.queries.filter(|q| !Self::STEPS.contains(q)) {
            return fail(format!("queries = {q} is out of range {first}..={last}"));
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
        if !(1..=9).contains(&self.target_classes) {
            return fail(format!("target classes = {} is out of range 1..=9", self.target_classes));
        }
        if !(self.p_init.is_finite() && self.p_init > 0.0 && self.p_init <= 1.0) {
            return fail(format!("p_init = {} is out of range (0, 1]", self.p_init));
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
        AttackMethod::ApgdT => apgd::apgd_targeted(&model, images.clone(), &goal, config),
        AttackMethod::Square => square::square(&model, images.clone(), &goal, config),
        AttackMethod::AutoAttack => autoattack::autoattack(&model, images.clone(), goal.labels.clone(), config),
        AttackMethod::Jsma => jsma::jsma(&model, images.clone(), &goal, config),
    };
    projection::project(adversarial, images, config.method.norm(), config.epsilon)
}

#[cfg(test)]
mod tests;
