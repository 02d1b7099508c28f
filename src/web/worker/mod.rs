//! The Web Workers' side of the page (their page side is [`crate::web::client`]): the prediction
//! worker answers live predictions, test images and upload checks; the engine worker also runs
//! attacks, training and evaluation sweeps, so that the page's main thread only draws; sweep
//! workers evaluate parts of a sweep split over the user's cores. Each
//! request is its own task; the state lives in [`state`], the long jobs in [`jobs`].

mod calibrate;
mod jobs;
mod state;

use burn::tensor::Device;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::protocol::{Failure, Request, Response};
use crate::attack;
use crate::model::weights;
use crate::lab;
use crate::web::backend::BackendKind;
use state::{dataset, loaded, model_at};

/// Posts a response to the page (`self.postMessage`).
fn send(response: &Response) {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    match super::protocol::to_js(response) {
        Ok(message) => {
            if let Err(e) = scope.post_message(&message) {
                web_sys::console::error_1(&e);
            }
        }
        Err(e) => web_sys::console::error_1(&JsValue::from_str(&e)),
    }
}

async fn predict(image: Vec<f32>) -> Result<Vec<f32>, Failure> {
    let (backend, model) = loaded()?;
    Ok(lab::probabilities(&model, &image, &backend.device).await?)
}

/// The worker's clock in milliseconds (`performance.now()`, `Date.now()` where a worker has no
/// `performance`): for intervals, which is all the worker times.
fn now_ms() -> f64 {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    scope.performance().map_or_else(js_sys::Date::now, |p| p.now())
}

/// Attacks one image with the loaded model (or the one at `model_url`), reporting the iterations
/// done every [`PROGRESS_MS`] (a message posted from inside the computation: the page hears it
/// while the attack runs); returns its result and the milliseconds the attack took once the model
/// was at hand.
async fn run_attack(id: u64, config: &attack::AttackConfig, image: Vec<f32>, label: usize, model_url: Option<&str>) -> Result<(lab::AttackedImage, f64), Failure> {
    let (backend, mut model) = loaded()?;
    if let Some(url) = model_url {
        model = model_at(url, &backend).await?;
    }
    let mut last = now_ms();
    let _watch = attack::progress::watch(move |done| {
        let now = now_ms();
        if now - last >= PROGRESS_MS {
            send(&Response::AttackProgress { id, done });
            last = now;
        }
    });
    let started = now_ms();
    let attacked = lab::attack_image(&model, config, &image, label, &backend.device).await?;
    Ok((attacked, now_ms() - started))
}

/// Milliseconds between progress reports of an attack.
const PROGRESS_MS: f64 = 100.0;

/// Checks that the file at `url` is a weights file this version reads; returns its metadata.
async fn inspect(url: &str) -> Result<String, Failure> {
    // Parsed on the CPU: checking a file must not restart the worker's backend.
    let bytes = super::fetch::bytes(url).await?;
    let (_, metadata) = weights::from_bytes(&bytes, &Device::flex())?;
    serde_json::to_string(&metadata).map_err(|e| Failure::bug(e.to_string()))
}

/// The answer to a request either worker serves (`None`: not one of those; `Load` is each
/// worker's own).
async fn answer_light(request: &Request) -> Option<Response> {
    Some(match request {
        Request::Predict { id, image } => match predict(image.clone()).await {
            Ok(probabilities) => Response::Predicted { id: *id, probabilities },
            Err(failure) => Response::failed(Some(*id), failure),
        },
        Request::Sample { id, index, images_url, labels_url } => match dataset(images_url, labels_url).await {
            Ok(data) if *index < data.len() => Response::Sample { id: *id, index: *index, label: usize::from(data.labels[*index]), image: data.image(*index).to_vec() },
            Ok(data) => Response::failed(Some(*id), format!("test image {index} does not exist: the test set has {} (0–{})", data.len(), data.len() - 1)),
            Err(failure) => Response::failed(Some(*id), failure),
        },
        Request::NextMistake { id, start, images_url, labels_url } => match jobs::next_mistake(*start, images_url, labels_url).await {
            Ok(index) => Response::Mistake { id: *id, index },
            Err(failure) => Response::failed(Some(*id), failure),
        },
        Request::Inspect { id, url } => match inspect(url).await {
            Ok(metadata) => Response::Inspected { id: *id, metadata },
            Err(failure) => Response::failed(Some(*id), failure),
        },
        _ => return None,
    })
}

