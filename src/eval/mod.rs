//! Evaluation: clean accuracy and loss, and per attack and ε the robust accuracy, robust loss,
//! success rate and mean L∞/L2 of the perturbations; for AutoAttack also how many images each of
//! its stages broke.

use std::collections::BTreeMap;

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::attack::projection::{l2_norms, linf_norms};
use crate::attack::{self, AttackConfig, AttackMethod};
use crate::data::Dataset;
use crate::model::{Classifier, cross_entropy};
use crate::device::readback::{self, ReadError};

pub mod sweep;
#[cfg(all(test, feature = "gpu"))]
mod gpu_agreement;

/// Images per batch of an evaluation, unless told otherwise (the CLI's `--batch` and the page).
/// Random starts are seeded per batch, so the page and the CLI agree exactly only when they use
/// the same batch size.
pub const BATCH: usize = 250;

/// Clean accuracy and loss on a dataset.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CleanReport {
    /// Images evaluated.
    pub n: usize,
    /// Fraction classified correctly, in `[0,1]`.
    pub accuracy: f32,
    /// Mean cross-entropy.
    pub loss: f32,
}

/// One attack at one ε on a dataset.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttackReport {
    /// Attack name (`fgsm`, `pgd`, …).
    pub attack: String,
    /// Budget in `[0,1]` pixel units (L∞ or per-image L2, by attack).
    pub eps: f32,
    /// Target class of a targeted attack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<usize>,
    /// Fraction of images classified correctly both clean and under attack, in `[0,1]`.
    pub robust_accuracy: f32,
    /// Mean cross-entropy of the true label on the adversarial images.
    pub robust_loss: f32,
    /// Untargeted: fraction of the correctly classified images that the attack flipped.
    /// Targeted: fraction of the images not already of the target class that it reached.
    pub success_rate: f32,
    /// Mean L∞ norm of the perturbations.
    pub mean_linf: f32,
    /// Mean L2 norm of the perturbations.
    pub mean_l2: f32,
    /// AutoAttack only: how many correctly classified images each stage flipped, by stage name
    /// (`apgd`, `apgd-t`, `square`); they add up to the flipped images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken_by: Option<BTreeMap<String, usize>>,
}

/// Per-image outcome of one attack on one batch, read back from the device.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageOutcome {
    /// True label.
    pub label: usize,
    /// Prediction on the clean image.
    pub clean_prediction: usize,
    /// Prediction on the adversarial image.
    pub adversarial_prediction: usize,
    /// Cross-entropy of the true label on the adversarial image.
    pub adversarial_loss: f32,
    /// L∞ norm of the perturbation.
    pub linf: f32,
    /// L2 norm of the perturbation.
    pub l2: f32,
    /// AutoAttack only: the stage that misclassified the image first (`None` for other attacks,
    /// and when no stage did or the clean image was already wrong).
    pub broken_by: Option<AttackMethod>,
}

/// Attacks one batch and reads back one outcome per image (one read per batch; AutoAttack adds
/// one per stage, see [`attack::autoattack::autoattack_by_stage`]).
pub async fn attack_batch(
    model: &Classifier,
    config: &AttackConfig,
    images: Tensor<4>,
    labels: burn::tensor::Tensor<1, burn::tensor::Int>,
) -> Result<Vec<ImageOutcome>, ReadError> {
    let [n, ..] = images.dims();
    let valid = model.valid();
    let (adversarial, broken_by) = if config.method == AttackMethod::AutoAttack {
        let staged = attack::autoattack::autoattack_by_stage(&valid, images.clone(), labels.clone(), config).await?;
        (staged.adversarial, staged.broken_by)
    } else {
        (attack::run(config, &valid, images.clone(), labels.clone()), vec![None; n])
    };
    let clean_prediction = valid.forward(images.clone()).argmax(1).float().reshape([n, 1]);
    let adv_logits = valid.forward(adversarial.clone());
    let adv_prediction = adv_logits.clone().argmax(1).float().reshape([n, 1]);
    let adv_loss = cross_entropy(adv_logits, labels.clone()).reshape([n, 1]);
    let delta = adversarial - images;
    let linf = linf_norms(delta.clone()).reshape([n, 1]);
    let l2 = l2_norms(delta).reshape([n, 1]);
    let label = labels.float().reshape([n, 1]);
    let table = Tensor::cat(vec![label, clean_prediction, adv_prediction, adv_loss, linf, l2], 1);
    let values = readback::floats(table).await?;
    Ok(values
        .chunks_exact(6)
        .zip(broken_by)
        .map(|(row, broken_by)| ImageOutcome {
            label: row[0] as usize,
            clean_prediction: row[1] as usize,
            adversarial_prediction: row[2] as usize,
            adversarial_loss: row[3],
            linf: row[4],
            l2: row[5],
            broken_by,
        })
        .collect())
}

