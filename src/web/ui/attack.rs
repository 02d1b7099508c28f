//! The attack panel: parameters, the Web Worker that runs the attack, and original |
//! perturbation | adversarial side by side with predictions and norms.

use leptos::prelude::*;

use super::best;
use super::picture::PictureCanvas;
use super::worker_client::{ENGINE, LazyWorker};
use crate::attack::{AttackConfig, AttackMethod};
use crate::render;
use crate::web::protocol::{Request, Response};

/// A finished attack, as shown.
#[derive(Clone, Debug, PartialEq)]
struct Outcome {
    original: Vec<f32>,
    adversarial: Vec<f32>,
    probabilities: Vec<f32>,
    label: usize,
    config: AttackConfig,
}

impl Outcome {
    fn delta(&self) -> Vec<f32> {
        self.adversarial.iter().zip(&self.original).map(|(a, o)| a - o).collect()
    }
}

/// One attack's result: original | perturbation | adversarial, the prediction before and after,
/// and the norms. Hooks are `{prefix}adv-prediction`, `{prefix}perturbation-linf`, ….
#[component]
fn OutcomeView(outcome: RwSignal<Option<Outcome>>, prefix: &'static str, title: Signal<String>) -> impl IntoView {
    let original = Signal::derive(move || outcome.with(|o| o.as_ref().map(|o| render::grayscale(&o.original, 28))));
    let adversarial = Signal::derive(move || outcome.with(|o| o.as_ref().map(|o| render::grayscale(&o.adversarial, 28))));
    let perturbation = Signal::derive(move || outcome.with(|o| o.as_ref().map(|o| render::diverging(&o.delta(), 28, None).0)));
    view! {
        <h3 class="small">{move || title.get()}</h3>
        <div class="canvas-pair">
            <PictureCanvas picture=original label="Original" />
            <PictureCanvas picture=perturbation label="Perturbation (red +, blue −)" />
            <PictureCanvas picture=adversarial label="Adversarial" />
        </div>
        {move || {
            outcome.get().map(|o| {
                let (digit, confidence) = best(&o.probabilities);
                let d = o.delta();
                let linf = d.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let l2 = d.iter().map(|v| v * v).sum::<f32>().sqrt();
                let l0 = d.iter().filter(|v| v.abs() > 1e-6).count();
                let flipped = if o.config.target.is_some() { Some(digit) == o.config.target } else { digit != o.label };
                view! {
                    <p class="prediction">
                        <span class="muted">{format!("{} → ", o.label)}</span>
                        <span data-testid=format!("{prefix}adv-prediction") data-confidence=confidence.to_string()>{digit}</span>
                        <span class="prediction-conf">{format!("{:.1}% confident — {}", confidence * 100.0, if flipped { "the attack succeeded" } else { "the model held" })}</span>
                    </p>
                    <div class="row small">
                        <span class="metric">"L∞ " <span class="metric-value" data-testid=format!("{prefix}perturbation-linf") data-value=linf.to_string()>{format!("{linf:.4}")}</span></span>
                        <span class="metric">"L2 " <span class="metric-value" data-testid=format!("{prefix}perturbation-l2") data-value=l2.to_string()>{format!("{l2:.4}")}</span></span>
                        <span class="metric">"L0 " <span class="metric-value" data-testid=format!("{prefix}perturbation-l0") data-value=l0.to_string()>{l0}</span></span>
                        <span class="muted">{format!("colour scale ±{linf:.3}")}</span>
                    </div>
                }
            })
        }}
    }
}

