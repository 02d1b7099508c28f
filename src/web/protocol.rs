//! The one door between the page and its Web Workers: requests and responses, posted as plain
//! JavaScript objects made by serde-wasm-bindgen. Numbers stay numbers (NaN and ±∞ included, which
//! JSON would turn into `null`) and weights files travel as `Uint8Array`s.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::backend::{BackendChoice, BackendKind};
use crate::attack::AttackConfig;
pub use crate::calibration::Calibration;
pub use crate::session::{FlippedImage, ModelEvaluation};
use crate::train::{BatchReport, EpochReport, TrainConfig};

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
    /// Robust-accuracy sweep: every model under every attack configuration on the first `limit`
    /// test images, in batches of [`crate::eval::BATCH`] (as `advlab eval`).
    Evaluate {
        /// Request number.
        id: u64,
        /// The user's backend choice (WebGPU falls back to the CPU).
        backend: BackendChoice,
        /// Auto's calibration the page remembers for its adapter.
        calibration: Option<Calibration>,
        /// The models: (name, absolute URL of the weights).
        models: Vec<(String, String)>,
        /// One configuration per attack and ε.
        attacks: Vec<AttackConfig>,
        /// Test images to use (the first ones).
        limit: usize,
        /// Where the data lies.
        data: DataUrls,
    },
}

/// Absolute URLs of the four MNIST IDX files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DataUrls {
    /// Training images.
    pub train_images: String,
    /// Training labels.
    pub train_labels: String,
    /// Test images.
    pub test_images: String,
    /// Test labels.
    pub test_labels: String,
}

/// The best epoch of a run so far: its held-out PGD accuracy and weights.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BestEpoch {
    /// Epoch (from 1).
    pub epoch: usize,
    /// Held-out PGD-10 accuracy after it, in `[0,1]`.
    pub accuracy: f32,
    /// Absolute URL of its weights.
    pub url: String,
}

/// A command to a running training job.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum TrainAction {
    /// Wait after the current batch.
    Pause,
    /// Go on after a pause.
    Resume,
    /// End the run after the current batch; the unfinished epoch is dropped.
    Stop,
}

/// What the worker answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Response {
    /// The worker's wasm is running and listening (sent once, first).
    Started,
    /// A `Load` finished.
    Loaded {
        /// The request number.
        id: u64,
        /// The backend the worker runs on.
        backend: BackendKind,
        /// Why WebGPU was wanted but is not used, if so.
        note: Option<String>,
        /// Under Auto, the calibration that chose the backend.
        calibration: Option<Calibration>,
    },
    /// The worker's WebGPU device was lost (a driver reset, the GPU removed, or `destroy()`);
    /// posted by the worker's loader script from `GPUDevice.lost`. The page ends that engine and
    /// moves WebGPU's jobs to the CPU.
    DeviceLost {
        /// `GPUDeviceLostInfo`'s reason and message.
        message: String,
    },
    /// The backend a training run or evaluation sweep `id` runs on (sent when it starts).
    RunsOn {
        /// The request number.
        id: u64,
        /// The backend.
        backend: BackendKind,
        /// Why WebGPU was wanted but is not used, if so.
        note: Option<String>,
        /// Under Auto, the calibration that chose the backend.
        calibration: Option<Calibration>,
    },
    /// How far the attack `id` got (sent every 100 ms or so while it runs).
    AttackProgress {
        /// The request number.
        id: u64,
        /// Iterations done so far (out of at most `AttackConfig::iterations`).
        done: usize,
    },
    /// A prediction finished.
    Predicted {
        /// The request number.
        id: u64,
        /// The ten class probabilities.
        probabilities: Vec<f32>,
    },
    /// A test image.
    Sample {
        /// The request number.
        id: u64,
        /// Its index.
        index: usize,
        /// Its label.
        label: usize,
        /// 784 pixels in `[0,1]`.
        image: Vec<f32>,
    },
    /// A search for a misclassified test image finished.
    Mistake {
        /// The request number.
        id: u64,
        /// The index found, or `None` when the model gets every test image right.
        index: Option<usize>,
    },
    /// An attack finished.
    Attacked {
        /// The request number.
        id: u64,
        /// 784 pixels of the adversarial image.
        adversarial: Vec<f32>,
        /// Class probabilities of the adversarial image.
        probabilities: Vec<f32>,
        /// AutoAttack only: the stage that broke the image.
        broken_by: Option<crate::attack::AttackMethod>,
    },
    /// An `Inspect` found a weights file this version reads.
    Inspected {
        /// The request number.
        id: u64,
        /// Its metadata as JSON text (a [`crate::model::weights::Metadata`]).
        metadata: String,
    },
    /// A training run's progress (sent at most every 100 ms).
    TrainProgress {
        /// Run number.
        id: u64,
        /// The batches finished since the last message.
        batches: Vec<BatchReport>,
        /// Fraction of the whole run done, in `[0,1]`.
        progress: f32,
        /// Training examples per second over the current epoch.
        examples_per_second: f32,
        /// Estimated seconds until the run ends.
        eta_seconds: f32,
    },
    /// An epoch finished.
    TrainEpoch {
        /// Run number.
        id: u64,
        /// The validation check.
        report: EpochReport,
        /// Accuracy on the whole MNIST test set, in `[0,1]`.
        test_accuracy: f32,
        /// The model after this epoch (or the restored best one, when the collapse guard
        /// stopped the run): a safetensors file (a `Uint8Array` on the JS side).
        #[serde(with = "serde_bytes")]
        weights: Vec<u8>,
        /// Epochs the weights have finished.
        epochs_done: usize,
        /// True when these weights are the run's best epoch so far, the one `fgsm-rs`'s collapse
        /// guard would restore (the page keeps them for a resumed run).
        best: bool,
    },
    /// A training run ended: all epochs done, stopped by the user (`stopped`), or by the collapse
    /// guard (its `TrainEpoch` report says why).
    TrainFinished {
        /// Run number.
        id: u64,
        /// True when the user stopped it.
        stopped: bool,
    },
    /// Progress of an evaluation sweep.
    EvalProgress {
        /// Request number.
        id: u64,
        /// Image-attacks done.
        done: usize,
        /// Image-attacks in all.
        total: usize,
    },
    /// An evaluation sweep finished.
    Evaluated {
        /// Request number.
        id: u64,
        /// One entry per model, in request order.
        models: Vec<ModelEvaluation>,
    },
    /// The worker died (a panic, out of memory, its wasm failed to load): every request it had
    /// not answered is lost. Made by the page's side of the worker, never sent by a worker.
    Died {
        /// What the browser said, or why the page ended it.
        message: String,
        /// True when the page ended it on purpose (a cancelled attack), not a crash.
        cancelled: bool,
    },
    /// A request failed; `id` is its request number, if it had one.
    Failed {
        /// The failed attack's request number.
        id: Option<u64>,
        /// What went wrong.
        message: String,
    },
}

/// `message` as a JavaScript value for `postMessage`.
pub fn to_js<T: Serialize>(message: &T) -> Result<JsValue, String> {
    message.serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true)).map_err(|e| format!("cannot encode the message: {e}"))
}

/// A message received through `postMessage`, or why it is not one.
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, String> {
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}