/// Summarises per-image outcomes of one attack.
pub fn summarize(config: &AttackConfig, outcomes: &[ImageOutcome]) -> AttackReport {
    let n = outcomes.len().max(1) as f32;
    let robust = outcomes
        .iter()
        .filter(|o| o.clean_prediction == o.label && o.adversarial_prediction == o.label)
        .count();
    let (attempted, succeeded) = match config.target {
        None => {
            let correct: Vec<_> = outcomes.iter().filter(|o| o.clean_prediction == o.label).collect();
            (correct.len(), correct.iter().filter(|o| o.adversarial_prediction != o.label).count())
        }
        Some(t) => {
            let eligible: Vec<_> = outcomes.iter().filter(|o| o.label != t).collect();
            (eligible.len(), eligible.iter().filter(|o| o.adversarial_prediction == t).count())
        }
    };
    // Summed in f64: 10,000 additions in f32 drift by ~1e-4.
    let mean = |f: fn(&ImageOutcome) -> f32| (outcomes.iter().map(|o| f64::from(f(o))).sum::<f64>() / f64::from(n)) as f32;
    let broken_by = (config.method == AttackMethod::AutoAttack).then(|| {
        attack::autoattack::STAGES
            .iter()
            .map(|&stage| (stage.name().to_string(), outcomes.iter().filter(|o| flipped(o) && o.broken_by == Some(stage)).count()))
            .collect()
    });
    AttackReport {
        attack: config.method.name().to_string(),
        eps: config.epsilon,
        target: config.target,
        robust_accuracy: robust as f32 / n,
        robust_loss: mean(|o| o.adversarial_loss),
        success_rate: if attempted == 0 { 0.0 } else { succeeded as f32 / attempted as f32 },
        mean_linf: mean(|o| o.linf),
        mean_l2: mean(|o| o.l2),
        broken_by,
    }
}

/// Per-image result of the clean pass: whether the model is right, and its cross-entropy.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CleanOutcome {
    /// The prediction is the label.
    pub correct: bool,
    /// Cross-entropy of the label.
    pub loss: f32,
}

/// Classifies one batch and reads back one clean outcome per image (one read).
pub async fn clean_batch(model: &Classifier, images: Tensor<4>, labels: Tensor<1, burn::tensor::Int>) -> Result<Vec<CleanOutcome>, ReadError> {
    let [n, ..] = images.dims();
    let logits = model.valid().forward(images);
    let hits = logits.clone().argmax(1).reshape([n]).equal(labels.clone()).float();
    let table = Tensor::cat(vec![hits.reshape([n, 1]), cross_entropy(logits, labels).reshape([n, 1])], 1);
    let values = readback::floats(table).await?;
    Ok(values.chunks_exact(2).map(|r| CleanOutcome { correct: r[0] > 0.5, loss: r[1] }).collect())
}

/// Summarises the clean outcomes of `n` images (accuracy, and the loss summed in f64 in order).
pub fn summarize_clean(outcomes: &[CleanOutcome]) -> CleanReport {
    let n = outcomes.len();
    let correct = outcomes.iter().filter(|o| o.correct).count();
    let loss: f64 = outcomes.iter().map(|o| f64::from(o.loss)).sum();
    CleanReport { n, accuracy: correct as f32 / n.max(1) as f32, loss: (loss / n.max(1) as f64) as f32 }
}

/// Clean accuracy and mean loss of `model` on `data`, in batches of `batch`.
pub async fn clean(model: &Classifier, data: &Dataset, batch: usize, device: &Device) -> Result<CleanReport, ReadError> {
    let mut outcomes = Vec::with_capacity(data.len());
    for indices in data.sequential_batches(batch) {
        let (images, labels) = data.batch(&indices, device);
        outcomes.extend(clean_batch(model, images, labels).await?);
    }
    Ok(summarize_clean(&outcomes))
}

/// `config` as it runs on batch `index` of an evaluation: seeded `config.seed + index`.
pub fn for_batch(config: &AttackConfig, index: usize) -> AttackConfig {
    config.clone().with_seed(config.seed.wrapping_add(index as u64))
}

/// Runs one attack over `data` in batches and returns every image's outcome, in order; each
/// batch gets its own seed (`config.seed + batch index`), so results depend on the batch size but
/// not on the backend. `progress` is called with the number of images done after every batch.
pub async fn outcomes(
    model: &Classifier,
    config: &AttackConfig,
    data: &Dataset,
    batch: usize,
    device: &Device,
    mut progress: impl FnMut(usize),
) -> Result<Vec<ImageOutcome>, ReadError> {
    let mut outcomes = Vec::with_capacity(data.len());
    for (i, indices) in data.sequential_batches(batch).into_iter().enumerate() {
        let (images, labels) = data.batch(&indices, device);
        outcomes.extend(attack_batch(model, &for_batch(config, i), images, labels).await?);
        progress(outcomes.len());
    }
    Ok(outcomes)
}

