//! What the page asks its workers to do.

use serde::{Deserialize, Serialize};

use super::{BestEpoch, DataUrls, TrainAction};
use crate::attack::AttackConfig;
use crate::calibration::Calibration;
use crate::eval::sweep::{Part, Plan};
use crate::train::TrainConfig;
use crate::web::backend::BackendChoice;

/// What the page asks the worker to do.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    /// Start the backend the choice gives attacks and load the weights at `url` (absolute) onto
    /// it, for predictions and attacks.
    Load {
        /// Request number; the answer carries it back.
        id: u64,
        /// The user's backend choice (WebGPU falls back to the CPU).
        backend: BackendChoice,
        /// Absolute URL of a weights file.
        url: String,
        /// Auto's calibration the page remembers for its adapter (the engine measures when
        /// there is none, or when it belongs to another adapter).
        calibration: Option<Calibration>,
    },
    /// Class probabilities of one 28×28 image (pixels in `[0,1]`).
    Predict {
        /// Request number; the answer carries it back.
        id: u64,
        /// 784 pixels in `[0,1]`.
        image: Vec<f32>,
    },
    /// Test image `index` and its label; the worker fetches the test set from `images_url` and
    /// `labels_url` (absolute) on first use.
    Sample {
        /// Request number.
        id: u64,
        /// Index into the test set (0–9999).
        index: usize,
        /// Absolute URL of the test images (IDX).
        images_url: String,
        /// Absolute URL of the test labels (IDX).
        labels_url: String,
    },
    /// The first test image from `start` (wrapping) that the model misclassifies; the worker
    /// fetches the test set from `images_url` and `labels_url` (absolute) on first use.
    NextMistake {
        /// Request number.
        id: u64,
        /// First index to look at.
        start: usize,
        /// Absolute URL of the test images (IDX).
        images_url: String,
        /// Absolute URL of the test labels (IDX).
        labels_url: String,
    },
    /// Attack one 28×28 image (pixels in `[0,1]`) whose true class is `label`.
    Attack {
        /// Request number; the answer carries it back.
        id: u64,
        /// The attack and its parameters.
        config: AttackConfig,
        /// 784 pixels in `[0,1]`.
        image: Vec<f32>,
        /// The class the attack moves away from (the label, or the prediction for a drawing).
        label: usize,
        /// Attack the model at this absolute URL instead of the loaded one (the standard vs
        /// robust comparison); the worker keeps the models it has loaded.
        model_url: Option<String>,
    },
    /// Check that the file at `url` (absolute, e.g. a `blob:` URL of an upload) is a weights file
    /// this version reads; the answer is `Inspected` or `Failed`.
    Inspect {
        /// Request number.
        id: u64,
        /// Absolute URL of the file.
        url: String,
    },
    /// Train a model on the MNIST training set (fetched once from `data`); the worker answers with
    /// `TrainProgress` while it runs, `TrainEpoch` after every epoch and `TrainFinished` at the end.
    Train {
        /// Run number; control requests and answers carry it.
        id: u64,
        /// The user's backend choice (WebGPU falls back to the CPU).
        backend: BackendChoice,
        /// Auto's calibration the page remembers for its adapter.
        calibration: Option<Calibration>,
        /// The run.
        config: TrainConfig,
        /// Where the data lies.
        data: DataUrls,
        /// Continue from the weights at this absolute URL, which finished `epochs_done` epochs
        /// (a run resumed after a reload).
        resume_from: Option<String>,
        /// Epochs the weights at `resume_from` have finished.
        epochs_done: usize,
        /// The resumed run's best epoch so far, for `fgsm-rs`'s collapse guard.
        best: Option<BestEpoch>,
    },
    /// Pause, resume or stop the training run `id`.
    TrainControl {
        /// Run number.
        id: u64,
        /// What to do.
        action: TrainAction,
    },
    /// Robust-accuracy sweep: every model under the plan (every attack configuration on the first
    /// test images, in batches, as `advlab eval`).
    Evaluate {
        /// Request number.
        id: u64,
        /// The user's backend choice (WebGPU falls back to the CPU).
        backend: BackendChoice,
        /// Auto's calibration the page remembers for its adapter.
        calibration: Option<Calibration>,
        /// The models: (name, absolute URL of the weights).
        models: Vec<(String, String)>,
        /// The attack configurations, images, batch size and gallery size.
        plan: Plan,
        /// Where the data lies.
        data: DataUrls,
    },
    /// One part of a sweep split over several workers (answered by the sweep workers, on the
    /// CPU): the clean pass or one attack configuration on one batch; the answer is
    /// `PartEvaluated`.
    EvaluatePart {
        /// Request number.
        id: u64,
        /// Absolute URL of the model's weights (the worker keeps the models it has loaded).
        model_url: String,
        /// The sweep the part belongs to.
        plan: Plan,
        /// The part.
        part: Part,
        /// Absolute URL of the test images (IDX).
        images_url: String,
        /// Absolute URL of the test labels (IDX).
        labels_url: String,
    },
}
