//! The attack panel: the attack's parameters, its controls, and original | perturbation |
//! adversarial side by side with predictions and norms, for the model in use and its twin. It is
//! a view of an [`AttackJob`].

use leptos::prelude::*;

use super::attack_job::AttackJob;
use super::outcome::OutcomeView;
use super::attack_form::AttackForm;
use crate::attack::AttackConfig;

/// The attack panel. `input` is the image to attack; `label` the class to move away from;
/// `model_url` the weights the engine loads; `config` the attack (a share link carries its method,
/// ε and steps); `counterpart` the model's standard or robust twin. The engine worker starts
/// with the first attack, on the backend the page's [`super::Backends`] give attacks.
#[component]
pub fn AttackPanel(
    input: Signal<Option<Vec<f32>>>,
    label: Signal<Option<usize>>,
    model_url: Signal<String>,
    config: RwSignal<AttackConfig>,
    model_label: Signal<String>,
    counterpart: Signal<Option<(String, String)>>,
) -> impl IntoView {
    let job = AttackJob::new(input, label, model_url, config, counterpart);
    let AttackJob { compare, outcome, twin_outcome, running, progress, worker_ready, problem, .. } = job;

    view! {
        <section class="card" id="lab">
            <h2 class="card-title">"Attack"</h2>
            <p class="muted small">"The attack searches a perturbation within ε (L∞: the largest change of any pixel; L2: the length of the whole change) that makes the model misread your digit. It runs in a Web Worker, so drawing never stalls."</p>
            <div class="toolbar">
                <AttackForm config=config />
                <label class="field" title="Run the same attack on the model's standard or robust twin">
                    "Compare"
                    <span class="row small">
                        <input type="checkbox" data-testid="compare-robust" prop:checked=move || compare.get()
                            on:change=move |ev| compare.set(event_target_checked(&ev)) />
                        {move || counterpart.get().map(|c| format!("with {}", c.0)).unwrap_or_default()}
                    </span>
                </label>
                <Show when=move || running.get() && worker_ready.get()>
                    <button class="danger" data-testid="attack-cancel" title="Ends the engine at once: a training run goes on from its last finished epoch"
                        on:click=move |_| job.cancel()>"Cancel"</button>
                </Show>
                <button class="primary" data-testid="attack-run" aria-busy=move || running.get().to_string()
                    prop:disabled=move || running.get() || input.with(Option::is_none)
                    on:click=move |_| job.run()>
                    {move || match (running.get(), worker_ready.get()) {
                        (true, false) => "Starting the engine…",
                        (true, true) => "Attacking…",
                        _ => "Run attack",
                    }}
                </button>
            </div>
            {move || progress.get().filter(|_| running.get()).map(|(done, most)| view! {
                <div class="row small muted" title="Iterations of the attack done (at most; AutoAttack may need fewer)">
                    <div class="progress" data-testid="attack-progress" data-value=(done as f32 / most as f32).to_string() style=format!("--p: {}", done as f32 / most as f32)></div>
                    <span class="mono">{format!("{done} / {most}")}</span>
                </div>
            })}
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
