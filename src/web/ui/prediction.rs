//! The page's side of the prediction worker: the input (a drawing or a test image), its live
//! probabilities, test images and the search for a misclassified one, and the check of an
//! uploaded weights file before it joins the zoo.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::zoo::{self, Zoo};
use crate::web::backend::BackendChoice;
use crate::web::client::{LazyWorker, PREDICTOR};
use crate::web::protocol::{DataUrls, Request, Response};

/// An upload being checked by the worker: its request number, the model id it will get, the
/// file's name and its bytes.
struct Upload {
    request: u64,
    id: String,
    name: String,
    bytes: Vec<u8>,
    /// The `blob:` URL the worker reads it from (released once the worker has answered).
    url: String,
}

/// The prediction worker and what it answered. Every field is a handle, so it is `Copy`.
#[derive(Clone, Copy)]
pub(super) struct Prediction {
    /// The image the model reads: 784 pixels in `[0,1]`.
    pub input: RwSignal<Option<Vec<f32>>>,
    /// Its ten probabilities (answers to older inputs are dropped).
    pub probs: RwSignal<Option<Vec<f32>>>,
    /// How long the last prediction took, in ms.
    pub latency: RwSignal<Option<f64>>,
    /// True once the worker has loaded the model in use.
    pub loaded: RwSignal<bool>,
    /// The test image shown (index, label), when the input is one.
    pub sample: RwSignal<Option<(usize, usize)>>,
    /// An image for the canvas to show (a test image or a linked drawing).
    pub shown: RwSignal<Option<Vec<f32>>>,
    worker: StoredValue<Option<LazyWorker>, LocalStorage>,
    last_request: StoredValue<u64>,
    predict_sent: StoredValue<f64>,
    upload: StoredValue<Option<Upload>, LocalStorage>,
    error: RwSignal<Option<String>>,
    model_id: RwSignal<String>,
    model_url: Memo<String>,
    zoo: Zoo,
    data: Signal<DataUrls>,
}

impl Prediction {
    /// The prediction worker (started with the first request); problems go to `error`, an
    /// accepted upload joins `zoo` and becomes `model_id`.
    pub fn new(error: RwSignal<Option<String>>, model_id: RwSignal<String>, model_url: Memo<String>, zoo: Zoo, data: Signal<DataUrls>) -> Self {
        let p = Prediction {
            input: RwSignal::new(None),
            probs: RwSignal::new(None),
            latency: RwSignal::new(None),
            loaded: RwSignal::new(false),
            sample: RwSignal::new(None),
            shown: RwSignal::new(None),
            worker: StoredValue::new_local(None),
            last_request: StoredValue::new(0),
            predict_sent: StoredValue::new(0.0),
            upload: StoredValue::new_local(None),
            error,
            model_id,
            model_url,
            zoo,
            data,
        };
        p.worker.set_value(Some(LazyWorker::new(PREDICTOR, move |response| p.hear(response))));
        p
    }

    fn send(self, request: Request) {
        if let Some(Err(e)) = self.worker.get_value().map(|w| w.send(request)) {
            self.error.set(Some(e));
        }
    }

    fn next_id(self) -> u64 {
        self.last_request.update_value(|i| *i += 1);
        self.last_request.get_value()
    }

    /// Loads the model in use (live predictions run on the CPU: one 28×28 image costs less
    /// there than a GPU round trip).
    pub fn load(self) {
        self.loaded.set(false);
        self.send(Request::Load { id: self.next_id(), backend: BackendChoice::Cpu, url: self.model_url.get_untracked(), calibration: None });
    }

    /// Asks for the current input's probabilities.
    pub fn classify(self) {
        match self.input.get_untracked() {
            None => self.probs.set(None),
            Some(image) if self.loaded.get_untracked() => {
                self.predict_sent.set_value(js_sys::Date::now());
                self.send(Request::Predict { id: self.next_id(), image });
            }
            Some(_) => {}
        }
    }

