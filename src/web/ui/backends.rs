//! The page's backends: the user's choice (Auto, WebGPU or CPU; remembered in `localStorage`, and
//! a link's `backend=` sets it), the browser's WebGPU adapter, Auto's calibration (remembered per
//! adapter, so a reload does not measure again) and the backend each kind of job last ran on.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::calibration::{Calibration, Job};
use crate::web::backend::{self, AdapterInfo, BackendChoice, BackendKind};
use crate::web::client::Engine;
use crate::web::protocol::{FailureKind, Response};

/// The `localStorage` key of the remembered calibration.
const STORAGE_KEY: &str = "advlab-calibration";
/// The `localStorage` key of the user's last choice.
const CHOICE_KEY: &str = "advlab-backend";

/// The page's backend state (a leptos context; every field is a handle, so it is `Copy`).
#[derive(Clone, Copy)]
pub struct Backends {
    /// What the user asked for.
    pub choice: RwSignal<BackendChoice>,
    /// The browser's WebGPU adapter: `None` until asked, `Some(None)` without one.
    adapter: RwSignal<Option<Option<AdapterInfo>>>,
    /// The calibration Auto follows, for this adapter.
    pub calibration: RwSignal<Option<Calibration>>,
    /// The backend each kind of job last ran on, as the engine said.
    ran: RwSignal<[Option<BackendKind>; 3]>,
    /// Why WebGPU was asked for and the CPU runs instead, if so.
    pub note: RwSignal<Option<String>>,
    /// Why the GPU is out of use for this page: its device was lost (then every job runs on the
    /// CPU until the user picks a backend again).
    lost: RwSignal<Option<String>>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn slot(job: Job) -> usize {
    Job::ALL.iter().position(|j| *j == job).unwrap_or(0)
}

impl Backends {
    /// The state for a page whose link asks for `linked` (`None`: the user's last choice, Auto
    /// at first); asks the browser for its adapter, reads the remembered calibration, and hears
    /// the page's engine (a context provided before) for a lost GPU device.
    pub fn new(linked: Option<BackendChoice>) -> Self {
        let last = storage().and_then(|s| s.get_item(CHOICE_KEY).ok().flatten()).and_then(|c| c.parse().ok());
        let this = Backends {
            choice: RwSignal::new(linked.or(last).unwrap_or(BackendChoice::Auto)),
            adapter: RwSignal::new(None),
            calibration: RwSignal::new(None),
            ran: RwSignal::new([None; 3]),
            note: RwSignal::new(None),
            lost: RwSignal::new(None),
        };
        // A lost device (or a job failing, or the engine dying, of a GPU error) moves every job
        // to the CPU: the engine is ended, and training and a running attack go on there (their
        // panels hear the same `Died`, after this listener, and leave a GPU failure to it).
        let engine = expect_context::<Engine>();
        engine.listen(move |response| {
            let failure = match response {
                Response::DeviceLost { message } => Some(message.clone()),
                Response::Died { kind: FailureKind::GpuLost, message, .. } => Some(message.clone()),
                Response::Failed { kind: FailureKind::GpuLost, message, .. } => {
                    // The engine's device is unusable from now on: end it (`DeviceLost` does so
                    // in the client).
                    engine.cancel(FailureKind::GpuLost, &format!("{} ({message})", backend::GPU_LOST));
                    Some(message.clone())
                }
                _ => None,
            };
            if let Some(message) = failure.filter(|_| this.choice.get_untracked() != BackendChoice::Cpu) {
                let note = if message.starts_with(backend::GPU_LOST) { message.clone() } else { format!("{} ({message})", backend::GPU_LOST) };
                this.ran.set([None; 3]);
                this.note.set(Some(note));
                this.lost.set(Some(message));
            }
        });
        spawn_local(async move {
            let adapter = backend::adapter_info().await;
            let remembered = storage()
                .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
                .and_then(|text| serde_json::from_str::<Calibration>(&text).ok())
                .filter(|c| adapter.as_ref().is_some_and(|a| a.key == c.adapter));
            this.calibration.set(remembered);
            this.adapter.set(Some(adapter));
        });
        // A new choice is remembered; what ran before says nothing about what runs next.
        Effect::new(move |previous: Option<BackendChoice>| {
            let choice = this.choice.get();
            if let Some(storage) = storage() {
                let _ = storage.set_item(CHOICE_KEY, choice.name());
            }
            if previous.is_some_and(|p| p != choice) {
                this.ran.set([None; 3]);
                this.note.set(None);
                this.lost.set(None);
            }
            choice
        });
        this
    }

    /// Whether the page has asked the browser for its adapter (the backends are known).
    pub fn known(self) -> bool {
        self.adapter.with(Option::is_some)
    }

    /// The choice to send with a request: the user's, or the CPU once the GPU device was lost.
    pub fn request_choice(self) -> BackendChoice {
        if self.lost.with_untracked(Option::is_some) { BackendChoice::Cpu } else { self.choice.get_untracked() }
    }

    /// The calibration to hand the engine with a request (the one for this adapter, if any).
    pub fn remembered(self) -> Option<Calibration> {
        self.calibration.get_untracked()
    }

