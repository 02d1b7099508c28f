//! The page's side of a training run: it starts the run in the engine, follows its progress,
//! stores it in IndexedDB after every epoch (a reload resumes it; a dead engine is replaced and
//! the run goes on), and hands the finished model to the zoo. The train panel is a view of it.
//! What it keeps in IndexedDB is in [`storage`].

mod storage;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::train_run::{Best, CURVE_POINTS, CurvePoint, EpochPoint, Run, Status};
use super::zoo::{Zoo, blob_url};
use crate::train::{BatchReport, TrainConfig};
use super::backends::Backends;
use crate::calibration::Job;
use crate::web::client::Engine;
use crate::web::lock;
use crate::web::protocol::{BestEpoch, DataUrls, FailureKind, Request, Response, TrainAction};
use crate::web::store::{self, BEST_EPOCH, RUNS, Record};

/// A training run as the page drives it. Every field is a handle, so the job is `Copy`.
#[derive(Clone, Copy)]
pub(super) struct TrainingJob {
    /// The run: its config, curves and finished epochs (`None` before the first start).
    pub run: RwSignal<Option<Run>>,
    /// Where the run stands.
    pub status: RwSignal<Status>,
    /// Fraction of the run done, in `[0,1]`.
    pub progress: RwSignal<f32>,
    /// Examples per second and estimated seconds left, while it runs.
    pub speed: RwSignal<Option<(f32, f32)>>,
    /// What went wrong, for the panel to show.
    pub problem: RwSignal<Option<String>>,
    /// The zoo id of the model the last run left.
    pub finished_model: RwSignal<Option<String>>,
    /// False until the check for a run stored by an earlier visit is done.
    pub checked: RwSignal<bool>,
    /// Epochs of the run that IndexedDB holds (what a reload would resume from).
    pub saved_epochs: RwSignal<Option<usize>>,
    weights_now: StoredValue<Option<Vec<u8>>>,
    run_id: StoredValue<u64>,
    /// How often this run's engine died and the run was resumed on a new one.
    restarts: StoredValue<u32>,
    /// This tab's hold on the training lock while it trains (two tabs never share a stored run).
    training_lock: StoredValue<Option<lock::HeldLock>, LocalStorage>,
    zoo: Zoo,
    backends: Backends,
    data: Signal<DataUrls>,
    engine: Engine,
}

impl TrainingJob {
    /// A job on the page's engine; it listens to the engine and resumes a stored run at once.
    pub fn new(zoo: Zoo, data: Signal<DataUrls>) -> Self {
        let job = TrainingJob {
            run: RwSignal::new(None),
            status: RwSignal::new(Status::Idle),
            progress: RwSignal::new(0.0),
            speed: RwSignal::new(None),
            problem: RwSignal::new(None),
            finished_model: RwSignal::new(None),
            checked: RwSignal::new(false),
            saved_epochs: RwSignal::new(None),
            weights_now: StoredValue::new(None),
            run_id: StoredValue::new(0),
            restarts: StoredValue::new(0),
            training_lock: StoredValue::new_local(None),
            zoo,
            backends: expect_context::<Backends>(),
            data,
            engine: expect_context::<Engine>(),
        };
        job.engine.listen(move |response| job.hear(response));
        job.resume_stored();
        job
    }

    /// True while a run loads, trains or is paused (tracked).
    pub fn busy(self) -> bool {
        matches!(self.status.get(), Status::Loading | Status::Running | Status::Paused)
    }

    fn busy_now(self) -> bool {
        matches!(self.status.get_untracked(), Status::Loading | Status::Running | Status::Paused)
    }

    /// Starts a new run of `config` (refused while another tab trains).
    pub fn start(self, config: TrainConfig) {
        self.problem.set(None);
        self.finished_model.set(None);
        self.restarts.set_value(0);
        if let Err(e) = config.validate() {
            self.problem.set(Some(e.to_string()));
            return;
        }
        spawn_local(async move {
            if self.training_lock.with_value(Option::is_none) {
                match lock::take(lock::TRAINING, false).await {
                    Some(held) => self.training_lock.set_value(Some(held)),
                    None => {
                        self.problem.set(Some("Another tab of advlab is training: one run at a time, so that neither overwrites the other's stored run. Stop it there or let it finish.".into()));
                        return;
                    }
                }
            }
            let _ = store::delete(RUNS, BEST_EPOCH).await;
            let name = self.zoo.free_id(&format!("{}-{}", config.architecture, config.defense));
            self.weights_now.set_value(None);
            self.launch(Run { name, config, epochs_done: 0, epochs: Vec::new(), curve: Vec::new() }, None, None);
            self.persist();
        });
    }

