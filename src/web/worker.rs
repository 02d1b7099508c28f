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

/// The worker's backend, once started, and its model, once loaded.
struct State {
    device: Device,
    kind: BackendKind,
    model: Option<Classifier>,
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

/// Starts the backend on the first call, then loads the model at `url` onto it.
async fn load(backend_name: &str, url: &str) -> Result<String, String> {
    let started = STATE.with(|s| s.borrow().as_ref().map(|s| (s.device.clone(), s.kind)));
    let (device, kind) = match started {
        Some(started) => started,
        None => {
            let prefer = if backend_name == "cpu" { BackendKind::Cpu } else { BackendKind::WebGpu };
            let (device, kind, _) = backend::start(prefer).await;
            STATE.with(|s| *s.borrow_mut() = Some(State { device: device.clone(), kind, model: None }));
            (device, kind)
        }
    };
    let bytes = super::fetch::bytes(url).await?;
    let (model, _) = weights::from_bytes(&bytes, &device).map_err(|e| format!("{url}: {e}"))?;
    STATE.with(|s| {
        if let Some(state) = s.borrow_mut().as_mut() {
            state.model = Some(model);
        }
    });
    Ok(kind.name().to_string())
}

async fn run_attack(config: &attack::AttackConfig, image: Vec<f32>, label: usize) -> Result<(Vec<f32>, Vec<f32>), String> {
    config.validate().map_err(|e| e.to_string())?;
    let (device, model) = STATE
        .with(|s| s.borrow().as_ref().and_then(|s| s.model.clone().map(|m| (s.device.clone(), m))))
        .ok_or("no model is loaded yet")?;
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
            Ok(backend) => Response::Loaded { backend },
            Err(message) => Response::Failed { id: None, message },
        },
        Request::Attack { id, config, image, label } => match run_attack(&config, image, label).await {
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