/// The attack panel. `input` is the image to attack; `label` the class to move away from;
/// `model_url` the weights the worker loads; `method`, `epsilon`, `steps` the parameters a share
/// link carries. The engine worker starts with the first attack; `on_backend` hears which
/// backend it runs on (and why not WebGPU, if so).
#[component]
pub fn AttackPanel(
    input: Signal<Option<Vec<f32>>>,
    label: Signal<Option<usize>>,
    model_url: Signal<String>,
    backend: Signal<Option<&'static str>>,
    method: RwSignal<AttackMethod>,
    epsilon: RwSignal<f32>,
    steps: RwSignal<usize>,
    model_label: Signal<String>,
    counterpart: Signal<Option<(String, String)>>,
    on_backend: Callback<(String, Option<String>)>,
) -> impl IntoView {
    let compare = RwSignal::new(false);
    let outcome2 = RwSignal::new(None::<Outcome>);
    let pending2 = StoredValue::new(None::<(u64, Vec<f32>, usize, AttackConfig)>);
    let step_size = RwSignal::new(0.01f32);
    let restarts = RwSignal::new(1usize);
    let target = RwSignal::new(None::<usize>);
    let outcome = RwSignal::new(None::<Outcome>);
    let running = RwSignal::new(false);
    // The engine worker starts with the first attack (it is not part of the first view).
    let engine_on = RwSignal::new(false);
    let worker_ready = RwSignal::new(false);
    // An attack asked for before the engine had loaded the model: it runs once it has.
    let deferred = StoredValue::new(false);
    let problem = RwSignal::new(None::<String>);
    let next_id = StoredValue::new(0u64);
    let pending = StoredValue::new(None::<(u64, Vec<f32>, usize, AttackConfig)>);
    let run_now = StoredValue::new(None::<Callback<()>>);

    let on_response = move |response: Response| match response {
        Response::Loaded { backend, note } => {
            worker_ready.set(true);
            on_backend.run((backend, note));
            if deferred.get_value() {
                deferred.set_value(false);
                if let Some(run) = run_now.get_value() {
                    run.run(());
                }
            }
        }
        Response::Attacked { id, adversarial, probabilities } => {
            if let Some((_, original, label, config)) = pending.get_value().filter(|p| p.0 == id) {
                outcome.set(Some(Outcome { original, adversarial, probabilities, label, config }));
                running.set(false);
                problem.set(None);
            } else if let Some((_, original, label, config)) = pending2.get_value().filter(|p| p.0 == id) {
                outcome2.set(Some(Outcome { original, adversarial, probabilities, label, config }));
            }
        }
        Response::Failed { message, .. } => {
            running.set(false);
            deferred.set_value(false);
            problem.set(Some(message));
        }
        _ => {}
    };
    let worker = LazyWorker::new(ENGINE, on_response);
    // Once started, the engine loads the page's model (and starts the page's backend) whenever
    // they change.
    let load = move || {
        if let Some(backend) = backend.get_untracked() {
            worker_ready.set(false);
            if let Err(e) = worker.send(Request::Load { backend: backend.to_string(), url: model_url.get_untracked() }) {
                problem.set(Some(e));
            }
        }
    };
    Effect::new(move |_| {
        model_url.track();
        backend.track();
        if engine_on.get() {
            load();
        }
    });

    let config = move || {
        AttackConfig::new(method.get())
            .with_epsilon(epsilon.get())
            .with_steps(steps.get())
            .with_step_size(step_size.get())
            .with_restarts(restarts.get())
            .with_target(target.get().filter(|_| method.get().supports_target()))
    };
    let run = move || {
        let (Some(image), Some(label)) = (input.get_untracked(), label.get_untracked()) else {
            problem.set(Some("draw a digit first".into()));
            return;
        };
        let config = untrack(config);
        if let Err(e) = config.validate() {
            problem.set(Some(e.to_string()));
            return;
        }
        running.set(true);
        if !worker_ready.get_untracked() {
            // First use: start the engine and load the model; the attack follows `Loaded`.
            deferred.set_value(true);
            if !engine_on.get_untracked() {
                engine_on.set(true);
            }
            return;
        }
        next_id.update_value(|i| *i += 1);
        let id = next_id.get_value();
        pending.set_value(Some((id, image.clone(), label, config.clone())));
        let second = counterpart.get_untracked().filter(|_| compare.get_untracked());
        let mut sent = worker.send(Request::Attack { id, config: config.clone(), image: image.clone(), label, model_url: None });
        if let Some((_, url)) = second {
            let id2 = id + 1_000_000_000;
            pending2.set_value(Some((id2, image.clone(), label, config.clone())));
            sent = sent.and(worker.send(Request::Attack { id: id2, config, image, label, model_url: Some(url) }));
        }
        if let Err(e) = sent {
            running.set(false);
            problem.set(Some(e));
        }
    };
    run_now.set_value(Some(Callback::new(move |()| run())));
    // A result belongs to the image and model it was computed on: a new one clears it.
    Effect::new(move |_| {
        input.track();
        model_url.track();
        outcome.set(None);
        outcome2.set(None);
    });
    // Live mode: once an attack has run, changing ε re-runs it.
    Effect::new(move |previous: Option<f32>| {
        let eps = epsilon.get();
        if previous.is_some_and(|p| p != eps) && outcome.with_untracked(Option::is_some) {
            run();
        }
        eps
    });

    let is_l2 = move || method.get().norm() == crate::attack::Norm::L2;

    view! {
        <section class="card" id="lab">
            <h2 class="card-title">"Attack"</h2>
            <p class="muted small">"The attack searches a perturbation within ε (L∞: the largest change of any pixel; L2: the length of the whole change) that makes the model misread your digit. It runs in a Web Worker, so drawing never stalls."</p>
            <div class="toolbar">
                <label class="field">
                    "Attack"
                    <select data-testid="attack-select" prop:value=move || method.get().name() on:change=move |ev| {
                        if let Ok(m) = event_target_value(&ev).parse::<AttackMethod>() {
                            method.set(m);
                            let max = if m.norm() == crate::attack::Norm::L2 { 3.0 } else { 0.3 };
                            if epsilon.get_untracked() > max {
                                epsilon.set(max);
                            }
                        }
                    }>
                        {AttackMethod::ALL.iter().map(|m| view! { <option value=m.name()>{m.name()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    {move || if is_l2() { "ε (L2)" } else { "ε (L∞)" }}
                    <input data-testid="eps-input" type="number" min="0" step="0.01" max=move || { if is_l2() { "10" } else { "1" } }
                        prop:value=move || epsilon.get().to_string()
                        on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f32>() { epsilon.set(v); } } />
                </label>
                <label class="field">
                    "Steps"
                    <input type="number" min="1" max="1000" prop:value=move || steps.get().to_string()
                        on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<usize>() { steps.set(v); } } />
                </label>
                <label class="field">
                    "Step size"
                    <input type="number" min="0.001" step="0.005" prop:value=move || step_size.get().to_string()
                        on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f32>() { step_size.set(v); } } />
                </label>
                <label class="field" title="Independent random starts of PGD, PGD L2 and APGD; per image the most successful one is kept">
                    "Restarts"
                    <input type="number" min="1" max="100" data-testid="restarts-input" prop:value=move || restarts.get().to_string()
                        prop:disabled=move || !matches!(method.get(), AttackMethod::Pgd | AttackMethod::PgdL2 | AttackMethod::Apgd)
                        on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<usize>() { restarts.set(v); } } />
                </label>
                <label class="field">
                    "Target"
                    <select prop:disabled=move || !method.get().supports_target() on:change=move |ev| target.set(event_target_value(&ev).parse::<usize>().ok())>
                        <option value="">"none"</option>
                        {(0..10).map(|k| view! { <option value=k.to_string()>{k}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field" title="Run the same attack on the model's standard or robust twin">
                    "Compare"
                    <span class="row small">
                        <input type="checkbox" data-testid="compare-robust" prop:checked=move || compare.get()
                            on:change=move |ev| compare.set(event_target_checked(&ev)) />
                        {move || counterpart.get().map(|c| format!("with {}", c.0)).unwrap_or_default()}
                    </span>
                </label>
                <button class="primary" data-testid="attack-run" aria-busy=move || running.get().to_string()
                    prop:disabled=move || running.get() || input.with(Option::is_none)
                    on:click=move |_| run()>
                    {move || match (running.get(), worker_ready.get()) {
                        (true, false) => "Starting the engine…",
                        (true, true) => "Attacking…",
                        _ => "Run attack",
                    }}
                </button>
            </div>
            {move || problem.get().map(|p| view! { <div class="alert alert-warn small" role="status">{p}</div> })}
            <Show when=move || outcome.with(Option::is_some) fallback=|| view! { <p class="muted small">"Draw a digit or pick a test image, then run the attack."</p> }>
                <OutcomeView outcome=outcome prefix="" title=Signal::derive(move || model_label.get()) />
            </Show>
            <Show when=move || compare.get() && outcome2.with(Option::is_some)>
                <OutcomeView outcome=outcome2 prefix="compare-" title=Signal::derive(move || counterpart.get().map(|c| c.0).unwrap_or_default()) />
            </Show>
        </section>
    }
}
