//! The page's side of the attack lab's attacks: it starts the engine on first use and loads the
//! model in use into it, sends attacks so that they never pile up (while one runs, a newer
//! request waits and replaces any older one: the latest wins), drops results for an image or
//! model no longer shown, and restarts a dead or cancelled engine with the next attack.

use leptos::prelude::*;

use super::outcome::Outcome;
use super::backends::Backends;
use crate::attack::AttackConfig;
use crate::calibration::Job;
use crate::web::client::Engine;
use crate::web::protocol::{FailureKind, Request, Response};

/// An attack sent: its request number, the image, its label and the configuration.
type Sent = (u64, Vec<f32>, usize, AttackConfig);

/// What the lab attacks, with what, and where it stands. Every field is a handle, so it is
/// `Copy`.
#[derive(Clone, Copy)]
pub(super) struct AttackJob {
    /// The image to attack (784 pixels in `[0,1]`).
    pub input: Signal<Option<Vec<f32>>>,
    /// The class the attack moves away from.
    pub label: Signal<Option<usize>>,
    /// The weights the engine loads.
    pub model_url: Signal<String>,
    /// The page's backends: the user's choice, and where the engine says attacks ran.
    backends: Backends,
    /// The attack.
    pub config: RwSignal<AttackConfig>,
    /// The model's standard or robust twin (name, weights URL), and whether to attack it too.
    pub counterpart: Signal<Option<(String, String)>>,
    /// Whether the twin is attacked too.
    pub compare: RwSignal<bool>,
    /// The last result on the model in use, and on its twin.
    pub outcome: RwSignal<Option<Outcome>>,
    /// The last result on the twin.
    pub twin_outcome: RwSignal<Option<Outcome>>,
    /// True while an attack is asked for and not answered.
    pub running: RwSignal<bool>,
    /// The running attack's iterations done and the most it takes (`None`: no report yet).
    pub progress: RwSignal<Option<(usize, usize)>>,
    /// True once the engine has loaded the model in use.
    pub worker_ready: RwSignal<bool>,
    /// What went wrong, for the panel to show.
    pub problem: RwSignal<Option<String>>,
    /// True once the first attack started the engine (it is not part of the first view).
    engine_on: RwSignal<bool>,
    /// An attack asked for before the engine had loaded the model: it runs once it has.
    deferred: StoredValue<bool>,
    pending: StoredValue<Option<Sent>>,
    twin_pending: StoredValue<Option<Sent>>,
    /// The attack running in the engine, and whether a newer request waits for it.
    in_flight: StoredValue<Option<u64>>,
    queued: StoredValue<bool>,
    /// The request number of the engine's last `Load` (the model and backend of this panel).
    load_id: StoredValue<u64>,
    engine: Engine,
}

impl AttackJob {
    /// The lab's attacks on the page's engine, on the backend the page's [`Backends`] (a
    /// context) give attacks; it tells them where each ran.
    pub fn new(
        input: Signal<Option<Vec<f32>>>,
        label: Signal<Option<usize>>,
        model_url: Signal<String>,
        config: RwSignal<AttackConfig>,
        counterpart: Signal<Option<(String, String)>>,
    ) -> Self {
        let backends = expect_context::<Backends>();
        let job = AttackJob {
            input,
            label,
            model_url,
            backends,
            config,
            counterpart,
            compare: RwSignal::new(false),
            outcome: RwSignal::new(None),
            twin_outcome: RwSignal::new(None),
            running: RwSignal::new(false),
            progress: RwSignal::new(None),
            worker_ready: RwSignal::new(false),
            problem: RwSignal::new(None),
            engine_on: RwSignal::new(false),
            deferred: StoredValue::new(false),
            pending: StoredValue::new(None),
            twin_pending: StoredValue::new(None),
            in_flight: StoredValue::new(None),
            queued: StoredValue::new(false),
            load_id: StoredValue::new(0),
            engine: expect_context::<Engine>(),
        };
        job.engine.listen(move |response| job.hear(response));
        // Once started, the engine loads the page's model (and starts the backend the choice
        // gives attacks) whenever they change.
        Effect::new(move |_| {
            model_url.track();
            backends.choice.track();
            if job.engine_on.get() && backends.known() {
                job.load();
            }
        });
        // A result belongs to the image and model it was computed on: a new one clears it, and
        // an attack still running on the old ones is not shown when it answers.
        Effect::new(move |_| {
            input.track();
            model_url.track();
            job.outcome.set(None);
            job.twin_outcome.set(None);
            job.pending.set_value(None);
            job.twin_pending.set_value(None);
            job.queued.set_value(false);
        });
        // Live mode: once an attack has run, changing ε re-runs it.
        Effect::new(move |previous: Option<f32>| {
            let eps = config.with(|c| c.epsilon);
            if previous.is_some_and(|p| p != eps) && job.outcome.with_untracked(Option::is_some) {
                job.run();
            }
            eps
        });
        job
    }

    /// Ends the engine, whatever it computes (a training run in it goes on from its last
    /// finished epoch on a new one).
    pub fn cancel(self) {
        self.engine.cancel(FailureKind::Cancelled, "the attack was cancelled");
    }

