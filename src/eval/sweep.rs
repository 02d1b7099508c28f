//! An evaluation sweep: one model, clean and under every attack configuration, on the first test
//! images, as `advlab eval` prints it and the page's evaluate panel shows it.
//!
//! A sweep is made of independent [`Part`]s (the clean pass or one attack configuration, on one
//! batch of images): each batch's random start is seeded by its index, so a part gives the same
//! outcomes whichever worker runs it and in whatever order. [`assemble`] puts the parts' results
//! together into exactly the table one pass over them gives ([`evaluate_model`] is that pass):
//! the page splits a sweep over several workers this way.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{AttackReport, CleanOutcome, ImageOutcome};
use crate::attack::{self, AttackConfig, AttackMethod};
use crate::data::Dataset;
use crate::model::Classifier;
use crate::device::readback::ReadError;

/// A test image an attack flipped, for the page's gallery.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FlippedImage {
    /// Index into the evaluated images.
    pub index: usize,
    /// Its label.
    pub label: usize,
    /// The prediction on the adversarial image.
    pub adversarial_prediction: usize,
    /// 784 pixels of the clean image, in `[0,1]`.
    pub image: Vec<f32>,
}

/// One model's part of an evaluation sweep: what `advlab eval` prints for it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelEvaluation {
    /// The model's name.
    pub model: String,
    /// Test images evaluated.
    pub n: usize,
    /// Clean accuracy in `[0,1]`.
    pub clean_accuracy: f32,
    /// Mean clean cross-entropy.
    pub clean_loss: f32,
    /// One report per attack configuration, in the order given.
    pub results: Vec<AttackReport>,
    /// Per attack configuration, the first few images the attack flipped.
    pub flipped: Vec<Vec<FlippedImage>>,
}

/// An evaluation sweep as the page's evaluate panel sets it up: every attack at every budget on
/// the first `limit` test images, with the attack settings `advlab eval` takes.
#[derive(burn::config::Config, Debug, PartialEq)]
pub struct SweepConfig {
    /// The attacks, in order.
    pub attacks: Vec<AttackMethod>,
    /// The budgets ε, each in its attack's units (L∞ or per-image L2 radius in `[0,1]` pixel
    /// units; JSMA: the fraction of pixels that may change).
    pub epsilons: Vec<f32>,
    /// Test images: the first `limit`, 1–10,000.
    #[config(default = 200)]
    pub limit: usize,
    /// Iterations of the iterative attacks.
    #[config(default = 40)]
    pub steps: usize,
    /// Step size of PGD and MIM, in pixel units.
    #[config(default = 0.01)]
    pub step_size: f32,
    /// Square's queries, alone or in AutoAttack; `None` = `steps`.
    pub queries: Option<usize>,
}

/// Every attack at every budget, attack by attack: `base`'s other parameters with each method and
/// ε, each checked (the message names the parameter). The sweep's rows, in the page and in
/// `advlab eval`.
pub fn grid(attacks: &[AttackMethod], epsilons: &[f32], base: &AttackConfig) -> Result<Vec<AttackConfig>, attack::ConfigError> {
    let mut configs = Vec::with_capacity(attacks.len() * epsilons.len());
    for &method in attacks {
        for &epsilon in epsilons {
            let config = AttackConfig { method, epsilon, ..base.clone() };
            config.validate()?;
            configs.push(config);
        }
    }
    Ok(configs)
}

impl SweepConfig {
    /// One attack configuration per attack and ε, in that order, each checked (the message
    /// names the parameter).
    pub fn attack_configs(&self) -> Result<Vec<AttackConfig>, attack::ConfigError> {
        let base = AttackConfig::new(AttackMethod::Fgsm).with_steps(self.steps).with_step_size(self.step_size).with_queries(self.queries);
        grid(&self.attacks, &self.epsilons, &base)
    }

