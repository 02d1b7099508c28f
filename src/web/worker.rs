//! The Web Worker's side: it owns a backend and a model and runs the attacks, so that the page's
//! main thread never computes more than a live prediction.

use std::cell::RefCell;

use burn::tensor::{Device, Int, Tensor, TensorData};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::backend::{self, BackendKind};
use super::protocol::{Request, Response};
use crate::attack;
use crate::data::images_tensor;
use crate::model::{Classifier, weights};
use crate::readback;

/// The worker's backend, once started, its model, once loaded, and the test set, once fetched.
struct State {
    device: Device,
    kind: BackendKind,
    model: Option<Classifier>,
    /// Models loaded so far, by URL.
    cache: std::collections::HashMap<String, Classifier>,
    test_set: Option<crate::data::Dataset>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Posts a response to the page (`self.postMessage`).
fn send(response: &Response) {
    let scope = js_sys::global();
    if let Ok(post) = js_sys::Reflect::get(&scope, &JsValue::from_str("postMessage")) {
        if let Ok(post) = post.dyn_into::<js_sys::Function>() {
            let _ = post.call1(&scope, &JsValue::from_str(&response.to_json()));
        }
    }
}

/// Starts the backend on the first call, then loads the model at `url` onto it. Returns the
/// backend's name and, when WebGPU was wanted but is not used, why.
async fn load(backend_name: &str, url: &str) -> Result<(String, Option<String>), String> {
    let started = STATE.with(|s| s.borrow().as_ref().map(|s| (s.device.clone(), s.kind)));
    let (device, kind, note) = match started {
        Some((device, kind)) => (device, kind, None),
        None => {
            let prefer = if backend_name == "cpu" { BackendKind::Cpu } else { BackendKind::WebGpu };
            let (device, kind, note) = backend::start(prefer).await;
            STATE.with(|s| *s.borrow_mut() = Some(State { device: device.clone(), kind, model: None, cache: Default::default(), test_set: None }));
            (device, kind, note)
        }
    };
    let model = model_at(url, &device).await?;
    STATE.with(|s| {
        if let Some(state) = s.borrow_mut().as_mut() {
            state.model = Some(model);
        }
    });
    Ok((kind.name().to_string(), note))
}

/// The model at `url` on `device`, fetched once and then kept.
async fn model_at(url: &str, device: &Device) -> Result<Classifier, String> {
    if let Some(model) = STATE.with(|s| s.borrow().as_ref().and_then(|s| s.cache.get(url).cloned())) {
        return Ok(model);
    }
    let bytes = super::fetch::bytes(url).await?;
    let (model, _) = weights::from_bytes(&bytes, device).map_err(|e| format!("{url}: {e}"))?;
    STATE.with(|s| {
        if let Some(state) = s.borrow_mut().as_mut() {
            state.cache.insert(url.to_string(), model.clone());
        }
    });
    Ok(model)
}

/// The loaded model and its device.
fn loaded() -> Result<(Device, Classifier), String> {
    STATE
        .with(|s| s.borrow().as_ref().and_then(|s| s.model.clone().map(|m| (s.device.clone(), m))))
        .ok_or_else(|| "no model is loaded yet".to_string())
}

async fn predict(image: Vec<f32>) -> Result<Vec<f32>, String> {
    let (device, model) = loaded()?;
    if image.len() != crate::data::PIXELS {
        return Err(format!("a prediction needs 784 pixels, not {}", image.len()));
    }
    readback::floats(model.probabilities(images_tensor(image, &device))).await.map_err(|e| e.to_string())
}

async fn test_set(images_url: &str, labels_url: &str) -> Result<crate::data::Dataset, String> {
    if let Some(data) = STATE.with(|s| s.borrow().as_ref().and_then(|s| s.test_set.clone())) {
        return Ok(data);
    }
    let images = super::fetch::bytes(images_url).await?;
    let labels = super::fetch::bytes(labels_url).await?;
    let data = crate::data::Dataset::from_idx((images_url, &images), (labels_url, &labels)).map_err(|e| e.to_string())?;
    STATE.with(|s| {
        if let Some(state) = s.borrow_mut().as_mut() {
            state.test_set = Some(data.clone());
        }
    });
    Ok(data)
}

/// Images classified per step of the search for a misclassified one.
const SEARCH_BATCH: usize = 64;

async fn next_mistake(start: usize, images_url: &str, labels_url: &str) -> Result<Option<usize>, String> {
    let (device, model) = loaded()?;
    let data = test_set(images_url, labels_url).await?;
    let n = data.len();
    let mut offset = 0;
    while offset < n {
        let indices: Vec<usize> = (offset..(offset + SEARCH_BATCH).min(n)).map(|k| (start + k) % n).collect();
        let (images, _) = data.batch(&indices, &device);
        let predictions = readback::ints(model.forward(images).argmax(1).reshape([indices.len()])).await.map_err(|e| e.to_string())?;
        if let Some(k) = predictions.iter().zip(&indices).position(|(p, &i)| *p != i64::from(data.labels[i])) {
            return Ok(Some(indices[k]));
        }
        offset += SEARCH_BATCH;
    }
    Ok(None)
}

async fn run_attack(config: &attack::AttackConfig, image: Vec<f32>, label: usize, model_url: Option<&str>) -> Result<(Vec<f32>, Vec<f32>), String> {
    config.validate().map_err(|e| e.to_string())?;
    let (device, mut model) = loaded()?;
    if let Some(url) = model_url {
        model = model_at(url, &device).await?;
    }
    if image.len() != crate::data::PIXELS || label > 9 {
        return Err(format!("an attack needs 784 pixels and a label 0–9, not {} pixels and {label}", image.len()));
    }
    let x = images_tensor(image, &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![label as i64], [1]), &device);
    let adversarial = attack::run(config, &model, x, y);
    let probabilities = readback::floats(model.probabilities(adversarial.clone())).await.map_err(|e| e.to_string())?;
    let adversarial = readback::floats(adversarial).await.map_err(|e| e.to_string())?;
    Ok((adversarial, probabilities))
}

