//! The engine's long jobs: training runs (paused, resumed and stopped by the page), evaluation
//! sweeps and the search for a misclassified test image, each reporting as it goes.

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::{now_ms, send};
use super::calibrate::backend_for;
use super::state::{dataset, fetch_model, loaded, model_at};
use crate::calibration::{Calibration, Job};
use crate::train::{BestEpoch as RunBest, RunData, Start, TrainingRun};
use crate::train::TrainConfig;
use crate::device::readback;
use crate::web::backend::BackendChoice;
use crate::eval::sweep;
use crate::web::protocol::{BestEpoch, DataUrls, Failure, ModelEvaluation, Part, PartResult, Plan, Response, TrainAction};

/// The training run in progress and what the page last asked of it.
struct TrainJob {
    id: u64,
    action: TrainAction,
}

thread_local! {
    static JOB: RefCell<Option<TrainJob>> = const { RefCell::new(None) };
}

/// Images classified per step of the search for a misclassified one.
const SEARCH_BATCH: usize = 64;

pub(super) async fn next_mistake(start: usize, images_url: &str, labels_url: &str) -> Result<Option<usize>, Failure> {
    let (backend, model) = loaded()?;
    let device = backend.device;
    let data = dataset(images_url, labels_url).await?;
    let n = data.len();
    let mut offset = 0;
    while offset < n {
        let indices: Vec<usize> = (offset..(offset + SEARCH_BATCH).min(n)).map(|k| (start + k) % n).collect();
        let (images, _) = data.batch(&indices, &device);
        let predictions = readback::ints(model.forward(images).argmax(1).reshape([indices.len()])).await?;
        if let Some(k) = predictions.iter().zip(&indices).position(|(p, &i)| *p != i64::from(data.labels[i])) {
            return Ok(Some(indices[k]));
        }
        offset += SEARCH_BATCH;
    }
    Ok(None)
}

/// The backend `choice` gives job `job` of request `id`, told to the page (`RunsOn`).
async fn runs_on(id: u64, choice: BackendChoice, job: Job, remembered: Option<Calibration>) -> super::state::Backend {
    let (backend, calibration) = backend_for(choice, job, remembered).await;
    send(&Response::RunsOn { id, backend: backend.kind, note: backend.note.clone(), calibration });
    backend
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
pub(super) async fn train(id: u64, (choice, remembered): (BackendChoice, Option<Calibration>), config: TrainConfig, data: &DataUrls, resume_from: Option<&str>, epochs_done: usize, best: Option<&BestEpoch>) -> Result<bool, Failure> {
    JOB.with(|j| *j.borrow_mut() = Some(TrainJob { id, action: TrainAction::Resume }));
    config.validate()?;
    let backend = runs_on(id, choice, Job::Training, remembered).await;
    let device = backend.device.clone();
    let test = dataset(&data.test_images, &data.test_labels).await?;
    let all = dataset(&data.train_images, &data.train_labels).await?;
    let start = match resume_from {
        Some(url) => {
            let (model, metadata) = fetch_model(url, &device).await?;
            let best = match best {
                Some(best) => Some(RunBest { epoch: best.epoch, accuracy: best.accuracy, model: fetch_model(&best.url, &device).await?.0 }),
                None => None,
            };
            Start::Resume { model, metadata, epochs_done, best }
        }
        None => Start::Fresh,
    };
    let mut run = TrainingRun::start(config.clone(), RunData::split(&config, &all, (*test).clone()), &device, start)?;
    if backend.kind == crate::web::backend::BackendKind::WebGpu {
        // A read drains the GPU's queue: one per group of batches, not one per batch, keeps it
        // busy (progress is reported every 100 ms anyway).
        run.read_every(GPU_READ_EVERY);
    }
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
        // Between epochs too: an epoch of a few fast batches never reaches the 30 ms above,
        // and pause and stop must get through all the same.
        sleep(0).await;
    }
    Ok(false)
}

/// Training batches whose losses the engine reads back together on WebGPU.
const GPU_READ_EVERY: usize = 8;

/// The evaluation sweep: every model, clean and under every attack configuration of `plan`.
pub(super) async fn evaluate(id: u64, (choice, remembered): (BackendChoice, Option<Calibration>), models: &[(String, String)], plan: &Plan, data: &DataUrls) -> Result<Vec<ModelEvaluation>, Failure> {
    plan.check()?;
    let backend = runs_on(id, choice, Job::Evaluation, remembered).await;
    let test = dataset(&data.test_images, &data.test_labels).await?;
    let per_model = plan.attacks.len() * plan.images;
    let total = models.len() * per_model;
    let mut last_sent = 0.0;
    let mut evaluations = Vec::new();
    for (name, url) in models {
        let model = model_at(url, &backend).await?;
        let before = evaluations.len() * per_model;
        let evaluation = sweep::evaluate_model(name, &model, plan, &test, &backend.device, |n| {
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

/// One part of a sweep split over the page's sweep workers, on the CPU (the backend of every
/// split sweep: the same numbers as `advlab eval`).
pub(super) async fn evaluate_part(model_url: &str, plan: &Plan, part: Part, images_url: &str, labels_url: &str) -> Result<PartResult, Failure> {
    let backend = super::state::device(crate::web::backend::BackendKind::Cpu).await;
    let model = model_at(model_url, &backend).await?;
    let test = dataset(images_url, labels_url).await?;
    Ok(plan.evaluate_part(&model, &test, part, &backend.device).await?)
}

/// Records what the page asks of training run `id` (pause, resume, stop).
pub(super) fn control(id: u64, action: TrainAction) {
    JOB.with(|j| {
        if let Some(job) = j.borrow_mut().as_mut().filter(|j| j.id == id) {
            job.action = action;
        }
    });
}
