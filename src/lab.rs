//! One image in the lab, as the CLI's `attack` and the page's engine both run it: its class
//! probabilities, and the image after an attack with its probabilities and the norms of the
//! perturbation, each with one read back. The worker only routes messages and the CLI only prints.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::attack::{self, AttackConfig, AttackMethod, Norms};
use crate::data::{PIXELS, images_tensor};
use crate::device::readback::{self, ReadError};
use crate::model::Classifier;

/// Why one image could not be classified or attacked.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A malformed image or label, or an attack parameter out of range (the message names it).
    #[error("{0}")]
    Input(String),
    /// The result could not be read back from the device (a lost GPU, say).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The model's outputs are NaN or infinite: its weights are broken.
    #[error("the model's outputs are not finite numbers (NaN or ∞): its weights are broken, e.g. by a diverged training run")]
    NotFinite,
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
pub async fn probabilities(model: &Classifier, image: &[f32], device: &Device) -> Result<Vec<f32>, LabError> {
    if image.len() != PIXELS {
        return Err(LabError::Input(format!("an image has 784 pixels, not {}", image.len())));
    }
    let values = readback::floats(model.valid().probabilities(images_tensor(image.to_vec(), device))).await?;
    finite(values)
}

fn finite(probabilities: Vec<f32>) -> Result<Vec<f32>, LabError> {
    if probabilities.iter().all(|p| p.is_finite()) { Ok(probabilities) } else { Err(LabError::NotFinite) }
}

/// Attacks one 28×28 image (784 pixels in `[0,1]`) whose true class (or, for a drawing, the
/// class the attack moves away from) is `label` 0–9, with one read back for the result.
pub async fn attack_image(model: &Classifier, config: &AttackConfig, image: &[f32], label: usize, device: &Device) -> Result<AttackedImage, LabError> {
    config.validate().map_err(|e| LabError::Input(e.to_string()))?;
    if image.len() != PIXELS || label > 9 {
        return Err(LabError::Input(format!("an attack needs 784 pixels and a label 0–9, not {} pixels and {label}", image.len())));
    }
    let x = images_tensor(image.to_vec(), device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![label as i64], [1]), device);
    let model = model.valid();
    let (adversarial, broken_by) = if config.method == AttackMethod::AutoAttack {
        // Stage by stage, as `advlab eval` runs it, so that the report says which stage broke it.
        let staged = attack::autoattack::autoattack_by_stage(&model, x, y, config).await?;
        (staged.adversarial, staged.broken_by.first().copied().flatten())
    } else {
        (attack::run(config, &model, x, y), None)
    };
    // One read: the 784 pixels, then the ten probabilities.
    let both = Tensor::cat(vec![adversarial.clone().reshape([1, PIXELS]), model.probabilities(adversarial)], 1);
    let mut adversarial = readback::floats(both).await?;
    let probabilities = finite(adversarial.split_off(PIXELS))?;
    let norms = Norms::between(image, &adversarial);
    Ok(AttackedImage { adversarial, probabilities, norms, broken_by })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::trained_mlp;

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
        let err = pollster::block_on(attack_image(&model, &config, &image[..100], label, &device)).unwrap_err();
        assert!(matches!(err, LabError::Input(_)) && err.to_string().contains("784"), "{err}");
    }
}