async fn handle(request: Request) {
    let response = match request {
        Request::Load { backend, url } => match load(&backend, &url).await {
            Ok((backend, note)) => Response::Loaded { backend, note },
            Err(message) => Response::Failed { id: None, message },
        },
        Request::Predict { id, image } => match predict(image).await {
            Ok(probabilities) => Response::Predicted { id, probabilities },
            Err(message) => Response::Failed { id: Some(id), message },
        },
        Request::Sample { id, index, images_url, labels_url } => match test_set(&images_url, &labels_url).await {
            Ok(data) if index < data.len() => Response::Sample { id, index, label: usize::from(data.labels[index]), image: data.image(index).to_vec() },
            Ok(data) => Response::Failed { id: Some(id), message: format!("test image {index} does not exist: the test set has {} (0–{})", data.len(), data.len() - 1) },
            Err(message) => Response::Failed { id: Some(id), message },
        },
        Request::NextMistake { id, start, images_url, labels_url } => match next_mistake(start, &images_url, &labels_url).await {
            Ok(index) => Response::Mistake { id, index },
            Err(message) => Response::Failed { id: Some(id), message },
        },
        Request::Attack { id, config, image, label, model_url } => match run_attack(&config, image, label, model_url.as_deref()).await {
            Ok((adversarial, probabilities)) => Response::Attacked { id, adversarial, probabilities },
            Err(message) => Response::Failed { id: Some(id), message },
        },
    };
    send(&response);
}

/// Starts listening for requests (the worker binary's `main`).
pub fn run() {
    console_error_panic_hook::set_once();
    let onmessage = Closure::<dyn Fn(web_sys::MessageEvent)>::new(|event: web_sys::MessageEvent| {
        let text = event.data().as_string().unwrap_or_default();
        match serde_json::from_str::<Request>(&text) {
            Ok(request) => wasm_bindgen_futures::spawn_local(handle(request)),
            Err(e) => send(&Response::Failed { id: None, message: format!("bad request: {e}") }),
        }
    });
    let _ = js_sys::Reflect::set(&js_sys::global(), &JsValue::from_str("onmessage"), onmessage.as_ref());
    onmessage.forget();
    send(&Response::Started);
}
