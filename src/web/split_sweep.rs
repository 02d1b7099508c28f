//! An evaluation sweep split over several sweep workers (their side is
//! [`crate::web::worker::run_sweeper`]), one per core the browser reports: static hosts cannot
//! send the headers that WebAssembly threads need, but separate workers use the cores all the
//! same. The page hands out the sweep's [`Part`]s one at a time, to whichever worker is free (a
//! queue, so a worker that gets the slow parts does fewer of them), and assembles each model's
//! table from them: exactly the table one worker, or `advlab eval`, gives.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::web::client::WorkerHandle;
use crate::web::protocol::{DataUrls, Failure, ModelEvaluation, Part, PartResult, Plan, Request, Response};

/// The worker build that evaluates parts of a sweep (CPU only, no training code).
pub const SWEEPER: &str = "sweeper";

/// Most sweep workers started at once (each holds the test set and the models it evaluates).
pub const MAX_WORKERS: usize = 8;

/// Sweep workers worth starting for a sweep of `parts` parts: one per logical core the browser
/// reports (`navigator.hardwareConcurrency`), at most [`MAX_WORKERS`] and at most one per part.
pub fn workers_for(parts: usize) -> usize {
    let cores = web_sys::window().map_or(1, |w| w.navigator().hardware_concurrency() as usize);
    cores.clamp(1, MAX_WORKERS).min(parts).max(1)
}

/// A split sweep in progress; dropping it does not stop it, [`SplitSweep::cancel`] does.
#[derive(Clone)]
pub struct SplitSweep(Rc<RefCell<State>>);

struct State {
    /// The sweep's request number, given back with every answer.
    id: u64,
    models: Vec<(String, String)>,
    plan: Plan,
    data: DataUrls,
    /// Every (model, part) of the sweep; a part request's number is its index here.
    tasks: Vec<(usize, Part)>,
    /// Tasks not handed out yet.
    queue: VecDeque<usize>,
    /// Results by model.
    results: Vec<Vec<(Part, PartResult)>>,
    /// Tasks answered.
    answered: usize,
    /// Image-attacks done, and in all.
    done: usize,
    total: usize,
    workers: Vec<WorkerHandle>,
    /// The sweep has ended (finished, failed or cancelled): late answers are dropped.
    ended: bool,
    report: Rc<dyn Fn(Response)>,
}

impl SplitSweep {
    /// Starts `workers` sweep workers on `models` under `plan`. `report` hears, with request
    /// number `id`, what the engine says of a whole sweep: `EvalProgress` after every part, then
    /// `Evaluated` or `Failed`.
    pub fn start(id: u64, models: Vec<(String, String)>, plan: Plan, data: DataUrls, workers: usize, report: impl Fn(Response) + 'static) -> Result<SplitSweep, String> {
        plan.check()?;
        let tasks: Vec<(usize, Part)> = (0..models.len()).flat_map(|m| plan.parts().into_iter().map(move |p| (m, p))).collect();
        let total = models.len() * plan.attacks.len() * plan.images;
        let state = State {
            id,
            results: vec![Vec::new(); models.len()],
            queue: (0..tasks.len()).collect(),
            tasks,
            models,
            plan,
            data,
            answered: 0,
            done: 0,
            total,
            workers: Vec::new(),
            ended: false,
            report: Rc::new(report),
        };
        let sweep = SplitSweep(Rc::new(RefCell::new(state)));
        for k in 0..workers.max(1) {
            let this = sweep.clone();
            match WorkerHandle::start(SWEEPER, move |response| this.hear(k, response)) {
                Ok(handle) => sweep.0.borrow_mut().workers.push(handle),
                Err(e) => {
                    sweep.cancel();
                    return Err(e);
                }
            }
        }
        Ok(sweep)
    }

    /// Ends every worker; nothing more is reported.
    pub fn cancel(&self) {
        let workers = {
            let mut state = self.0.borrow_mut();
            state.ended = true;
            std::mem::take(&mut state.workers)
        };
        workers.iter().for_each(WorkerHandle::terminate);
    }

    /// Hands worker `k` the next task, if any.
    fn hand_out(&self, k: usize) {
        let state = &mut *self.0.borrow_mut();
        let (Some(task), Some(worker)) = (state.queue.pop_front(), state.workers.get(k)) else { return };
        let (model, part) = state.tasks[task];
        worker.send(&Request::EvaluatePart {
            id: task as u64,
            model_url: state.models[model].1.clone(),
            plan: state.plan.clone(),
            part,
            images_url: state.data.test_images.clone(),
            labels_url: state.data.test_labels.clone(),
        });
    }

    /// Ends the sweep with `failure`.
    fn fail(&self, failure: Failure) {
        let (id, report) = {
            let state = self.0.borrow();
            (state.id, state.report.clone())
        };
        self.cancel();
        report(Response::failed(Some(id), failure));
    }

    /// What worker `k` answered.
    fn hear(&self, k: usize, response: Response) {
        if self.0.borrow().ended {
            return;
        }
        match response {
            Response::Started => self.hand_out(k),
            Response::PartEvaluated { id, result } => {
                let (report, progress) = {
                    let state = &mut *self.0.borrow_mut();
                    let Some(&(model, part)) = state.tasks.get(id as usize) else { return };
                    if part.attack.is_some() {
                        state.done += result.len();
                    }
                    state.results[model].push((part, result));
                    state.answered += 1;
                    (state.report.clone(), Response::EvalProgress { id: state.id, done: state.done, total: state.total })
                };
                report(progress);
                if self.0.borrow().answered == self.0.borrow().tasks.len() {
                    self.finish();
                } else {
                    self.hand_out(k);
                }
            }
            Response::Failed { kind, message, .. } => self.fail(Failure::new(kind, message)),
            Response::Died { kind, message, .. } => self.fail(Failure::new(kind, format!("a sweep worker stopped ({message}): the sweep did not finish. Run it again."))),
            _ => {}
        }
    }

    /// Assembles every model's table and reports it.
    fn finish(&self) {
        let (id, report, evaluations) = {
            let state = &mut *self.0.borrow_mut();
            let results = std::mem::take(&mut state.results);
            let evaluations: Result<Vec<ModelEvaluation>, String> = state.models.iter().zip(results).map(|((name, _), parts)| state.plan.assemble(name, parts)).collect();
            (state.id, state.report.clone(), evaluations)
        };
        self.cancel();
        report(match evaluations {
            Ok(models) => Response::Evaluated { id, models },
            Err(message) => Response::failed(Some(id), Failure::bug(message)),
        });
    }
}
