//! The evaluate panel: a robust-accuracy sweep (models × attacks × ε) in a Web Worker, with the
//! same attack settings and batches as `advlab eval`, shown as a table, as accuracy-vs-ε curves
//! and as a gallery of the test images the attack flipped.

use leptos::prelude::*;

use super::eval_results::{FlippedGallery, OpenInLab, ResultsCharts, ResultsTable};
use super::backends::Backends;
use super::eval_job::EvalJob;
use super::form::{Binding, config_field, toggle};
use super::zoo::Zoo;
use crate::calibration::Job;
use crate::attack::AttackMethod;
use crate::eval::sweep::SweepConfig;
use crate::web::protocol::{DataUrls, Plan};

/// Test images shown per attack configuration in the gallery of flipped images.
const GALLERY: usize = 6;

/// The sweep's own check while it is being edited: ranges only (the attacks are picked before
/// a run).
fn check(sweep: &SweepConfig) -> Result<(), String> {
    let sweep = if sweep.attacks.is_empty() { SweepConfig { attacks: vec![AttackMethod::Fgsm], ..sweep.clone() } } else { sweep.clone() };
    sweep.validate().map_err(|e| e.to_string())
}

/// The evaluate panel. `model_url` resolves a model id to the URL of its weights; `on_open`
/// opens a flipped image in the attack lab.
#[component]
pub fn EvalPanel(
    zoo: Zoo,
    data: Signal<DataUrls>,
    model_url: Callback<String, Option<String>>,
    on_open: Callback<OpenInLab>,
) -> impl IntoView {
    let models = RwSignal::new(vec!["mlp-standard".to_string(), "mlp-robust".to_string()]);
    // The sweep to run, edited by the form (its values always in range).
    let sweep = RwSignal::new(SweepConfig::new(vec![AttackMethod::Fgsm, AttackMethod::Pgd], vec![0.05, 0.1, 0.2, 0.3]));
    let job = EvalJob::new();
    let EvalJob { running, progress, problem, results, selected, workers, .. } = job;
    let backends = expect_context::<Backends>();
    let run = move || {
        problem.set(None);
        let plan = (|| -> Result<(Vec<(String, String)>, Plan), String> {
            let sweep = sweep.get_untracked();
            sweep.validate().map_err(|e| e.to_string())?;
            let chosen: Vec<(String, String)> = models
                .get_untracked()
                .into_iter()
                .filter_map(|id| model_url.run(id.clone()).map(|url| (id, url)))
                .collect();
            if chosen.is_empty() {
                return Err("pick at least one model".into());
            }
            let attacks = sweep.attack_configs().map_err(|e| e.to_string())?;
            Ok((chosen, Plan { attacks, images: sweep.limit, batch: crate::eval::BATCH, gallery: GALLERY }))
        })();
        match plan {
            Ok((chosen, plan)) => job.run(chosen, plan, data.get_untracked()),
            Err(e) => problem.set(Some(e)),
        }
    };

    // Picks or drops an attack, keeping the order of `AttackMethod::ALL`.
    let pick_attack = move |method: AttackMethod, on: bool| {
        sweep.update(|s| {
            s.attacks.retain(|m| *m != method);
            if on {
                s.attacks.push(method);
            }
            s.attacks.sort_by_key(|m| AttackMethod::ALL.iter().position(|x| x == m));
        })
    };

    view! {
        <section class="card" id="evaluate">
            <h2 class="card-title">"Evaluate"</h2>
            <p class="muted small">"Measure robust accuracy: every chosen model under every chosen attack and ε, on the first test images, in a Web Worker. The attacks use the settings of "<code>"advlab eval"</code>" (random start seeded per batch of 250 images), so the same weights give the same table in the terminal."</p>
            <div class="toolbar">
                <fieldset class="field">
                    <legend>"Models"</legend>
                    {move || zoo.ids().into_iter().map(|id| {
                        let model = StoredValue::new(id.clone());
                        let checked = move || models.with(|m| model.with_value(|id| m.contains(id)));
                        view! { <label class="check"><input type="checkbox" data-testid=format!("eval-model-{id}") prop:checked=checked on:change=move |ev| toggle(models, model.get_value(), event_target_checked(&ev)) />{id}</label> }
                    }).collect_view()}
                </fieldset>
                <fieldset class="field">
                    <legend>"Attacks"</legend>
                    {AttackMethod::ALL.into_iter().map(|method| view! {
                        <label class="check"><input type="checkbox" data-testid=format!("eval-attack-{}", method.name()) prop:checked=move || sweep.with(|s| s.attacks.contains(&method))
                            on:change=move |ev| pick_attack(method, event_target_checked(&ev)) />{method.name()}</label>
                    }).collect_view()}
                </fieldset>
            </div>
            <div class="toolbar">
                {config_field("ε list", "eval-eps", sweep, Binding { get: |s: &SweepConfig| s.epsilons.clone(), set: |s: &mut SweepConfig, v| s.epsilons = v, check }, "0.1, 0.3", Signal::derive(move || running.get()))}
                {config_field("Test images", "eval-limit", sweep, Binding { get: |s: &SweepConfig| s.limit, set: |s: &mut SweepConfig, v| s.limit = v, check }, "200", Signal::derive(move || running.get()))}
                {config_field("Steps", "eval-steps", sweep, Binding { get: |s: &SweepConfig| s.steps, set: |s: &mut SweepConfig, v| s.steps = v, check }, "40", Signal::derive(move || running.get()))}
                {config_field("Step size", "eval-step-size", sweep, Binding { get: |s: &SweepConfig| s.step_size, set: |s: &mut SweepConfig, v| s.step_size = v, check }, "0.01", Signal::derive(move || running.get()))}
                {config_field("Square queries", "eval-queries", sweep, Binding { get: |s: &SweepConfig| s.queries, set: |s: &mut SweepConfig, v| s.queries = v, check }, "= steps", Signal::derive(move || running.get()))}
                <button class="primary" data-testid="eval-run" on:click=move |_| run() prop:disabled=move || running.get()>"Run"</button>
            </div>
            <Show when=move || { running.get() || progress.get() > 0.0 }>
                <div class="progress" data-testid="eval-progress" data-value=move || progress.get().to_string() data-backend=move || backends.of(Job::Evaluation).map(|b| b.name()).unwrap_or("auto") data-workers=move || workers.get().to_string()
                    title=move || match workers.get() {
                        1 => format!("on {}", backends.of(Job::Evaluation).map(|b| b.name()).unwrap_or("the backend Auto picks")),
                        n => format!("on the CPU, split over {n} workers"),
                    } style=move || format!("--p: {}", progress.get())></div>
            </Show>
            {move || problem.get().map(|p| view! { <div class="alert alert-error small" role="alert" data-testid="eval-error">{p}</div> })}
            <ResultsTable results=results selected=selected />
            <ResultsCharts results=results />
            <FlippedGallery results=results selected=selected on_open=on_open />
        </section>
    }
}
