//! The worker's lasting state: its device (restarted when the page asks for another backend),
//! the loaded model, the models fetched so far and the datasets, each fetched once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use burn::tensor::Device;

use crate::data::Dataset;
use crate::model::{Classifier, weights};
use crate::web::backend::{self, BackendKind};

/// The worker's backend, once started, its model, once loaded, and the datasets, once fetched.
struct State {
    device: Device,
    kind: BackendKind,
    /// The backend the page asked for.
    preferred: BackendKind,
    /// Why WebGPU was asked for but is not used, if so.
    note: Option<String>,
    model: Option<Classifier>,
    /// Models loaded so far, by URL.
    cache: HashMap<String, Classifier>,
    /// Datasets fetched so far, by the URL of their images.
    datasets: HashMap<String, Rc<Dataset>>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// The worker's device, started on the first call and restarted when the page asks for another
/// backend (WebGPU falls back to the CPU). Returns it, its
/// kind and why WebGPU is not used, if it was asked for and is not.
pub(super) async fn device(prefer: BackendKind) -> (Device, BackendKind, Option<String>) {
    let current = STATE.with(|s| s.borrow().as_ref().filter(|s| s.preferred == prefer).map(|s| (s.device.clone(), s.kind, s.note.clone())));
    if let Some(current) = current {
        return current;
    }
    let (device, kind, note) = backend::start(prefer).await;
    STATE.with(|s| {
        let mut state = s.borrow_mut();
        // Datasets are plain memory and survive the switch; models live on the old device.
        let datasets = state.take().map(|s| s.datasets).unwrap_or_default();
        *state = Some(State { device: device.clone(), kind, preferred: prefer, note: note.clone(), model: None, cache: HashMap::new(), datasets });
    });
    (device, kind, note)
}

/// Starts the backend on the first call, then loads the model at `url` onto it. Returns the
/// backend and, when WebGPU was wanted but is not used, why.
pub(super) async fn load(prefer: BackendKind, url: &str) -> Result<(BackendKind, Option<String>), String> {
    let (device, kind, note) = device(prefer).await;
    let model = model_at(url, &device).await?;
    STATE.with(|s| {
        if let Some(state) = s.borrow_mut().as_mut() {
            state.model = Some(model);
        }
    });
    Ok((kind, note))
}

/// The weights file at `url`, parsed onto `device`.
pub(super) async fn fetch_model(url: &str, device: &Device) -> Result<(Classifier, weights::Metadata), String> {
    let bytes = crate::web::fetch::bytes(url).await?;
    weights::from_bytes(&bytes, device).map_err(|e| format!("{url}: {e}"))
}

/// The model at `url` on `device`, fetched once and then kept.
pub(super) async fn model_at(url: &str, device: &Device) -> Result<Classifier, String> {
    if let Some(model) = STATE.with(|s| s.borrow().as_ref().and_then(|s| s.cache.get(url).cloned())) {
        return Ok(model);
    }
    let (model, _) = fetch_model(url, device).await?;
    STATE.with(|s| {
        if let Some(state) = s.borrow_mut().as_mut() {
            state.cache.insert(url.to_string(), model.clone());
        }
    });
    Ok(model)
}

/// The loaded model and its device.
pub(super) fn loaded() -> Result<(Device, Classifier), String> {
    STATE
        .with(|s| s.borrow().as_ref().and_then(|s| s.model.clone().map(|m| (s.device.clone(), m))))
        .ok_or_else(|| "no model is loaded yet".to_string())
}

/// The dataset in the IDX files at these URLs, fetched once (into Cache Storage, for later
/// visits too) and then kept in memory. A cached copy that does not parse (a host that answered
/// a missing file with a page) is dropped and fetched again.
pub(super) async fn dataset(images_url: &str, labels_url: &str) -> Result<Rc<Dataset>, String> {
    if let Some(data) = STATE.with(|s| s.borrow().as_ref().and_then(|s| s.datasets.get(images_url).cloned())) {
        return Ok(data);
    }
    let parse = |images: &[u8], labels: &[u8]| Dataset::from_idx((images_url, images), (labels_url, labels)).map_err(|e| e.to_string());
    let (images, labels) = (crate::web::fetch::cached_bytes(images_url).await?, crate::web::fetch::cached_bytes(labels_url).await?);
    let data = match parse(&images, &labels) {
        Ok(data) => data,
        Err(_) => {
            crate::web::fetch::forget(images_url).await;
            crate::web::fetch::forget(labels_url).await;
            parse(&crate::web::fetch::bytes(images_url).await?, &crate::web::fetch::bytes(labels_url).await?)?
        }
    };
    let data = Rc::new(data);
    STATE.with(|s| {
        if let Some(state) = s.borrow_mut().as_mut() {
            state.datasets.insert(images_url.to_string(), data.clone());
        }
    });
    Ok(data)
}