    /// Pauses, resumes or stops the run.
    pub fn control(self, action: TrainAction) {
        let _ = self.engine.send(Request::TrainControl { id: self.run_id.get_value(), action });
        match action {
            TrainAction::Pause => self.status.set(Status::Paused),
            TrainAction::Resume => self.status.set(Status::Running),
            TrainAction::Stop => {}
        }
    }

    /// Sends run `r` to the engine, from the weights of its last finished epoch when resumed.
    fn launch(self, r: Run, resume_from: Option<Vec<u8>>, best: Option<(Best, Vec<u8>)>) {
        self.run_id.set_value(self.engine.next_id());
        let urls = (|| -> Result<_, String> {
            let resume = resume_from.as_deref().map(blob_url).transpose()?;
            let best = match best {
                Some((b, bytes)) => Some(BestEpoch { epoch: b.epoch, accuracy: b.accuracy, url: blob_url(&bytes)? }),
                None => None,
            };
            Ok((resume, best))
        })();
        let (resume_from, best) = match urls {
            Ok(urls) => urls,
            Err(e) => {
                self.problem.set(Some(e));
                return;
            }
        };
        let request = Request::Train {
            id: self.run_id.get_value(),
            backend: self.backends.request_choice(),
            calibration: self.backends.remembered(),
            config: r.config.clone(),
            data: self.data.get_untracked(),
            resume_from,
            epochs_done: r.epochs_done,
            best,
        };
        self.progress.set(r.epochs_done as f32 / r.config.epochs as f32);
        self.run.set(Some(r));
        self.status.set(Status::Loading);
        if let Err(e) = self.engine.send(request) {
            self.status.set(Status::Failed);
            self.problem.set(Some(e));
        }
    }

    /// An answer of the engine (every panel hears all of them; this job keeps its run's).
    fn hear(self, response: &Response) {
        let this_run = |id: &u64| *id == self.run_id.get_value();
        match response {
            Response::RunsOn { id, backend, note, calibration } if this_run(id) => self.backends.ran(Job::Training, *backend, note.clone(), calibration.clone()),
            Response::TrainProgress { id, batches, progress, examples_per_second, eta_seconds } if this_run(id) => {
                if self.status.get_untracked() == Status::Loading {
                    self.status.set(Status::Running);
                }
                self.progress.set(*progress);
                self.speed.set(Some((*examples_per_second, *eta_seconds)));
                self.run.update(|r| {
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
            Response::TrainEpoch { id, report, test_accuracy, weights, epochs_done, best } if this_run(id) => {
                // fgsm-rs: the best epoch so far is kept too, so that a resumed run's collapse
                // guard can compare against it and restore it.
                if let (true, Some(accuracy)) = (*best, report.validation_robust_accuracy) {
                    if let Ok(record) = Record::new(BEST_EPOCH, &Best { epoch: *epochs_done, accuracy }, weights.clone()) {
                        spawn_local(async move {
                            let _ = store::write(RUNS, &record).await;
                        });
                    }
                }
                self.weights_now.set_value(Some(weights.clone()));
                self.run.update(|r| {
                    if let Some(r) = r {
                        r.epochs_done = *epochs_done;
                        r.epochs.push(EpochPoint { report: report.clone(), test_accuracy: *test_accuracy });
                    }
                });
                self.persist();
            }
            Response::TrainFinished { id, stopped } if this_run(id) => self.conclude(if *stopped { Status::Stopped } else { Status::Finished }),
            // The engine died mid-run: a fresh one goes on from the last finished epoch (stored
            // after every epoch), once; a second death ends the run, keeping what finished.
            Response::Died { message, cancelled, .. } if self.busy_now() => {
                if *cancelled {
                    // An attack was cancelled by ending the engine: not the run's fault.
                    self.problem.set(Some(format!("The engine was ended ({message}); training goes on from the last finished epoch on a new one.")));
                    self.resume_stored();
                } else if self.restarts.get_value() == 0 {
                    self.restarts.set_value(1);
                    self.problem.set(Some(format!("The engine stopped ({message}); training goes on from the last finished epoch on a new one.")));
                    self.resume_stored();
                } else {
                    self.problem.set(Some(format!("The engine stopped again ({message}): the run ends with its last finished epoch.")));
                    self.conclude(Status::Failed);
                }
            }
            // The run failed: keep what finished, and do not resume it on reload.
            // A GPU failure ends the engine (see `Backends`): the run goes on after the `Died`.
            Response::Failed { id: Some(id), kind, message } if this_run(id) && *kind != FailureKind::GpuLost => {
                self.problem.set(Some(message.clone()));
                self.conclude(Status::Failed);
            }
            Response::Failed { id: None, message, .. } if self.busy_now() => {
                self.problem.set(Some(message.clone()));
                self.conclude(Status::Failed);
            }
            _ => {}
        }
    }
}
