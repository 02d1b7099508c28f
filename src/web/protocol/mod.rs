//! The one door between the page and its Web Workers: requests and responses, posted as plain
//! JavaScript objects made by serde-wasm-bindgen. Numbers stay numbers (NaN and ±∞ included, which
//! JSON would turn into `null`) and weights files travel as `Uint8Array`s.

mod failure;
mod request;
mod response;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

pub use crate::calibration::Calibration;
pub use crate::eval::sweep::{FlippedImage, ModelEvaluation, Part, PartResult, Plan};
pub use failure::{Failure, FailureKind};
pub use request::Request;
pub use response::Response;

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

/// `message` as a JavaScript value for `postMessage`.
pub fn to_js<T: Serialize>(message: &T) -> Result<JsValue, String> {
    message.serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true)).map_err(|e| format!("cannot encode the message: {e}"))
}

/// A message received through `postMessage`, or why it is not one.
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, String> {
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}