    /// Checks the sweep: at least one attack and one ε, 1–10,000 images, every attack
    /// configuration in range.
    pub fn validate(&self) -> Result<(), attack::ConfigError> {
        let fail = |m: &str| Err(attack::ConfigError(m.to_string()));
        if self.attacks.is_empty() {
            return fail("pick at least one attack");
        }
        if self.epsilons.is_empty() {
            return fail("ε list: give at least one ε, e.g. `0.1, 0.3`");
        }
        if !(1..=10_000).contains(&self.limit) {
            return Err(attack::ConfigError(format!("test images = {} is out of range 1..=10000", self.limit)));
        }
        self.attack_configs().map(drop)
    }
}

/// One independent part of a model's sweep: the clean pass (`attack: None`) or attack
/// configuration `attack` (an index into the sweep's configurations), on batch `batch` of the
/// test images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Part {
    /// The attack configuration's index, or `None` for the clean pass.
    pub attack: Option<usize>,
    /// The batch's index: images `batch × size ..` of the evaluated ones.
    pub batch: usize,
}

/// What a part measured, image by image in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PartResult {
    /// The clean pass on the batch.
    Clean(Vec<CleanOutcome>),
    /// An attack on the batch, and the first few images it flipped (at most the gallery's size).
    Attack {
        /// One outcome per image of the batch.
        outcomes: Vec<ImageOutcome>,
        /// The first images of the batch the attack flipped.
        flipped: Vec<FlippedImage>,
    },
}

impl PartResult {
    /// Images the part covered.
    pub fn len(&self) -> usize {
        match self {
            PartResult::Clean(outcomes) => outcomes.len(),
            PartResult::Attack { outcomes, .. } => outcomes.len(),
        }
    }

    /// Whether the part covered no image.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How a model's sweep is cut into parts: the attack configurations, the images (the first ones
/// of the test set), the batch size and how many flipped images to keep per configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// One configuration per attack and ε, in order.
    pub attacks: Vec<AttackConfig>,
    /// Test images evaluated: the first `images`.
    pub images: usize,
    /// Images per batch (the page and `advlab eval` use [`super::BATCH`]).
    pub batch: usize,
    /// Flipped images kept per configuration, for the page's gallery.
    pub gallery: usize,
}

impl Plan {
    /// Checks the plan before a sweep starts: every attack configuration in range, at least
    /// one image, a batch of at least one.
    pub fn check(&self) -> Result<(), String> {
        for config in &self.attacks {
            config.validate().map_err(|e| e.to_string())?;
        }
        if self.images == 0 {
            return Err("an evaluation needs at least one test image".into());
        }
        if self.batch == 0 {
            return Err("a batch holds at least one image".into());
        }
        Ok(())
    }

    /// Batches over the images (the last may be shorter).
    pub fn batches(&self) -> usize {
        self.images.div_ceil(self.batch.max(1))
    }

    /// Images in batch `batch` (0 past the last).
    fn batch_len(&self, batch: usize) -> usize {
        self.images.saturating_sub(batch * self.batch).min(self.batch)
    }

    /// Every part: the clean batches first, then each configuration's batches, in order.
    pub fn parts(&self) -> Vec<Part> {
        let n = self.batches();
        (0..n).map(|batch| Part { attack: None, batch }).chain((0..self.attacks.len()).flat_map(|a| (0..n).map(move |batch| Part { attack: Some(a), batch }))).collect()
    }

    /// Runs one part on `test` (which holds at least the plan's images).
    pub async fn evaluate_part(&self, model: &Classifier, test: &Dataset, part: Part, device: &Device) -> Result<PartResult, SweepError> {
        if self.images > test.len() {
            return Err(SweepError::Plan(format!("the sweep is over {} test images but the test set has {}", self.images, test.len())));
        }
        let len = self.batch_len(part.batch);
        if len == 0 {
            return Err(SweepError::Plan(format!("batch {} does not exist: {} test images make {} batches of {}", part.batch, self.images, self.batches(), self.batch)));
        }
        let start = part.batch * self.batch;
        let indices: Vec<usize> = (start..start + len).collect();
        let (images, labels) = test.batch(&indices, device);
        let Some(a) = part.attack else {
            return Ok(PartResult::Clean(super::clean_batch(model, images, labels).await?));
        };
        let config = self.attacks.get(a).ok_or_else(|| SweepError::Plan(format!("attack configuration {a} does not exist: the sweep has {}", self.attacks.len())))?;
        let outcomes = super::attack_batch(model, &super::for_batch(config, part.batch), images, labels).await?;
        let flipped = outcomes
            .iter()
            .zip(&indices)
            .filter(|(o, _)| super::flipped(o))
            .take(self.gallery)
            .map(|(o, &index)| FlippedImage { index, label: o.label, adversarial_prediction: o.adversarial_prediction, image: test.image(index).to_vec() })
            .collect();
        Ok(PartResult::Attack { outcomes, flipped })
    }

