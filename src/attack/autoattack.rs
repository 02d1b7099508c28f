//! AutoAttack (Croce & Hein 2020), the standard L∞ ensemble: APGD-CE, then APGD-T (targeted
//! DLR), then Square. An image counts as broken by the first stage that misclassifies it; images
//! misclassified before any attack are not attacked and come back unchanged, as do images no
//! stage breaks. Every stage gets the configuration's ε, steps (Square: its queries), restarts and
//! seed.
//!
//! Two entry points: [`autoattack`] never reads a tensor back (every stage attacks the whole
//! batch and masks decide which result an image keeps); [`autoattack_by_stage`] reads one mask
//! back per stage so that each stage attacks only the images still robust, and reports which
//! stage broke each image. On a single image they give the same result.

use burn::module::Module;
use burn::tensor::{Bool, IndexingUpdateOp, Int, Tensor, TensorData};

use super::projection::{Norm, project, select};
use super::{AttackConfig, AttackMethod};
use crate::model::Classifier;
use crate::device::readback::{self, ReadError};

/// The stages, in the order they run.
pub const STAGES: [AttackMethod; 3] = [AttackMethod::Apgd, AttackMethod::ApgdT, AttackMethod::Square];

/// The configuration of one stage: `config` with the stage's method, untargeted.
fn stage_config(config: &AttackConfig, method: AttackMethod) -> AttackConfig {
    AttackConfig { method, target: None, ..config.clone() }
}

/// Which images `[N]` the model classifies correctly.
fn correct(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>) -> Tensor<1, Bool> {
    let [n] = labels.dims();
    model.forward(images).argmax(1).reshape([n]).equal(labels)
}

/// AutoAttack on a batch without any readback: each stage attacks every image, and an image takes
/// the result of the first stage that misclassifies it. `model` must be in inference mode.
pub fn autoattack(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>, config: &AttackConfig) -> Tensor<4> {
    let mut robust = correct(model, images.clone(), labels.clone());
    let mut adversarial = images.clone();
    for method in STAGES {
        let x = super::run(&stage_config(config, method), model, images.clone(), labels.clone());
        let broken = robust.clone().bool_and(correct(model, x.clone(), labels.clone()).bool_not());
        adversarial = select(broken.clone(), x, adversarial);
        robust = robust.bool_and(broken.bool_not());
    }
    adversarial
}

/// AutoAttack's adversarial batch and which stage broke each image.
#[derive(Clone, Debug)]
pub struct StagedOutcome {
    /// Adversarial images `[N,1,28,28]` in `[0,1]`.
    pub adversarial: Tensor<4>,
    /// Per image, the stage that misclassified it first; `None` when no stage did or the clean
    /// image was already misclassified.
    pub broken_by: Vec<Option<AttackMethod>>,
}

async fn flags(mask: Tensor<1, Bool>) -> Result<Vec<bool>, ReadError> {
    Ok(readback::floats(mask.float()).await?.into_iter().map(|v| v > 0.5).collect())
}

fn index_tensor(indices: &[usize], device: &burn::tensor::Device) -> Tensor<1, Int> {
    let values: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(values, [indices.len()]), device)
}

/// AutoAttack as the paper runs it: each stage attacks only the images that are still
/// classified correctly (one mask is read back per stage), and the result says which stage
/// broke each image.
pub async fn autoattack_by_stage(model: &Classifier, images: Tensor<4>, labels: Tensor<1, Int>, config: &AttackConfig) -> Result<StagedOutcome, ReadError> {
    let model = model.valid();
    let images = images.without_autodiff();
    let device = images.device();
    let mut robust = flags(correct(&model, images.clone(), labels.clone())).await?;
    let mut broken_by = vec![None; robust.len()];
    let mut adversarial = images.clone();
    for method in STAGES {
        let still: Vec<usize> = (0..robust.len()).filter(|&i| robust[i]).collect();
        if still.is_empty() {
            break;
        }
        let index = index_tensor(&still, &device);
        let (sub_images, sub_labels) = (images.clone().select(0, index.clone()), labels.clone().select(0, index));
        let x = super::run(&stage_config(config, method), &model, sub_images.clone(), sub_labels.clone());
        let broken = flags(correct(&model, x.clone(), sub_labels).bool_not()).await?;
        let (local, global): (Vec<usize>, Vec<usize>) = still.iter().enumerate().filter(|(j, _)| broken[*j]).map(|(j, &i)| (j, i)).unzip();
        if local.is_empty() {
            continue;
        }
        let local = index_tensor(&local, &device);
        let delta = x.select(0, local.clone()) - sub_images.select(0, local);
        adversarial = adversarial.select_assign(0, index_tensor(&global, &device), delta, IndexingUpdateOp::Add);
        for i in global {
            robust[i] = false;
            broken_by[i] = Some(method);
        }
    }
    // Adding a stage's perturbation back onto the clean image can round an ulp past ε or the box.
    let adversarial = project(adversarial, images, Norm::Linf, config.epsilon);
    Ok(StagedOutcome { adversarial, broken_by })
}
