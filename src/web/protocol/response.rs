//! What the workers answer.

use serde::{Deserialize, Serialize};

use super::failure::{Failure, FailureKind};
use crate::calibration::Calibration;
use crate::eval::sweep::{ModelEvaluation, PartResult};
use crate::train::{BatchReport, EpochReport};
use crate::web::backend::BackendKind;

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
    /// posted by the worker's loader script from `GPUDevice.lost`, in this type's own encoding
    /// ([`Response::device_lost_template`]). The page ends that engine and moves WebGPU's jobs to
    /// the CPU.
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
        /// Milliseconds the engine spent on it, from the request's model at hand to the result
        /// read back (loading a model the request names is not counted).
        millis: f64,
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
    /// A part of a split sweep finished (`EvaluatePart`).
    PartEvaluated {
        /// Request number.
        id: u64,
        /// What the part measured.
        result: PartResult,
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
        /// What it died of (a lost GPU, no memory, a bug), as far as the browser tells.
        kind: FailureKind,
        /// What the browser said, or why the page ended it.
        message: String,
        /// True when the page ended it on purpose (a cancelled attack), not a crash.
        cancelled: bool,
    },
    /// A request failed; `id` is its request number, if it had one.
    Failed {
        /// The failed attack's request number.
        id: Option<u64>,
        /// What kind of failure: the page acts on it (a lost GPU moves the jobs to the CPU).
        kind: FailureKind,
        /// What went wrong.
        message: String,
    },
}

impl Response {
    /// Request `id` failed with `failure`.
    pub fn failed(id: Option<u64>, failure: impl Into<Failure>) -> Response {
        let Failure { kind, message } = failure.into();
        Response::Failed { id, kind, message }
    }

    /// [`Response::DeviceLost`] as JSON with the placeholder string `"@"` for its message: the
    /// worker's loader script (plain JavaScript, running before the wasm) swaps in the browser's
    /// reason and posts the parsed object, so that what it posts is this type's encoding,
    /// whatever serde makes of it.
    pub fn device_lost_template() -> String {
        serde_json::to_string(&Response::DeviceLost { message: "@".into() }).expect("a response encodes as JSON")
    }
}