    /// Puts the results of every part (in any order) together into the model's table, exactly
    /// as one pass gives it. Refuses a missing, repeated or misshapen part.
    pub fn assemble(&self, name: &str, results: impl IntoIterator<Item = (Part, PartResult)>) -> Result<ModelEvaluation, String> {
        let n = self.batches();
        let mut clean: Vec<Option<Vec<CleanOutcome>>> = vec![None; n];
        let mut attacked: Vec<Vec<Option<AttackedBatch>>> = vec![vec![None; n]; self.attacks.len()];
        for (part, result) in results {
            if result.len() != self.batch_len(part.batch) || part.attack.is_some_and(|a| a >= self.attacks.len()) {
                return Err(format!("part {part:?} ({} images) does not belong to this sweep ({} images in {n} batches of {}, {} attack configurations)", result.len(), self.images, self.batch, self.attacks.len()));
            }
            let repeated = match (part.attack, result) {
                (None, PartResult::Clean(outcomes)) => clean[part.batch].replace(outcomes).is_some(),
                (Some(a), PartResult::Attack { outcomes, flipped }) => attacked[a][part.batch].replace((outcomes, flipped)).is_some(),
                (_, _) => return Err(format!("part {part:?} came back with the other kind of result")),
            };
            if repeated {
                return Err(format!("part {part:?} came back twice"));
            }
        }
        let missing = |what: &str, batch: usize| format!("the sweep is missing the {what} on batch {batch}");
        let clean: Vec<CleanOutcome> = clean.into_iter().enumerate().map(|(b, c)| c.ok_or_else(|| missing("clean pass", b))).collect::<Result<Vec<_>, _>>()?.concat();
        let clean = super::summarize_clean(&clean);
        let (mut results, mut flipped) = (Vec::new(), Vec::new());
        for (config, batches) in self.attacks.iter().zip(attacked) {
            let (mut outcomes, mut shown) = (Vec::with_capacity(self.images), Vec::new());
            for (b, part) in batches.into_iter().enumerate() {
                let (o, f) = part.ok_or_else(|| missing(config.method.name(), b))?;
                outcomes.extend(o);
                shown.extend(f);
            }
            shown.truncate(self.gallery);
            results.push(super::summarize(config, &outcomes));
            flipped.push(shown);
        }
        Ok(ModelEvaluation { model: name.to_string(), n: clean.n, clean_accuracy: clean.accuracy, clean_loss: clean.loss, results, flipped })
    }
}

/// An attack part's outcomes and flipped images.
type AttackedBatch = (Vec<ImageOutcome>, Vec<FlippedImage>);

/// Evaluates `model` under `plan` (checked first) on `test` in one pass over the parts: clean,
/// then under every attack configuration. `progress` hears the images attacked so far, over all
/// configurations.
pub async fn evaluate_model(name: &str, model: &Classifier, plan: &Plan, test: &Dataset, device: &Device, mut progress: impl FnMut(usize)) -> Result<ModelEvaluation, SweepError> {
    plan.check().map_err(SweepError::Plan)?;
    let mut results = Vec::new();
    let mut done = 0;
    for part in plan.parts() {
        let result = plan.evaluate_part(model, test, part, device).await?;
        if part.attack.is_some() {
            done += result.len();
            progress(done);
        }
        results.push((part, result));
    }
    plan.assemble(name, results).map_err(SweepError::Plan)
}

