//! The attack panel: parameters, the Web Worker that runs the attack, and original |
//! perturbation | adversarial side by side with predictions and norms.

use leptos::prelude::*;

use super::outcome::{Outcome, OutcomeView};
use crate::web::backend::BackendKind;
use crate::web::client::Engine;
use super::form::{Binding, config_choice, config_field, config_field_live};
use crate::attack::{AttackConfig, AttackMethod, Norm};
use crate::web::protocol::{Request, Response};

fn check(c: &AttackConfig) -> Result<(), String> {
    c.validate().map_err(|e| e.to_string())
}

/// Picks the attack; an ε out of the new attack's range (an L2 radius carried to an L∞ attack)
/// becomes its default, and a target it cannot aim for is dropped.
fn choose_method(c: &mut AttackConfig, method: AttackMethod) {
    c.method = method;
    if c.clone().with_target(None).validate().is_err() {
        c.epsilon = 0.3;
    }
    if !method.supports_target() {
        c.target = None;
    }
}

/// The ε field's label: its norm.
fn epsilon_label(norm: Norm) -> &'static str {
    match norm {
        Norm::Linf => "ε (L∞)",
        Norm::L2 => "ε (L2)",
        Norm::L0 => "ε (share of pixels)",
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
    backend: Signal<Option<BackendKind>>,
    config: RwSignal<AttackConfig>,
    model_label: Signal<String>,
    counterpart: Signal<Option<(String, String)>>,
    on_backend: Callback<(BackendKind, Option<String>)>,
) -> impl IntoView {
    let compare = RwSignal::new(false);
    let twin_outcome = RwSignal::new(None::<Outcome>);
    let twin_pending = StoredValue::new(None::<(u64, Vec<f32>, usize, AttackConfig)>);
    let outcome = RwSignal::new(None::<Outcome>);
    let running = RwSignal::new(false);
    // The engine worker starts with the first attack (it is not part of the first view).
    let engine_on = RwSignal::new(false);
    let worker_ready = RwSignal::new(false);
    // An attack asked for before the engine had loaded the model: it runs once it has.
    let deferred = StoredValue::new(false);
    let problem = RwSignal::new(None::<String>);
    let pending = StoredValue::new(None::<(u64, Vec<f32>, usize, AttackConfig)>);
    // Attacks never pile up: while one runs in the engine (`in_flight`), a newer request (a
    // changed ε) only marks `queued`; when the running one answers, the latest state runs. So
    // live re-attack goes at the rate the engine sustains, and the latest request wins.
    let in_flight = StoredValue::new(None::<u64>);
    let queued = StoredValue::new(false);
    let run_now = StoredValue::new(None::<Callback<()>>);
    // The request number of the engine's last `Load` (the model and backend of this panel).
    let load_id = StoredValue::new(0u64);

    // The attack `id` answered: when it was the one running, the engine is free, and a request
    // made meanwhile runs now.
    let settle = move |id: u64| {
        if in_flight.get_value() != Some(id) {
            return;
        }
        in_flight.set_value(None);
        running.set(false);
        if queued.get_value() {
            queued.set_value(false);
            if let Some(run) = run_now.get_value() {
                run.run(());
            }
        }
    };

    let on_response = move |response: Response| match response {
        Response::Loaded { id, backend, note } if id == load_id.get_value() => {
            worker_ready.set(true);
            on_backend.run((backend, note));
            if deferred.get_value() {
                deferred.set_value(false);
                if let Some(run) = run_now.get_value() {
                    run.run(());
                }
            }
        }
        Response::Attacked { id, adversarial, probabilities, broken_by } => {
            if let Some((_, original, label, config)) = pending.get_value().filter(|p| p.0 == id) {
                outcome.set(Some(Outcome { original, adversarial, probabilities, label, config, broken_by }));
                problem.set(None);
            } else if let Some((_, original, label, config)) = twin_pending.get_value().filter(|p| p.0 == id) {
                twin_outcome.set(Some(Outcome { original, adversarial, probabilities, label, config, broken_by }));
            }
            settle(id);
        }
        Response::Failed { id: Some(id), message } if [load_id.get_value(), in_flight.get_value().unwrap_or(0), pending.get_value().map_or(0, |p| p.0), twin_pending.get_value().map_or(0, |p| p.0)].contains(&id) => {
            deferred.set_value(false);
            queued.set_value(false);
            problem.set(Some(message));
            if in_flight.get_value() == Some(id) || id == load_id.get_value() {
                in_flight.set_value(None);
                running.set(false);
            }
        }
        // The next attack starts a new engine and loads the model into it.
        Response::Died { message } => {
            in_flight.set_value(None);
            queued.set_value(false);
            running.set(false);
            deferred.set_value(false);
            worker_ready.set(false);
            problem.set(Some(format!("The engine stopped ({message}); the next attack starts a new one.")));
        }
        _ => {}
    };
    let worker = expect_context::<Engine>();
    worker.listen(move |response| on_response(response.clone()));
    // Once started, the engine loads the page's model (and starts the page's backend) whenever
    // they change.
    let load = move || {
        if let Some(backend) = backend.get_untracked() {
            worker_ready.set(false);
            let id = worker.next_id();
            load_id.set_value(id);
            if let Err(e) = worker.send(Request::Load { id, backend, url: model_url.get_untracked() }) {
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

    let run = move || {
        let (Some(image), Some(label)) = (input.get_untracked(), label.get_untracked()) else {
            problem.set(Some("draw a digit first".into()));
            return;
        };
        let config = config.get_untracked();
        if let Err(e) = config.validate() {
            problem.set(Some(e.to_string()));
            return;
        }
        if in_flight.get_value().is_some() {
            queued.set_value(true);
            return;
        }
        running.set(true);
        if !worker_ready.get_untracked() {
            // First use, or the engine failed to load or died: (re)start it and load the model;
            // the attack follows `Loaded`.
            deferred.set_value(true);
            if engine_on.get_untracked() {
                load();
            } else {
                engine_on.set(true);
            }
            return;
        }
        let id = worker.next_id();
        in_flight.set_value(Some(id));
        pending.set_value(Some((id, image.clone(), label, config.clone())));
        let second = counterpart.get_untracked().filter(|_| compare.get_untracked());
        let mut sent = worker.send(Request::Attack { id, config: config.clone(), image: image.clone(), label, model_url: None });
        if let Some((_, url)) = second {
            let twin_id = worker.next_id();
            twin_pending.set_value(Some((twin_id, image.clone(), label, config.clone())));
            sent = sent.and(worker.send(Request::Attack { id: twin_id, config, image, label, model_url: Some(url) }));
        }
        if let Err(e) = sent {
            in_flight.set_value(None);
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
        twin_outcome.set(None);
        // An attack still running on the old image or model is not shown when it answers.
        pending.set_value(None);
        twin_pending.set_value(None);
        queued.set_value(false);
    });
    // Live mode: once an attack has run, changing ε re-runs it.
    Effect::new(move |previous: Option<f32>| {
        let eps = config.with(|c| c.epsilon);
        if previous.is_some_and(|p| p != eps) && outcome.with_untracked(Option::is_some) {
            run();
        }
        eps
    });


    view! {
        <section class="card" id="lab">
            <h2 class="card-title">"Attack"</h2>
            <p class="muted small">"The attack searches a perturbation within ε (L∞: the largest change of any pixel; L2: the length of the whole change) that makes the model misread your digit. It runs in a Web Worker, so drawing never stalls."</p>
            <div class="toolbar">
                {config_choice("Attack", "attack-select", config, &AttackMethod::ALL, Binding { get: |c: &AttackConfig| c.method, set: choose_method, check }, Signal::stored(false))}
                {config_field_live(Signal::derive(move || epsilon_label(config.with(|c| c.method.norm())).to_string()), "eps-input", config, Binding { get: |c: &AttackConfig| c.epsilon, set: |c: &mut AttackConfig, v| c.epsilon = v, check }, "0.3", Signal::stored(false))}
                <label class="field" title="Drag to re-attack live: the next attack starts when the engine has finished the last one">
                    "ε slider"
                    <input type="range" data-testid="eps-slider" min="0" step="0.005"
                        max=move || if config.with(|c| c.method.norm()) == Norm::L2 { "10" } else { "1" }
                        prop:value=move || config.with(|c| c.epsilon.to_string())
                        on:input=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<f32>() {
                                let next = config.get_untracked().with_epsilon(v);
                                if next.validate().is_ok() {
                                    config.set(next);
                                }
                            }
                        } />
                </label>
                {config_field("Steps", "steps-input", config, Binding { get: |c: &AttackConfig| c.steps, set: |c: &mut AttackConfig, v| c.steps = v, check }, "40", Signal::stored(false))}
                {config_field("Step size", "step-size-input", config, Binding { get: |c: &AttackConfig| c.step_size, set: |c: &mut AttackConfig, v| c.step_size = v, check }, "0.01", Signal::stored(false))}
                {config_field("Restarts", "restarts-input", config, Binding { get: |c: &AttackConfig| c.restarts, set: |c: &mut AttackConfig, v| c.restarts = v, check }, "1",
                    Signal::derive(move || !config.with(|c| c.method.uses_restarts())))}
                {config_field("Target", "target-input", config, Binding { get: |c: &AttackConfig| c.target, set: |c: &mut AttackConfig, v| c.target = v, check }, "none",
                    Signal::derive(move || !config.with(|c| c.method.supports_target())))}
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
            <Show when=move || compare.get() && twin_outcome.with(Option::is_some)>
                <OutcomeView outcome=twin_outcome prefix="compare-" title=Signal::derive(move || counterpart.get().map(|c| c.0).unwrap_or_default()) />
            </Show>
        </section>
    }
}