/// Runs one attack over `data` in batches (see [`outcomes`]) and summarises it.
pub async fn robust(
    model: &Classifier,
    config: &AttackConfig,
    data: &Dataset,
    batch: usize,
    device: &Device,
    progress: impl FnMut(usize),
) -> Result<AttackReport, ReadError> {
    Ok(summarize(config, &outcomes(model, config, data, batch, device, progress).await?))
}

/// Whether an outcome is a successful untargeted attack: right on the clean image, wrong on the
/// adversarial one.
pub fn flipped(outcome: &ImageOutcome) -> bool {
    outcome.clean_prediction == outcome.label && outcome.adversarial_prediction != outcome.label
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::AttackMethod;

    fn outcome(label: usize, clean: usize, adversarial: usize) -> ImageOutcome {
        ImageOutcome { label, clean_prediction: clean, adversarial_prediction: adversarial, adversarial_loss: 1.0, linf: 0.3, l2: 5.0, broken_by: None }
    }

    #[test]
    fn robust_accuracy_needs_both_right_and_success_counts_only_correct_images() {
        let config = AttackConfig::new(AttackMethod::Pgd);
        // Right and kept; right and flipped; wrong clean (not robust, not an attempt); flipped.
        let report = summarize(&config, &[outcome(1, 1, 1), outcome(2, 2, 3), outcome(3, 5, 3), outcome(4, 4, 0)]);
        assert_eq!(report.robust_accuracy, 0.25);
        assert!((report.success_rate - 2.0 / 3.0).abs() < 1e-6);
        let targeted = summarize(&config.with_target(Some(3)), &[outcome(1, 1, 3), outcome(2, 2, 2), outcome(3, 3, 3)]);
        assert_eq!(targeted.success_rate, 0.5, "images of the target class are not attempts");
    }

    #[test]
    fn autoattack_counts_the_images_each_stage_flipped_and_other_reports_keep_their_fields() {
        let by = |o: ImageOutcome, stage: AttackMethod| ImageOutcome { broken_by: Some(stage), ..o };
        let outcomes = [
            by(outcome(1, 1, 2), AttackMethod::Apgd),
            by(outcome(2, 2, 3), AttackMethod::Apgd),
            by(outcome(3, 3, 4), AttackMethod::Square),
            outcome(4, 4, 4),
            outcome(5, 6, 6),
        ];
        let report = summarize(&AttackConfig::new(AttackMethod::AutoAttack), &outcomes);
        let counts: Vec<(String, usize)> = report.broken_by.clone().unwrap().into_iter().collect();
        assert_eq!(counts, vec![("apgd".into(), 2), ("apgd-t".into(), 0), ("square".into(), 1)]);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["broken_by"]["square"], 1);
        let pgd = serde_json::to_value(summarize(&AttackConfig::new(AttackMethod::Pgd), &outcomes)).unwrap();
        let mut keys: Vec<&String> = pgd.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["attack", "eps", "mean_l2", "mean_linf", "robust_accuracy", "robust_loss", "success_rate"], "the eval JSON contract");
    }

    #[test]
    fn flipped_means_right_before_and_wrong_after() {
        assert!(flipped(&outcome(1, 1, 2)));
        assert!(!flipped(&outcome(1, 1, 1)), "kept");
        assert!(!flipped(&outcome(1, 3, 2)), "wrong before the attack: nothing to flip");
    }

    #[test]
    fn outcomes_come_in_data_order_and_summarise_to_the_robust_report() {
        let (model, test) = crate::fixtures::trained_mlp();
        let test = test.take(300);
        let device = crate::fixtures::device();
        let config = AttackConfig::new(AttackMethod::Pgd).with_epsilon(0.1).with_steps(5);
        let (outcomes, report) = pollster::block_on(async {
            let mut seen = Vec::new();
            let outcomes = outcomes(&model, &config, &test, 128, &device, |n| seen.push(n)).await.unwrap();
            assert_eq!(seen, vec![128, 256, 300], "progress after every batch");
            (outcomes, robust(&model, &config, &test, 128, &device, |_| {}).await.unwrap())
        });
        assert_eq!(outcomes.len(), 300);
        assert!(outcomes.iter().zip(&test.labels).all(|(o, &l)| o.label == usize::from(l)), "outcome i is test image i");
        assert_eq!(summarize(&config, &outcomes), report);
    }

    #[test]
    fn means_over_the_full_test_set_do_not_drift() {
        let outcomes = vec![outcome(1, 1, 2); 10_000];
        let report = summarize(&AttackConfig::new(AttackMethod::Pgd), &outcomes);
        assert!((report.mean_linf - 0.3).abs() < 1e-6, "{}", report.mean_linf);
    }
}