/// Why a sweep (or one of its parts) could not be run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The plan, or a part of it, does not fit the test set or itself (the message says how).
    #[error("{0}")]
    Plan(String),
    /// A result could not be read back from the device (a lost GPU, say).
    #[error(transparent)]
    Read(#[from] ReadError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::trained_mlp;
    use crate::model::weights::{self, Metadata};

    #[test]
    fn a_sweep_is_every_attack_at_every_budget_and_refuses_bad_ones_by_name() {
        let sweep = SweepConfig::new(vec![AttackMethod::Fgsm, AttackMethod::PgdL2], vec![0.1, 0.3]);
        let configs = sweep.attack_configs().unwrap();
        let plan: Vec<_> = configs.iter().map(|c| (c.method, c.epsilon, c.steps)).collect();
        assert_eq!(plan, vec![(AttackMethod::Fgsm, 0.1, 40), (AttackMethod::Fgsm, 0.3, 40), (AttackMethod::PgdL2, 0.1, 40), (AttackMethod::PgdL2, 0.3, 40)]);
        assert!(sweep.validate().is_ok());
        assert!(sweep.clone().with_limit(0).validate().unwrap_err().0.contains("test images"));
        assert!(SweepConfig { epsilons: vec![], ..sweep.clone() }.validate().unwrap_err().0.contains("ε"));
        assert!(SweepConfig { epsilons: vec![2.0], ..sweep.clone() }.validate().unwrap_err().0.contains("ε = 2"));
        assert!(SweepConfig { attacks: vec![], ..sweep }.validate().unwrap_err().0.contains("attack"));
    }

    #[test]
    fn parts_cover_every_batch_of_the_clean_pass_and_of_each_attack() {
        let plan = Plan { attacks: vec![AttackConfig::new(AttackMethod::Fgsm); 2], images: 300, batch: 128, gallery: 0 }.parts();
        assert_eq!(plan.len(), 9);
        assert_eq!(plan[..3], [0, 1, 2].map(|batch| Part { attack: None, batch }));
        assert_eq!(plan[8], Part { attack: Some(1), batch: 2 });
    }

    #[test]
    fn a_sweep_split_over_workers_gives_the_single_worker_table() {
        let (model, test) = trained_mlp();
        let device = crate::fixtures::device();
        let attacks = vec![
            AttackConfig::new(AttackMethod::Fgsm).with_epsilon(0.1),
            AttackConfig::new(AttackMethod::Pgd).with_epsilon(0.1).with_steps(5),
            AttackConfig::new(AttackMethod::AutoAttack).with_epsilon(0.1).with_steps(3),
        ];
        let plan = Plan { attacks, images: 300, batch: 128, gallery: 4 };
        let single = pollster::block_on(evaluate_model("mlp", &model, &plan, &test.take(300), &device, |_| {})).unwrap();
        assert!(single.results.iter().any(|r| r.robust_accuracy < single.clean_accuracy), "the attacks flip images: {single:?}");
        assert_eq!(single.flipped[1].len(), plan.gallery);

        // Two workers, each with its own copy of the weights and the whole test set, take the
        // parts alternately from the end; their results come back interleaved.
        let bytes = pollster::block_on(weights::to_bytes(&model, &Metadata::untrained(model.architecture()))).unwrap();
        let workers: Vec<Classifier> = (0..2).map(|_| weights::from_bytes(&bytes, &device).unwrap().0).collect();
        let mut parts = plan.parts();
        parts.reverse();
        let mut results: Vec<(Part, PartResult)> =
            parts.iter().enumerate().map(|(k, &part)| (part, pollster::block_on(plan.evaluate_part(&workers[k % 2], &test, part, &device)).unwrap())).collect();
        results.rotate_left(4);
        assert_eq!(plan.assemble("mlp", results.clone()).unwrap(), single);

        let missing = plan.assemble("mlp", results[1..].to_vec()).unwrap_err();
        assert!(missing.contains("missing"), "{missing}");
        let mut twice = results.clone();
        twice.push(results[0].clone());
        assert!(plan.assemble("mlp", twice).unwrap_err().contains("twice"));
        assert!(Plan { images: 200, ..plan.clone() }.assemble("mlp", results).unwrap_err().contains("does not belong"));
        let past = Part { attack: None, batch: 3 };
        assert!(pollster::block_on(plan.evaluate_part(&model, &test, past, &device)).unwrap_err().to_string().contains("does not exist"));
    }
}
