//! The evaluate panel's job: a sweep run by the engine (on WebGPU, or a single part), or split
//! over one sweep worker per core on the CPU; its progress, result and problems.

use leptos::prelude::*;

use super::backends::Backends;
use super::eval_results::Results;
use crate::calibration::Job;
use crate::web::backend::BackendKind;
use crate::web::client::Engine;
use crate::web::protocol::{DataUrls, Plan, Request, Response};
use crate::web::split_sweep::{SplitSweep, workers_for};

/// A sweep and what it has said so far. Every field is a handle, so it is `Copy`.
#[derive(Clone, Copy)]
pub(super) struct EvalJob {
    /// A sweep is running.
    pub running: RwSignal<bool>,
    /// Fraction done, in `[0,1]`.
    pub progress: RwSignal<f32>,
    /// Why the last sweep failed.
    pub problem: RwSignal<Option<String>>,
    /// The tables, and the attack configurations they answer.
    pub results: Results,
    /// The (model, configuration) whose flipped images the gallery shows.
    pub selected: RwSignal<Option<(usize, usize)>>,
    /// Workers the last sweep ran on (1: the engine).
    pub workers: RwSignal<usize>,
    request_id: StoredValue<u64>,
    /// The sweep split over sweep workers, while one runs.
    split: StoredValue<Option<SplitSweep>, LocalStorage>,
    engine: Engine,
    backends: Backends,
}

impl EvalJob {
    /// No sweep yet; listens to the engine (the panel's context provides it and the backends).
    pub fn new() -> Self {
        let job = EvalJob {
            running: RwSignal::new(false),
            progress: RwSignal::new(0.0),
            problem: RwSignal::new(None),
            results: RwSignal::new(None),
            selected: RwSignal::new(None),
            workers: RwSignal::new(1),
            request_id: StoredValue::new(0),
            split: StoredValue::new_local(None),
            engine: expect_context::<Engine>(),
            backends: expect_context::<Backends>(),
        };
        job.engine.listen(move |response| job.hear(response));
        on_cleanup(move || {
            if let Some(sweep) = job.split.try_update_value(Option::take).flatten() {
                sweep.cancel();
            }
        });
        job
    }

    /// Runs `models` (name, weights URL) under `plan`. On the CPU a sweep of several parts is
    /// split over one sweep worker per core; on WebGPU (one device) and for a single part, the
    /// engine runs it.
    pub fn run(self, models: Vec<(String, String)>, plan: Plan, data: DataUrls) {
        self.running.set(true);
        self.progress.set(0.0);
        self.selected.set(None);
        self.results.set(Some((Vec::new(), plan.attacks.clone())));
        let id = self.engine.next_id();
        self.request_id.set_value(id);
        let parts = models.len() * plan.parts().len();
        let count = if self.backends.of(Job::Evaluation) == Some(BackendKind::Cpu) { workers_for(parts) } else { 1 };
        self.workers.set(count);
        let started = if count > 1 {
            self.backends.ran(Job::Evaluation, BackendKind::Cpu, None, None);
            SplitSweep::start(id, models, plan, data, count, move |response| {
                if matches!(response, Response::Evaluated { .. } | Response::Failed { .. }) {
                    self.split.set_value(None);
                }
                self.hear(&response);
            })
            .map(|sweep| self.split.set_value(Some(sweep)))
        } else {
            let (backend, calibration) = (self.backends.request_choice(), self.backends.remembered());
            self.engine.send(Request::Evaluate { id, backend, calibration, models, plan, data })
        };
        if let Err(e) = started {
            self.running.set(false);
            self.problem.set(Some(e));
        }
    }

    /// What the engine or the split sweep said.
    fn hear(self, response: &Response) {
        let mine = |id: &u64| *id == self.request_id.get_value();
        let split = self.split.with_value(Option::is_some);
        match response.clone() {
            Response::RunsOn { id, backend, note, calibration } if mine(&id) => self.backends.ran(Job::Evaluation, backend, note, calibration),
            Response::EvalProgress { id, done, total } if mine(&id) => self.progress.set(done as f32 / total.max(1) as f32),
            Response::Evaluated { id, models } if mine(&id) => {
                self.running.set(false);
                self.progress.set(1.0);
                self.results.update(|r| {
                    if let Some(r) = r {
                        r.0 = models;
                    }
                });
                self.selected.set(Some((0, 0)));
            }
            Response::Failed { id: Some(id), message, .. } if mine(&id) => self.fail(message),
            Response::Failed { id: None, message, .. } if self.running.get_untracked() && !split => self.fail(message),
            Response::Died { message, .. } if self.running.get_untracked() && !split => {
                self.fail(format!("The engine stopped ({message}): the sweep did not finish. Run it again to start a new engine."))
            }
            _ => {}
        }
    }

    fn fail(self, message: String) {
        self.running.set(false);
        self.problem.set(Some(message));
    }
}