    /// The backend `job` runs on: what the engine said it last ran on, else what the choice
    /// gives (WebGPU only with an adapter; under Auto the calibration's pick, the CPU without an
    /// adapter or with a software one, and WebGPU until the first measurement says otherwise: the
    /// `backend` hook only ever says `webgpu` or `cpu`). `None` until the browser has been asked
    /// for its adapter.
    pub fn of(self, job: Job) -> Option<BackendKind> {
        if let Some(ran) = self.ran.with(|r| r[slot(job)]) {
            return Some(ran);
        }
        let has_adapter = self.adapter.with(|a| a.as_ref().map(Option::is_some))?;
        let software = self.adapter.with(|a| matches!(a, Some(Some(a)) if a.software));
        if self.lost.with(Option::is_some) {
            return Some(BackendKind::Cpu);
        }
        match self.choice.get() {
            BackendChoice::Cpu => Some(BackendKind::Cpu),
            BackendChoice::WebGpu if has_adapter => Some(BackendKind::WebGpu),
            BackendChoice::WebGpu => Some(BackendKind::Cpu),
            BackendChoice::Auto if !has_adapter || software => Some(BackendKind::Cpu),
            BackendChoice::Auto => Some(self.calibration.with(|c| match c {
                Some(c) if !c.webgpu_for(job) => BackendKind::Cpu,
                _ => BackendKind::WebGpu,
            })),
        }
    }

    /// Whether Auto has yet to measure this browser's (hardware) adapter.
    pub fn measuring(self) -> bool {
        self.choice.get() == BackendChoice::Auto && self.adapter.with(|a| matches!(a, Some(Some(a)) if !a.software)) && self.calibration.with(Option::is_none)
    }

    /// Whether Auto runs everything on the CPU because the adapter is a software one.
    pub fn software_adapter(self) -> bool {
        self.choice.get() == BackendChoice::Auto && self.adapter.with(|a| matches!(a, Some(Some(a)) if a.software))
    }

    /// Why the CPU runs where WebGPU was asked for (no adapter), before the engine says more.
    pub fn expected_note(self) -> Option<String> {
        let no_adapter = self.adapter.with(|a| matches!(a, Some(None)));
        (self.choice.get() == BackendChoice::WebGpu && no_adapter).then(|| backend::NO_ADAPTER.to_string())
    }

    /// The engine ran `job` on `backend` (`note`: why not WebGPU); under Auto, `calibration`
    /// chose it: it is shown and remembered for this adapter.
    pub fn ran(self, job: Job, backend: BackendKind, note: Option<String>, calibration: Option<Calibration>) {
        self.ran.update(|r| r[slot(job)] = Some(backend));
        if note.is_some() {
            self.note.set(note);
        }
        if let Some(calibration) = calibration {
            if self.calibration.with_untracked(|c| c.as_ref() != Some(&calibration)) {
                if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(&calibration)) {
                    // Storage may be full or off (private mode): the page then measures again
                    // after a reload, nothing worse.
                    let _ = storage.set_item(STORAGE_KEY, &text);
                }
                self.calibration.set(Some(calibration));
            }
        }
    }
}

/// The calibration behind Auto, as a small table: each job's probe time on each backend and the
/// backend it runs on (the `calibration` hook: `data-attack`, `data-training`, `data-evaluation`
/// name the picks).
#[component]
pub fn CalibrationTable(backends: Backends) -> impl IntoView {
    let pick = move |job: Job| backends.calibration.with(|c| c.as_ref().map(|c| if c.webgpu_for(job) { "webgpu" } else { "cpu" }).unwrap_or(""));
    let ms = |t: Option<f64>| t.map_or_else(|| "—".to_string(), |t| format!("{t:.1} ms"));
    view! {
        <Show when=move || backends.choice.get() == BackendChoice::Auto && backends.calibration.with(Option::is_some)>
            <details class="small calibration" data-testid="calibration" data-attack=move || pick(Job::Attack)
                data-training=move || pick(Job::Training) data-evaluation=move || pick(Job::Evaluation)>
                <summary>"Auto: each job on the backend that ran it faster here"</summary>
                <table class="table">
                    <thead><tr><th>"Job (probe on a CNN)"</th><th>"CPU"</th><th>"WebGPU"</th><th>"Runs on"</th></tr></thead>
                    <tbody>
                        {move || backends.calibration.get().map(|c| c.jobs.into_iter().map(|t| view! {
                            <tr>
                                <td>{probe_name(t.job)}</td>
                                <td class="mono">{ms(t.cpu_ms)}</td>
                                <td class="mono">{if c.software_adapter { "not measured".to_string() } else { ms(t.webgpu_ms) }}</td>
                                <td>{if t.webgpu_wins() { "WebGPU" } else { "CPU" }}</td>
                            </tr>
                        }).collect_view())}
                    </tbody>
                </table>
                <p class="muted">{move || backends.calibration.with(|c| c.as_ref().map(|c| if c.software_adapter {
                    format!("WebGPU not measured: {}. Measured in {:.0} ms, once for this graphics adapter, and remembered. Pick WebGPU or CPU to force one.", backend::SOFTWARE_ADAPTER, c.took_ms)
                } else {
                    format!("Measured in {:.0} ms, once for this graphics adapter, and remembered; “—”: not finished within the calibration's time. Pick WebGPU or CPU to force one.", c.took_ms)
                }))}</p>
            </details>
        </Show>
    }
}

/// What a job's probe measures.
fn probe_name(job: Job) -> &'static str {
    match job {
        Job::Attack => "Attack: 5 PGD steps, 1 image",
        Job::Training => "Training: 1 step, batch of 32",
        Job::Evaluation => "Evaluation: 2 PGD steps, 32 images",
    }
}