/// The prediction worker's requests: loads, predictions, test images and checks of uploads.
/// Attacks, training and sweeps are refused, and their code is not linked into its wasm.
async fn handle_light(request: Request) {
    let response = match request {
        // Always on the CPU: the prediction worker carries no GPU code.
        Request::Load { id, url, .. } => match state::load_on(state::device(BackendKind::Cpu).await, &url).await {
            Ok(backend) => Response::Loaded { id, backend: backend.kind, note: None, calibration: None },
            Err(failure) => Response::failed(Some(id), failure),
        },
        request => answer_light(&request).await.unwrap_or_else(|| Response::failed(None, Failure::bug("the prediction worker does not attack, train or evaluate: the engine does"))),
    };
    send(&response);
}

/// The engine's requests: everything.
async fn handle(request: Request) {
    if let Some(response) = answer_light(&request).await {
        return send(&response);
    }
    let response = match request {
        Request::Load { id, backend, url, calibration } => match calibrate::load(backend, &url, calibration).await {
            Ok((backend, calibration)) => Response::Loaded { id, backend: backend.kind, note: backend.note, calibration },
            Err(failure) => Response::failed(Some(id), failure),
        },
        Request::Attack { id, config, image, label, model_url } => match run_attack(id, &config, image, label, model_url.as_deref()).await {
            Ok((attacked, millis)) => Response::Attacked { id, adversarial: attacked.adversarial, probabilities: attacked.probabilities, broken_by: attacked.broken_by, millis },
            Err(failure) => Response::failed(Some(id), failure),
        },
        Request::Train { id, backend, calibration, config, data, resume_from, epochs_done, best } => {
            match jobs::train(id, (backend, calibration), config, &data, resume_from.as_deref(), epochs_done, best.as_ref()).await {
                Ok(stopped) => Response::TrainFinished { id, stopped },
                Err(failure) => Response::failed(Some(id), failure),
            }
        }
        Request::TrainControl { id, action } => {
            jobs::control(id, action);
            return;
        }
        Request::Evaluate { id, backend, calibration, models, plan, data } => match jobs::evaluate(id, (backend, calibration), &models, &plan, &data).await {
            Ok(models) => Response::Evaluated { id, models },
            Err(failure) => Response::failed(Some(id), failure),
        },
        Request::EvaluatePart { id, .. } => Response::failed(Some(id), Failure::bug("the engine evaluates whole sweeps: parts go to the sweep workers")),
        Request::Predict { .. } | Request::Sample { .. } | Request::NextMistake { .. } | Request::Inspect { .. } => return,
    };
    send(&response);
}

/// A sweep worker's requests: parts of a split sweep (always on the CPU), and what the
/// prediction worker answers.
async fn handle_part(request: Request) {
    let response = match request {
        Request::EvaluatePart { id, model_url, plan, part, images_url, labels_url } => match jobs::evaluate_part(&model_url, &plan, part, &images_url, &labels_url).await {
            Ok(result) => Response::PartEvaluated { id, result },
            Err(failure) => Response::failed(Some(id), failure),
        },
        request => answer_light(&request).await.unwrap_or_else(|| Response::failed(None, Failure::bug("a sweep worker only evaluates parts of a sweep: the engine does the rest"))),
    };
    send(&response);
}

/// Starts a sweep worker (the `sweeper` binary's `main`): parts of an evaluation sweep split
/// over several workers, on the CPU.
pub fn run_sweeper() {
    super::run_constructors();
    listen(|request| wasm_bindgen_futures::spawn_local(handle_part(request)));
}

/// Starts the engine worker: attacks, training and sweeps besides what the prediction worker
/// does (the `worker` binary's `main`).
pub fn run_engine() {
    super::run_constructors();
    listen(|request| wasm_bindgen_futures::spawn_local(handle(request)));
}

/// Starts the prediction worker (the `predictor` binary's `main`).
pub fn run_predictor() {
    super::run_constructors();
    listen(|request| wasm_bindgen_futures::spawn_local(handle_light(request)));
}

/// Listens for requests, each handled by `serve` as its own task.
fn listen(serve: fn(Request)) {
    console_error_panic_hook::set_once();
    let onmessage = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        match super::protocol::from_js::<Request>(event.data()) {
            Ok(request) => serve(request),
            Err(e) => send(&Response::failed(None, Failure::bug(format!("bad request: {e}")))),
        }
    });
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    send(&Response::Started);
}