    /// Loads the model in use into the engine (starting it if needed).
    fn load(self) {
        if !untrack(|| self.backends.known()) {
            return;
        }
        self.worker_ready.set(false);
        let id = self.engine.next_id();
        self.load_id.set_value(id);
        let (backend, calibration) = (self.backends.request_choice(), self.backends.remembered());
        if let Err(e) = self.engine.send(Request::Load { id, backend, url: self.model_url.get_untracked(), calibration }) {
            self.problem.set(Some(e));
        }
    }

    /// Attacks the input with the lab's attack (and the twin, when compared); while one attack
    /// runs, this one waits and replaces any that waited before it.
    pub fn run(self) {
        let (Some(image), Some(label)) = (self.input.get_untracked(), self.label.get_untracked()) else {
            self.problem.set(Some("draw a digit first".into()));
            return;
        };
        let config = self.config.get_untracked();
        if let Err(e) = config.validate() {
            self.problem.set(Some(e.to_string()));
            return;
        }
        if self.in_flight.get_value().is_some() {
            self.queued.set_value(true);
            return;
        }
        self.running.set(true);
        if !self.worker_ready.get_untracked() {
            // First use, or the engine failed to load or died: (re)start it and load the model;
            // the attack follows `Loaded`.
            self.deferred.set_value(true);
            if self.engine_on.get_untracked() {
                self.load();
            } else {
                self.engine_on.set(true);
            }
            return;
        }
        let id = self.engine.next_id();
        self.in_flight.set_value(Some(id));
        self.progress.set(None);
        self.pending.set_value(Some((id, image.clone(), label, config.clone())));
        let twin = self.counterpart.get_untracked().filter(|_| self.compare.get_untracked());
        let mut sent = self.engine.send(Request::Attack { id, config: config.clone(), image: image.clone(), label, model_url: None });
        if let Some((_, url)) = twin {
            let twin_id = self.engine.next_id();
            self.twin_pending.set_value(Some((twin_id, image.clone(), label, config.clone())));
            sent = sent.and(self.engine.send(Request::Attack { id: twin_id, config, image, label, model_url: Some(url) }));
        }
        if let Err(e) = sent {
            self.in_flight.set_value(None);
            self.running.set(false);
            self.problem.set(Some(e));
        }
    }

    /// The attack `id` answered: when it was the one running, the engine is free, and a request
    /// made meanwhile runs now.
    fn settle(self, id: u64) {
        if self.in_flight.get_value() != Some(id) {
            return;
        }
        self.in_flight.set_value(None);
        self.running.set(false);
        if self.queued.get_value() {
            self.queued.set_value(false);
            self.run();
        }
    }

    /// Whether `id` is a request of this job.
    fn asked(self, id: u64) -> bool {
        id == self.load_id.get_value()
            || self.in_flight.get_value() == Some(id)
            || self.pending.with_value(|p| p.as_ref().is_some_and(|p| p.0 == id))
            || self.twin_pending.with_value(|p| p.as_ref().is_some_and(|p| p.0 == id))
    }

    fn hear(self, response: &Response) {
        match response {
            Response::Loaded { id, backend, note, calibration } if *id == self.load_id.get_value() => {
                self.worker_ready.set(true);
                self.backends.ran(Job::Attack, *backend, note.clone(), calibration.clone());
                if self.deferred.get_value() {
                    self.deferred.set_value(false);
                    self.run();
                }
            }
            Response::AttackProgress { id, done } if self.in_flight.get_value() == Some(*id) => {
                let most = self.pending.with_value(|p| p.as_ref().map_or(1, |p| p.3.iterations())).max(1);
                self.progress.set(Some((*done.min(&most), most)));
            }
            Response::Attacked { id, adversarial, probabilities, broken_by, millis } => {
                let result = |(_, original, label, config): Sent| Outcome {
                    original,
                    adversarial: adversarial.clone(),
                    probabilities: probabilities.clone(),
                    label,
                    config,
                    broken_by: *broken_by,
                    millis: *millis,
                };
                if let Some(sent) = self.pending.get_value().filter(|p| p.0 == *id) {
                    self.outcome.set(Some(result(sent)));
                    self.problem.set(None);
                } else if let Some(sent) = self.twin_pending.get_value().filter(|p| p.0 == *id) {
                    self.twin_outcome.set(Some(result(sent)));
                }
                self.settle(*id);
            }
            // A GPU failure ends the engine (see `Backends`): the `Died` that follows re-runs it.
            Response::Failed { id: Some(id), kind, message } if self.asked(*id) && *kind != FailureKind::GpuLost => {
                self.deferred.set_value(false);
                self.queued.set_value(false);
                self.problem.set(Some(message.clone()));
                if self.in_flight.get_value() == Some(*id) || *id == self.load_id.get_value() {
                    self.in_flight.set_value(None);
                    self.running.set(false);
                }
            }
            // The next attack starts a new engine and loads the model into it; an attack that a
            // lost GPU device interrupted runs again at once, on the CPU.
            Response::Died { kind, message, .. } => {
                let rerun = self.in_flight.get_value().is_some() && *kind == FailureKind::GpuLost;
                self.in_flight.set_value(None);
                self.queued.set_value(false);
                self.running.set(false);
                self.deferred.set_value(false);
                self.worker_ready.set(false);
                if rerun {
                    self.problem.set(Some(format!("The engine stopped ({message}); the attack runs again on the CPU.")));
                    self.run();
                } else {
                    self.problem.set(Some(format!("The engine stopped ({message}); the next attack starts a new one.")));
                }
            }
            _ => {}
        }
    }
}