    /// A new drawing (`None`: cleared).
    pub fn draw(self, pixels: Option<Vec<f32>>) {
        self.sample.set(None);
        self.input.set(pixels);
        self.classify();
    }

    /// Test image `index` becomes the input (the worker fetches the test set once).
    pub fn show_sample(self, index: usize) {
        let (images_url, labels_url) = self.data.with_untracked(|d| (d.test_images.clone(), d.test_labels.clone()));
        self.send(Request::Sample { id: self.next_id(), index, images_url, labels_url });
    }

    /// The first test image from `start` the model gets wrong becomes the input.
    pub fn find_mistake(self, start: usize) {
        let (images_url, labels_url) = self.data.with_untracked(|d| (d.test_images.clone(), d.test_labels.clone()));
        self.send(Request::NextMistake { id: self.next_id(), start, images_url, labels_url });
    }

    /// Checks the uploaded file `name` with the engine's own reader; a file that reads joins the
    /// zoo and is selected, anything else is refused with the reason and changes nothing.
    pub fn upload(self, name: String, bytes: Vec<u8>) {
        let id = match zoo::model_id(&name) {
            Ok(id) => self.zoo.free_id(&id),
            Err(e) => {
                self.error.set(Some(e));
                return;
            }
        };
        match zoo::blob_url(&bytes) {
            Ok(url) => {
                self.drop_upload();
                let request = self.next_id();
                self.upload.set_value(Some(Upload { request, id, name, bytes, url: url.clone() }));
                self.send(Request::Inspect { id: request, url });
            }
            Err(e) => self.error.set(Some(e)),
        }
    }

    /// The pending upload, taken out (its `blob:` URL released) when `request` is its number.
    fn take_upload(self, request: Option<u64>) -> Option<Upload> {
        let upload = self.upload.try_update_value(|u| u.take_if(|u| request.is_none_or(|r| u.request == r))).flatten()?;
        let _ = web_sys::Url::revoke_object_url(&upload.url);
        Some(upload)
    }

    fn drop_upload(self) {
        self.take_upload(None);
    }

    fn hear(self, response: Response) {
        match response {
            Response::Loaded { .. } => {
                self.loaded.set(true);
                self.classify();
            }
            Response::Predicted { id, probabilities } if id == self.last_request.get_value() => {
                self.probs.set(Some(probabilities));
                self.latency.set(Some(js_sys::Date::now() - self.predict_sent.get_value()));
            }
            Response::Sample { index, label, image, .. } => {
                self.sample.set(Some((index, label)));
                self.shown.set(Some(image.clone()));
                self.input.set(Some(image));
                self.classify();
            }
            Response::Mistake { index: Some(i), .. } => self.show_sample(i),
            Response::Mistake { index: None, .. } => self.error.set(Some("this model classifies every test image correctly".into())),
            Response::Inspected { id, metadata } => {
                let Some(upload) = self.take_upload(Some(id)) else { return };
                match serde_json::from_str(&metadata) {
                    Ok(metadata) => spawn_local(async move {
                        match self.zoo.add(upload.id.clone(), upload.bytes, metadata).await {
                            Ok(()) => {
                                self.error.set(None);
                                self.model_id.set(upload.id);
                            }
                            Err(e) => self.error.set(Some(e)),
                        }
                    }),
                    Err(e) => self.error.set(Some(e.to_string())),
                }
            }
            Response::Failed { id: Some(id), message, .. } if self.upload.with_value(|u| u.as_ref().is_some_and(|u| u.request == id)) => {
                let name = self.take_upload(Some(id)).map(|u| u.name).unwrap_or_default();
                self.error.set(Some(format!("`{name}` was not added: {message}")));
            }
            Response::Failed { message, .. } => self.error.set(Some(message)),
            // A fresh prediction worker starts with the next request: it loads the model first.
            Response::Died { message, .. } => {
                self.error.set(Some(format!("The prediction worker stopped ({message}); it was restarted.")));
                self.drop_upload();
                self.load();
            }
            _ => {}
        }
    }
}
