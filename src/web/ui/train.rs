//! The train panel: standard and adversarial training in a Web Worker, live curves, the collapse
//! guard made visible, and a run that survives a reload (its last finished epoch is kept in
//! IndexedDB and training resumes from it).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::train_run::{Best, CURVE_POINTS, CurvePoint, EpochPoint, Run, Status, TrainCharts, duration};
use super::train_form::TrainForm;
use crate::web::backend::BackendKind;
use crate::web::client::Engine;
use super::zoo::Zoo;
use crate::model::Architecture;
use crate::model::weights;
use crate::train::{BatchReport, Defense, TrainConfig};
use crate::web::protocol::{BestEpoch, DataUrls, Request, Response, TrainAction};
use crate::web::lock;
use crate::web::store::{self, BEST_EPOCH, CURRENT_RUN, RUNS, Record};

/// The train panel. `backend` is the backend the user chose (`webgpu` or `cpu`), `data` the
/// dataset URLs; a finished or stopped run joins `zoo`, and `on_use` selects it in the lab.
#[component]
pub fn TrainPanel(zoo: Zoo, backend: Signal<BackendKind>, data: Signal<DataUrls>, on_use: Callback<String>) -> impl IntoView {
    // The next run, edited by the form (always a valid configuration).
    let config = RwSignal::new(TrainConfig::interactive(Architecture::Mlp, Defense::None));

    let run = RwSignal::new(None::<Run>);
    let status = RwSignal::new(Status::Idle);
    let progress = RwSignal::new(0f32);
    let speed = RwSignal::new(None::<(f32, f32)>);
    let problem = RwSignal::new(None::<String>);
    let finished_model = RwSignal::new(None::<String>);
    let weights_now = StoredValue::new(None::<Vec<u8>>);
    let run_id = StoredValue::new(0u64);
    // False until the check for a run stored by an earlier visit is done.
    let checked = RwSignal::new(false);
    // Epochs of the run that IndexedDB holds (what a reload would resume from).
    let saved_epochs = RwSignal::new(None::<usize>);
    // How often this run's engine died and the run was resumed on a new one.
    let restarts = StoredValue::new(0u32);
    // Resumes the stored run (set once `launch` exists; the worker's listener needs it first).
    let resume_later = StoredValue::new(None::<Callback<()>>);
    // This tab's hold on the training lock while it trains (two tabs never share a stored run).
    let training_lock = StoredValue::new_local(None::<lock::HeldLock>);

    // Saves the run and its last finished epoch's weights, so that a reload resumes it.
    let persist = move || {
        let Some(r) = run.get_untracked() else { return };
        let bytes = weights_now.get_value().unwrap_or_default();
        spawn_local(async move {
            let saved = match Record::new(CURRENT_RUN, &r, bytes) {
                Ok(record) => store::write(RUNS, &record).await,
                Err(e) => Err(e),
            };
            match saved {
                Ok(()) => saved_epochs.set(Some(r.epochs_done)),
                Err(e) => problem.set(Some(e)),
            }
        });
    };
    // The run ended: its last finished epoch joins the zoo and the stored run is dropped, in one
    // transaction (a reload at any moment finds the run or the model, never both or neither). The
    // run stays stored, resumable by a reload, when the zoo cannot take the model.
    let conclude = move |final_status: Status| {
        status.set(final_status);
        speed.set(None);
        training_lock.set_value(None);
        let name = run.get_untracked().map(|r| r.name);
        let bytes = weights_now.get_value();
        spawn_local(async move {
            let dropped = match (name, bytes) {
                (Some(name), Some(bytes)) => {
                    // Another model may have taken the name meanwhile (an upload, a rename).
                    let name = zoo.free_id(&name);
                    let added = match weights::metadata(&bytes) {
                        Ok(metadata) => zoo.add_from(name.clone(), bytes, metadata, Some((RUNS, &[CURRENT_RUN, BEST_EPOCH]))).await,
                        Err(e) => Err(format!("the last epoch's weights cannot be read ({e}); the run stays stored")),
                    };
                    match added {
                        Ok(()) => {
                            finished_model.set(Some(name));
                            true
                        }
                        Err(e) => {
                            problem.set(Some(e));
                            false
                        }
                    }
                }
                _ => {
                    if final_status == Status::Stopped {
                        problem.set(Some("stopped before the first epoch finished: there is no model to keep".into()));
                    }
                    store::delete(RUNS, CURRENT_RUN).await.is_ok() && store::delete(RUNS, BEST_EPOCH).await.is_ok()
                }
            };
            if dropped {
                saved_epochs.set(None);
            }
        });
    };
    let busy_now = move || matches!(status.get_untracked(), Status::Loading | Status::Running | Status::Paused);
    let on_response = move |response: Response| match response {
        Response::TrainProgress { id, batches, progress: p, examples_per_second, eta_seconds } if id == run_id.get_value() => {
            if status.get_untracked() == Status::Loading {
                status.set(Status::Running);
            }
            progress.set(p);
            speed.set(Some((examples_per_second, eta_seconds)));
            run.update(|r| {
                if let Some(r) = r {
                    r.curve.extend(batches.iter().map(|b: &BatchReport| CurvePoint {
                        x: (b.epoch - 1) as f32 + b.batch as f32 / b.batches as f32,
                        loss: b.loss,
                        accuracy: b.accuracy,
                    }));
                    if r.curve.len() > CURVE_POINTS {
                        r.curve = r.curve.iter().step_by(2).copied().collect();
                    }
                }
            });
        }
        Response::TrainEpoch { id, report, test_accuracy, weights: bytes, epochs_done, best } if id == run_id.get_value() => {
            // fgsm-rs: the best epoch so far is kept too, so that a resumed run's collapse guard
            // can compare against it and restore it.
            if let (true, Some(accuracy)) = (best, report.validation_robust_accuracy) {
                if let Ok(record) = Record::new(BEST_EPOCH, &Best { epoch: epochs_done, accuracy }, bytes.clone()) {
                    spawn_local(async move {
                        let _ = store::write(RUNS, &record).await;
                    });
                }
            }
            weights_now.set_value(Some(bytes));
            run.update(|r| {
                if let Some(r) = r {
                    r.epochs_done = epochs_done;
                    r.epochs.push(EpochPoint { report, test_accuracy });
                }
            });
            persist();
        }
        Response::TrainFinished { id, stopped } if id == run_id.get_value() => conclude(if stopped { Status::Stopped } else { Status::Finished }),
        // The engine died mid-run: a fresh one goes on from the last finished epoch (stored after
        // every epoch), once; a second death ends the run, keeping what finished.
        Response::Died { message } if busy_now() => {
            if restarts.get_value() == 0 {
                restarts.set_value(1);
                problem.set(Some(format!("The engine stopped ({message}); training goes on from the last finished epoch on a new one.")));
                if let Some(resume) = resume_later.get_value() {
                    resume.run(());
                }
            } else {
                problem.set(Some(format!("The engine stopped again ({message}): the run ends with its last finished epoch.")));
                conclude(Status::Failed);
            }
        }
        // The run failed: keep what finished, and do not resume it on reload.
        Response::Failed { id: Some(id), message } if id == run_id.get_value() => {
            problem.set(Some(message));
            conclude(Status::Failed);
        }
        Response::Failed { id: None, message } => {
            problem.set(Some(message));
            if busy_now() {
                conclude(Status::Failed);
            }
        }
        _ => {}
    };
    let worker = expect_context::<Engine>();
    worker.listen(move |response| on_response(response.clone()));

    let launch = move |r: Run, resume_from: Option<Vec<u8>>, best: Option<(Best, Vec<u8>)>| {
        run_id.set_value(worker.next_id());
        let urls = (|| -> Result<_, String> {
            let resume = resume_from.as_deref().map(super::zoo::blob_url).transpose()?;
            let best = match best {
                Some((b, bytes)) => Some(BestEpoch { epoch: b.epoch, accuracy: b.accuracy, url: super::zoo::blob_url(&bytes)? }),
                None => None,
            };
            Ok((resume, best))
        })();
        let (resume_url, best) = match urls {
            Ok(urls) => urls,
            Err(e) => {
                problem.set(Some(e));
                return;
            }
        };
        let request = Request::Train {
            id: run_id.get_value(),
            backend: backend.get_untracked(),
            config: r.config.clone(),
            data: data.get_untracked(),
            resume_from: resume_url,
            epochs_done: r.epochs_done,
            best,
        };
        progress.set(r.epochs_done as f32 / r.config.epochs as f32);
        run.set(Some(r));
        status.set(Status::Loading);
        if let Err(e) = worker.send(request) {
            status.set(Status::Failed);
            problem.set(Some(e));
        }
    };

    let start = move || {
        problem.set(None);
        finished_model.set(None);
        restarts.set_value(0);
        let config: Result<TrainConfig, String> = config.get_untracked().validate().map(|()| config.get_untracked()).map_err(|e| e.to_string());
        match config {
            Ok(config) => spawn_local(async move {
                if training_lock.with_value(Option::is_none) {
                    match lock::take(lock::TRAINING, false).await {
                        Some(held) => training_lock.set_value(Some(held)),
                        None => {
                            problem.set(Some("Another tab of advlab is training: one run at a time, so that neither overwrites the other's stored run. Stop it there or let it finish.".into()));
                            return;
                        }
                    }
                }
                let _ = store::delete(RUNS, BEST_EPOCH).await;
                let name = zoo.free_id(&format!("{}-{}", config.architecture, config.defense));
                weights_now.set_value(None);
                let r = Run { name, config, epochs_done: 0, epochs: Vec::new(), curve: Vec::new() };
                launch(r, None, None);
                persist();
            }),
            Err(e) => problem.set(Some(e)),
        }
    };
    let control = move |action: TrainAction| {
        let _ = worker.send(Request::TrainControl { id: run_id.get_value(), action });
        match action {
            TrainAction::Pause => status.set(Status::Paused),
            TrainAction::Resume => status.set(Status::Running),
            TrainAction::Stop => {}
        }
    };

    // The run stored in IndexedDB (by an earlier visit, or before its engine died) resumes from
    // its last finished epoch. A stored run this version cannot read is never dropped with its
    // weights: they join the zoo.
    let resume_stored = move || {
        spawn_local(async move {
            // Another tab may be training the stored run: it goes on here once that tab lets go
            // of it (at once after a reload), and is read again then.
            if training_lock.with_value(Option::is_none) && matches!(store::read(RUNS, CURRENT_RUN).await, Ok(Some(_))) {
                if let Some(held) = lock::take(lock::TRAINING, true).await {
                    training_lock.set_value(Some(held));
                }
            }
            match store::read(RUNS, CURRENT_RUN).await {
                Ok(Some(record)) => match record.info::<Run>() {
                    Ok(r) => {
                        let resume = (!record.bytes.is_empty()).then_some(record.bytes);
                        let r = if resume.is_some() { r } else { Run { epochs_done: 0, epochs: Vec::new(), curve: Vec::new(), ..r } };
                        let best = match store::read(RUNS, BEST_EPOCH).await {
                            Ok(Some(b)) if resume.is_some() && !b.bytes.is_empty() => b.info::<Best>().ok().filter(|x| x.epoch <= r.epochs_done).map(|x| (x, b.bytes)),
                            _ => None,
                        };
                        weights_now.set_value(resume.clone());
                        saved_epochs.set(Some(r.epochs_done));
                        launch(r, resume, best);
                    }
                    Err(e) => {
                        let kept = match weights::metadata(&record.bytes) {
                            Ok(metadata) => {
                                let name = zoo.free_id("recovered-run");
                                zoo.add_from(name.clone(), record.bytes, metadata, Some((RUNS, &[CURRENT_RUN, BEST_EPOCH]))).await.map(|()| format!("its last finished epoch joined your models as `{name}`"))
                            }
                            Err(_) => store::delete(RUNS, CURRENT_RUN).await.map(|()| "it had no finished epoch".to_string()),
                        };
                        problem.set(Some(match kept {
                            Ok(what) => format!("The stored training run could not be read ({e}): {what}."),
                            Err(why) => format!("The stored training run could not be read ({e}) and is kept as it is: {why}"),
                        }));
                    }
                },
                Ok(None) => {}
                Err(e) => problem.set(Some(e)),
            }
            checked.set(true);
        });
    };
    resume_later.set_value(Some(Callback::new(move |()| resume_stored())));
    resume_stored();

    let busy = move || matches!(status.get(), Status::Loading | Status::Running | Status::Paused);
    let last_test = move || run.with(|r| r.as_ref().and_then(|r| r.epochs.last().map(|e| e.test_accuracy)));
    let collapse_note = move || run.with(|r| r.as_ref().and_then(|r| r.epochs.iter().find_map(|e| e.report.stopped.clone())));
    let status_text = move || {
        let epoch_text = run.with(|r| r.as_ref().map(|r| format!("epoch {} of {}", (r.epochs_done + 1).min(r.config.epochs), r.config.epochs)).unwrap_or_default());
        match status.get() {
            Status::Idle => "Not started".to_string(),
            Status::Loading => format!("Starting ({epoch_text}): fetching the training set and starting the backend…"),
            Status::Running => format!("Training, {epoch_text}"),
            Status::Paused => format!("Paused, {epoch_text}"),
            Status::Finished => "Finished".to_string(),
            Status::Stopped => "Stopped: the last finished epoch is kept".to_string(),
            Status::Failed => "Failed".to_string(),
        }
    };

    view! {
        <section class="card" id="train">
            <h2 class="card-title">"Train"</h2>
            <p class="muted small">"Train a classifier on the 60,000 MNIST training images, in a Web Worker on this page's backend. "
                <strong>"mixed"</strong>" adds FGSM images to the loss with weight λ; "<strong>"fgsm-rs"</strong>" is fast adversarial training (FGSM from a random start, Wong et al. 2020), guarded against catastrophic overfitting: when held-out PGD accuracy collapses, the best epoch is restored and training stops; "
                <strong>"pgd"</strong>" is Madry et al.'s PGD-10 training; "<strong>"trades"</strong>" trades accuracy for robustness with weight β (Zhang et al. 2019); "<strong>"noise"</strong>" trains on randomly perturbed images (a baseline, not a defense against worst-case attacks). Weight decay and the input-gradient penalty combine with any of them. 1,000 training images are held out to check every epoch. A reload resumes the run from its last finished epoch."</p>
            <TrainForm config=config disabled=Signal::derive(busy) />
            <div class="toolbar">
                <button class="primary" data-testid="train-start" on:click=move |_| start() prop:disabled=move || busy() || !checked.get()>"Start"</button>
                <Show when=move || status.get() == Status::Paused
                    fallback=move || view! { <button data-testid="train-pause" on:click=move |_| control(TrainAction::Pause) prop:disabled=move || status.get() != Status::Running>"Pause"</button> }>
                    <button data-testid="train-resume" on:click=move |_| control(TrainAction::Resume)>"Resume"</button>
                </Show>
                <button class="danger" data-testid="train-stop" on:click=move |_| control(TrainAction::Stop) prop:disabled=move || !busy()>"Stop"</button>
                <span class="muted small" data-testid="train-status" data-value=move || format!("{:?}", status.get()).to_lowercase()
                    data-checked=move || checked.get().to_string() data-saved-epochs=move || saved_epochs.get().map(|e| e.to_string()).unwrap_or_default()>{status_text}</span>
            </div>
            <div class="progress" data-testid="train-progress" data-value=move || progress.get().to_string() style=move || format!("--p: {}", progress.get())
                role="progressbar" aria-valuemin="0" aria-valuemax="1" aria-valuenow=move || progress.get().to_string()></div>
            <p class="muted small" data-testid="train-speed" data-value=move || speed.get().map(|s| s.0.to_string()).unwrap_or_default()>
                {move || speed.get().map(|(rate, eta)| format!("{rate:.0} examples/s · about {} left", duration(eta))).unwrap_or_default()}
            </p>
            {move || run.with(|r| r.as_ref().map(|r| view! {
                <p class="small" data-testid="train-epochs-done" data-value=r.epochs_done.to_string()>
                    {format!("Model `{}`: {} of {} epochs finished", r.name, r.epochs_done, r.config.epochs)}
                </p>
            }))}
            {move || last_test().map(|a| view! {
                <p class="metric inline-metric" data-testid="train-test-accuracy" data-value=a.to_string()><span>"test accuracy after the last epoch"</span><span class="metric-value">{format!("{:.2}%", a * 100.0)}</span></p>
            })}
            {move || collapse_note().map(|n| view! { <div class="alert alert-warn small" data-testid="train-collapse">{n}</div> })}
            <TrainCharts run=run />
            {move || finished_model.get().map(|id| {
                let text = format!("`{id}` joined your models. ");
                view! {
                    <div class="alert alert-info small" data-testid="train-done">
                        {text}
                        <button class="ghost" on:click=move |_| on_use.run(id.clone())>"Attack it"</button>
                    </div>
                }
            })}
            {move || problem.get().map(|p| view! { <div class="alert alert-error small" role="alert" data-testid="train-error">{p}</div> })}
        </section>
    }
}
