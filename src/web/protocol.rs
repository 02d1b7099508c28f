//! The one door between the page and its Web Worker: requests and responses, sent as JSON text
//! through `postMessage`.

use serde::{Deserialize, Serialize};

use crate::attack::AttackConfig;

/// What the page asks the worker to do.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    /// Start the backend (`webgpu` or `cpu`) and load the weights at `url` (absolute).
    Load {
        /// Preferred backend name.
        backend: String,
        /// Absolute URL of a weights file.
        url: String,
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
}

/// What the worker answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Response {
    /// The worker's wasm is running and listening (sent once, first).
    Started,
    /// A `Load` finished.
    Loaded {
        /// The backend the worker runs on (`webgpu` or `cpu`).
        backend: String,
        /// Why WebGPU was wanted but is not used, if so.
        note: Option<String>,
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
    },
    /// A request failed; `id` is its request number, if it had one.
    Failed {
        /// The failed attack's request number.
        id: Option<u64>,
        /// What went wrong.
        message: String,
    },
}

impl Request {
    /// As JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("requests serialise")
    }
}

impl Response {
    /// As JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("responses serialise")
    }
}
