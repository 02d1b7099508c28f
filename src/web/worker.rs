//! The Web Worker's side: it owns a backend and a model and runs the attacks, so that the page's
//! main thread never computes more than a live prediction.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use burn::tensor::Device;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::backend::{self, BackendKind};
use super::protocol::{BestEpoch, DataUrls, ModelEvaluation, Request, Response, TrainAction};
use crate::attack;
use crate::data::Dataset;
use crate::session::{self, RunData, Start, TrainingRun};
use crate::train::TrainConfig;
use crate::model::{Classifier, weights};
use crate::readback;

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

/// The training run in progress and what the page last asked of it.
struct TrainJob {
    id: u64,
    action: TrainAction,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
    static JOB: RefCell<Option<TrainJob>> = const { RefCell::new(None) };
}

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

/// The worker's device, started on the first call and restarted when the page asks for another
/// backend (WebGPU falls back to the CPU). Returns it, its
/// kind and why WebGPU is not used, if it was asked for and is not.
async fn device(prefer: BackendKind) -> (Device, BackendKind, Option<String>) {
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
async fn load(prefer: BackendKind, url: &str) -> Result<(BackendKind, Option<String>), String> {
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
async fn fetch_model(url: &str, device: &Device) -> Result<(Classifier, weights::Metadata), String> {
    let bytes = super::fetch::bytes(url).await?;
    weights::from_bytes(&bytes, device).map_err(|e| format!("{url}: {e}"))
}

/// The model at `url` on `device`, fetched once and then kept.
async fn model_at(url: &str, device: &Device) -> Result<Classifier, String> {
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
fn loaded() -> Result<(Device, Classifier), String> {
    STATE
        .with(|s| s.borrow().as_ref().and_then(|s| s.model.clone().map(|m| (s.device.clone(), m))))
        .ok_or_else(|| "no model is loaded yet".to_string())
}

async fn predict(image: Vec<f32>) -> Result<Vec<f32>, String> {
    let (device, model) = loaded()?;
    session::probabilities(&model, &image, &device).await
}

/// The dataset in the IDX files at these URLs, fetched once (into Cache Storage, for later
/// visits too) and then kept in memory. A cached copy that does not parse (a host that answered
/// a missing file with a page) is dropped and fetched again.
async fn dataset(images_url: &str, labels_url: &str) -> Result<Rc<Dataset>, String> {
    if let Some(data) = STATE.with(|s| s.borrow().as_ref().and_then(|s| s.datasets.get(images_url).cloned())) {
        return Ok(data);
    }
    let parse = |images: &[u8], labels: &[u8]| Dataset::from_idx((images_url, images), (labels_url, labels)).map_err(|e| e.to_string());
    let (images, labels) = (super::fetch::cached_bytes(images_url).await?, super::fetch::cached_bytes(labels_url).await?);
    let data = match parse(&images, &labels) {
        Ok(data) => data,
        Err(_) => {
            super::fetch::forget(images_url).await;
            super::fetch::forget(labels_url).await;
            parse(&super::fetch::bytes(images_url).await?, &super::fetch::bytes(labels_url).await?)?
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

/// Images classified per step of the search for a misclassified one.
const SEARCH_BATCH: usize = 64;

async fn next_mistake(start: usize, images_url: &str, labels_url: &str) -> Result<Option<usize>, String> {
    let (device, model) = loaded()?;
    let data = dataset(images_url, labels_url).await?;
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

async fn run_attack(config: &attack::AttackConfig, image: Vec<f32>, label: usize, model_url: Option<&str>) -> Result<session::AttackedImage, String> {
    let (device, mut model) = loaded()?;
    if let Some(url) = model_url {
        model = model_at(url, &device).await?;
    }
    session::attack_image(&model, config, &image, label, &device).await
}

/// Checks that the file at `url` is a weights file this version reads; returns its metadata.
async fn inspect(url: &str) -> Result<String, String> {
    // Parsed on the CPU: checking a file must not restart the worker's backend.
    let bytes = super::fetch::bytes(url).await?;
    let (_, metadata) = weights::from_bytes(&bytes, &Device::flex()).map_err(|e| e.to_string())?;
    serde_json::to_string(&metadata).map_err(|e| e.to_string())
}

/// Milliseconds since the epoch (the clock of `Date.now()`).
fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Waits `ms` milliseconds (`setTimeout`), letting the worker handle messages meanwhile.
async fn sleep(ms: i32) {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).is_err() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// What the page last asked of run `id` (`Stop` once another run replaced it).
fn job_action(id: u64) -> TrainAction {
    JOB.with(|j| j.borrow().as_ref().filter(|j| j.id == id).map_or(TrainAction::Stop, |j| j.action))
}

/// Runs a training job to its end, reporting as it goes; returns whether the user stopped it.
async fn train(id: u64, prefer: BackendKind, config: TrainConfig, data: &DataUrls, resume_from: Option<&str>, epochs_done: usize, best: Option<&BestEpoch>) -> Result<bool, String> {
    JOB.with(|j| *j.borrow_mut() = Some(TrainJob { id, action: TrainAction::Resume }));
    config.validate().map_err(|e| e.to_string())?;
    let (device, _, _) = device(prefer).await;
    let test = dataset(&data.test_images, &data.test_labels).await?;
    let all = dataset(&data.train_images, &data.train_labels).await?;
    let start = match resume_from {
        Some(url) => {
            let (model, _) = fetch_model(url, &device).await?;
            let best = match best {
                Some(best) => Some(session::BestEpoch { epoch: best.epoch, accuracy: best.accuracy, model: fetch_model(&best.url, &device).await?.0 }),
                None => None,
            };
            Start::Resume { model, epochs_done, best }
        }
        None => Start::Fresh,
    };
    let mut run = TrainingRun::start(config.clone(), RunData::split(&config, &all, (*test).clone()), &device, start)?;
    let total_batches = (run.batches_per_epoch() * config.epochs) as f64;
    while !run.finished() {
        let started = now_ms();
        let (mut last_sent, mut last_yield) = (started, started);
        // Time spent paused does not count towards the speed.
        let mut paused_ms = 0.0;
        let mut pending = Vec::new();
        let mut examples = 0usize;
        let finished = run
            .next_epoch(async |batch| {
                examples += batch.size;
                pending.push(batch);
                let now = now_ms();
                if now - last_sent >= 100.0 || batch.batch == batch.batches {
                    let rate = examples as f64 / ((now - started - paused_ms) / 1000.0).max(1e-3);
                    let done = ((batch.epoch - 1) * batch.batches + batch.batch) as f64;
                    let remaining = (total_batches - done).max(0.0) * config.batch_size as f64;
                    send(&Response::TrainProgress {
                        id,
                        batches: std::mem::take(&mut pending),
                        progress: (done / total_batches) as f32,
                        examples_per_second: rate as f32,
                        eta_seconds: (remaining / rate.max(1e-3)) as f32,
                    });
                    last_sent = now;
                }
                // On the CPU backend reads complete at once: yield now and then so that pause
                // and stop get through.
                if now - last_yield >= 30.0 {
                    sleep(0).await;
                    last_yield = now_ms();
                }
                loop {
                    match job_action(id) {
                        TrainAction::Resume => return true,
                        TrainAction::Stop => return false,
                        TrainAction::Pause => {
                            let before = now_ms();
                            sleep(100).await;
                            paused_ms += now_ms() - before;
                        }
                    }
                }
            })
            .await?;
        let Some(epoch) = finished else { return Ok(true) };
        send(&Response::TrainEpoch { id, report: epoch.report, test_accuracy: epoch.test_accuracy, weights: epoch.weights, epochs_done: epoch.epochs_done, best: epoch.best });
    }
    Ok(false)
}

/// Test images shown per attack configuration in the gallery of flipped images.
const GALLERY: usize = 6;

/// The evaluation sweep: every model, clean and under every attack configuration.
async fn evaluate(id: u64, prefer: BackendKind, models: &[(String, String)], attacks: &[attack::AttackConfig], limit: usize, data: &DataUrls) -> Result<Vec<ModelEvaluation>, String> {
    if limit == 0 {
        return Err("an evaluation needs at least one test image".into());
    }
    let (device, _, _) = device(prefer).await;
    let test = dataset(&data.test_images, &data.test_labels).await?.take(limit);
    let total = models.len() * attacks.len() * test.len();
    let mut last_sent = 0.0;
    let mut evaluations = Vec::new();
    for (name, url) in models {
        let model = model_at(url, &device).await?;
        let before = evaluations.len() * attacks.len() * test.len();
        let evaluation = session::evaluate_model(name, &model, attacks, &test, crate::eval::BATCH, &device, GALLERY, |n| {
            let now = now_ms();
            if now - last_sent >= 100.0 {
                send(&Response::EvalProgress { id, done: before + n, total });
                last_sent = now;
            }
        })
        .await?;
        evaluations.push(evaluation);
    }
    send(&Response::EvalProgress { id, done: total, total });
    Ok(evaluations)
}

/// The answer to a request either worker serves (`None`: not one of those).
async fn answer_light(request: &Request) -> Option<Response> {
    Some(match request {
        Request::Load { id, backend, url } => match load(*backend, url).await {
            Ok((backend, note)) => Response::Loaded { id: *id, backend, note },
            Err(message) => Response::Failed { id: Some(*id), message },
        },
        Request::Predict { id, image } => match predict(image.clone()).await {
            Ok(probabilities) => Response::Predicted { id: *id, probabilities },
            Err(message) => Response::Failed { id: Some(*id), message },
        },
        Request::Sample { id, index, images_url, labels_url } => match dataset(images_url, labels_url).await {
            Ok(data) if *index < data.len() => Response::Sample { id: *id, index: *index, label: usize::from(data.labels[*index]), image: data.image(*index).to_vec() },
            Ok(data) => Response::Failed { id: Some(*id), message: format!("test image {index} does not exist: the test set has {} (0–{})", data.len(), data.len() - 1) },
            Err(message) => Response::Failed { id: Some(*id), message },
        },
        Request::NextMistake { id, start, images_url, labels_url } => match next_mistake(*start, images_url, labels_url).await {
            Ok(index) => Response::Mistake { id: *id, index },
            Err(message) => Response::Failed { id: Some(*id), message },
        },
        Request::Inspect { id, url } => match inspect(url).await {
            Ok(metadata) => Response::Inspected { id: *id, metadata },
            Err(message) => Response::Failed { id: Some(*id), message },
        },
        _ => return None,
    })
}

/// The prediction worker's requests: loads, predictions, test images and checks of uploads.
/// Attacks, training and sweeps are refused, and their code is not linked into its wasm.
async fn handle_light(request: Request) {
    let response = match answer_light(&request).await {
        Some(response) => response,
        None => Response::Failed { id: None, message: "the prediction worker does not attack, train or evaluate: the engine does".into() },
    };
    send(&response);
}

/// The engine's requests: everything.
async fn handle(request: Request) {
    if let Some(response) = answer_light(&request).await {
        return send(&response);
    }
    let response = match request {
        Request::Attack { id, config, image, label, model_url } => match run_attack(&config, image, label, model_url.as_deref()).await {
            Ok(attacked) => Response::Attacked { id, adversarial: attacked.adversarial, probabilities: attacked.probabilities, broken_by: attacked.broken_by },
            Err(message) => Response::Failed { id: Some(id), message },
        },
        Request::Train { id, backend, config, data, resume_from, epochs_done, best } => {
            match train(id, backend, config, &data, resume_from.as_deref(), epochs_done, best.as_ref()).await {
                Ok(stopped) => Response::TrainFinished { id, stopped },
                Err(message) => Response::Failed { id: Some(id), message },
            }
        }
        Request::TrainControl { id, action } => {
            JOB.with(|j| {
                if let Some(job) = j.borrow_mut().as_mut().filter(|j| j.id == id) {
                    job.action = action;
                }
            });
            return;
        }
        Request::Evaluate { id, backend, models, attacks, limit, data } => match evaluate(id, backend, &models, &attacks, limit, &data).await {
            Ok(models) => Response::Evaluated { id, models },
            Err(message) => Response::Failed { id: Some(id), message },
        },
        Request::Load { .. } | Request::Predict { .. } | Request::Sample { .. } | Request::NextMistake { .. } | Request::Inspect { .. } => return,
    };
    send(&response);
}

/// Starts the engine worker: attacks, training and sweeps besides what the prediction worker
/// does (the `worker` binary's `main`).
pub fn run_engine() {
    listen(|request| wasm_bindgen_futures::spawn_local(handle(request)));
}

/// Starts the prediction worker (the `predictor` binary's `main`).
pub fn run_predictor() {
    listen(|request| wasm_bindgen_futures::spawn_local(handle_light(request)));
}

/// Listens for requests, each handled by `serve` as its own task.
fn listen(serve: fn(Request)) {
    console_error_panic_hook::set_once();
    let onmessage = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        match super::protocol::from_js::<Request>(event.data()) {
            Ok(request) => serve(request),
            Err(e) => send(&Response::Failed { id: None, message: format!("bad request: {e}") }),
        }
    });
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    send(&Response::Started);
}
