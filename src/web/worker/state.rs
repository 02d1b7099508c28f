//! The worker's lasting state: its backends (the CPU, and WebGPU once started), the calibration
//! Auto follows, the loaded model, the models fetched so far and the datasets, each fetched once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use burn::tensor::Device;

use crate::calibration::Calibration;
use crate::data::Dataset;
use crate::model::{Classifier, weights};
use crate::web::backend::{self, BackendKind};
use crate::web::protocol::Failure;

/// The worker's backends, calibration, model, once loaded, and the datasets, once fetched.
#[derive(Default)]
struct State {
    /// WebGPU once asked for: its device, or why the CPU runs instead.
    webgpu: Option<Result<Device, String>>,
    /// The calibration Auto follows: measured here, or remembered by the page for this adapter.
    calibration: Option<Calibration>,
    /// The model `Load` loaded (predictions and attacks) and its backend.
    model: Option<(Backend, Classifier)>,
    /// Models loaded so far, by backend and URL.
    cache: HashMap<(BackendKind, String), Classifier>,
    /// Datasets fetched so far, by the URL of their images.
    datasets: HashMap<String, Rc<Dataset>>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

/// A started backend: its device, its kind and, when WebGPU was asked for and the CPU runs
/// instead, why.
#[derive(Clone, Debug)]
pub(super) struct Backend {
    /// The device jobs run on.
    pub device: Device,
    /// Which backend it is.
    pub kind: BackendKind,
    /// Why WebGPU was wanted but is not used, if so.
    pub note: Option<String>,
}

/// The backend `kind`, started on first use (WebGPU once per worker; it falls back to the CPU,
/// saying why).
pub(super) async fn device(kind: BackendKind) -> Backend {
    let cpu = |note| Backend { device: Device::flex(), kind: BackendKind::Cpu, note };
    if kind == BackendKind::Cpu {
        return cpu(None);
    }
    if let Some(webgpu) = STATE.with(|s| s.borrow().webgpu.clone()) {
        return webgpu.map_or_else(|note| cpu(Some(note)), |device| Backend { device, kind: BackendKind::WebGpu, note: None });
    }
    let (device, kind, note) = backend::start(BackendKind::WebGpu).await;
    let started = if kind == BackendKind::WebGpu { Ok(device.clone()) } else { Err(note.clone().unwrap_or_default()) };
    STATE.with(|s| s.borrow_mut().webgpu = Some(started));
    Backend { device, kind, note }
}

/// The calibration Auto follows in this worker, once measured or remembered.
pub(super) fn calibration() -> Option<Calibration> {
    STATE.with(|s| s.borrow().calibration.clone())
}

/// Keeps `calibration` as the one Auto follows from now on.
pub(super) fn remember(calibration: Calibration) {
    STATE.with(|s| s.borrow_mut().calibration = Some(calibration));
}

/// Loads the model at `url` onto `backend`; it answers predictions and attacks from now on.
pub(super) async fn load_on(backend: Backend, url: &str) -> Result<Backend, Failure> {
    let model = model_at(url, &backend).await?;
    STATE.with(|s| s.borrow_mut().model = Some((backend.clone(), model)));
    Ok(backend)
}

/// The weights file at `url`, parsed onto `device`.
pub(super) async fn fetch_model(url: &str, device: &Device) -> Result<(Classifier, weights::Metadata), Failure> {
    let bytes = crate::web::fetch::bytes(url).await?;
    weights::from_bytes(&bytes, device).map_err(|e| {
        let failure = Failure::from(e);
        Failure { message: format!("{url}: {}", failure.message), ..failure }
    })
}

/// The model at `url` on `backend`, fetched once and then kept.
pub(super) async fn model_at(url: &str, backend: &Backend) -> Result<Classifier, Failure> {
    let key = (backend.kind, url.to_string());
    if let Some(model) = STATE.with(|s| s.borrow().cache.get(&key).cloned()) {
        return Ok(model);
    }
    let (model, _) = fetch_model(url, &backend.device).await?;
    STATE.with(|s| s.borrow_mut().cache.insert(key, model.clone()));
    Ok(model)
}

/// The loaded model and its backend.
pub(super) fn loaded() -> Result<(Backend, Classifier), Failure> {
    STATE.with(|s| s.borrow().model.clone()).ok_or_else(|| Failure::bug("no model is loaded yet"))
}

/// The dataset in the IDX files at these URLs, fetched once (into Cache Storage, for later
/// visits too) and then kept in memory. A cached copy that does not parse (a host that answered
/// a missing file with a page) is dropped and fetched again.
pub(super) async fn dataset(images_url: &str, labels_url: &str) -> Result<Rc<Dataset>, Failure> {
    if let Some(data) = STATE.with(|s| s.borrow().datasets.get(images_url).cloned()) {
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
    STATE.with(|s| s.borrow_mut().datasets.insert(images_url.to_string(), data.clone()));
    Ok(data)
}

