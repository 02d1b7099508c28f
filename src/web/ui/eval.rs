//! The evaluate panel: a robust-accuracy sweep (models × attacks × ε) in a Web Worker, with the
//! same attack settings and batches as `advlab eval`, shown as a table, as accuracy-vs-ε curves
//! and as a gallery of the test images the attack flipped.

use leptos::prelude::*;

use super::chart::{LineChart, PALETTE, Series};
use super::form::{Binding, config_field, toggle};
use super::picture::PictureCanvas;
use crate::web::backend::BackendKind;
use crate::web::client::Engine;
use super::zoo::Zoo;
use crate::attack::{AttackConfig, AttackMethod};
use crate::session::SweepConfig;
use crate::render;
use crate::web::protocol::{DataUrls, ModelEvaluation, Request, Response};

/// A flipped test image to open in the attack lab: model id, attack, ε and test image index.
pub type OpenInLab = (String, AttackMethod, f32, usize);

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
    backend: Signal<BackendKind>,
    data: Signal<DataUrls>,
    model_url: Callback<String, Option<String>>,
    on_open: Callback<OpenInLab>,
) -> impl IntoView {
    let models = RwSignal::new(vec!["mlp-standard".to_string(), "mlp-robust".to_string()]);
    // The sweep to run, edited by the form (its values always in range).
    let sweep = RwSignal::new(SweepConfig::new(vec![AttackMethod::Fgsm, AttackMethod::Pgd], vec![0.05, 0.1, 0.2, 0.3]));
    let running = RwSignal::new(false);
    let progress = RwSignal::new(0f32);
    let problem = RwSignal::new(None::<String>);
    let results = RwSignal::new(None::<(Vec<ModelEvaluation>, Vec<AttackConfig>)>);
    let selected = RwSignal::new(None::<(usize, usize)>);
    let request_id = StoredValue::new(0u64);

    let worker = expect_context::<Engine>();
    worker.listen(move |response| match response.clone() {
        Response::EvalProgress { id, done, total } if id == request_id.get_value() => progress.set(done as f32 / total.max(1) as f32),
        Response::Evaluated { id, models: evaluations } if id == request_id.get_value() => {
            running.set(false);
            progress.set(1.0);
            results.update(|r| {
                if let Some(r) = r {
                    r.0 = evaluations;
                }
            });
            selected.set(Some((0, 0)));
        }
        Response::Failed { id: Some(id), message } if id == request_id.get_value() => {
            running.set(false);
            problem.set(Some(message));
        }
        Response::Failed { id: None, message } if running.get_untracked() => {
            running.set(false);
            problem.set(Some(message));
        }
        Response::Died { message } => {
            if running.get_untracked() {
                running.set(false);
                problem.set(Some(format!("The engine stopped ({message}): the sweep did not finish. Run it again to start a new engine.")));
            }
        }
        _ => {}
    });

    let run = move || {
        problem.set(None);
        let plan = (|| -> Result<(Vec<(String, String)>, Vec<AttackConfig>, usize), String> {
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
            let configs = sweep.attack_configs().map_err(|e| e.to_string())?;
            Ok((chosen, configs, sweep.limit))
        })();
        match plan {
            Ok((chosen, configs, limit)) => {
                request_id.set_value(worker.next_id());
                running.set(true);
                progress.set(0.0);
                selected.set(None);
                results.set(Some((Vec::new(), configs.clone())));
                let request = Request::Evaluate { id: request_id.get_value(), backend: backend.get_untracked(), models: chosen, attacks: configs, limit, data: data.get_untracked() };
                if let Err(e) = worker.send(request) {
                    running.set(false);
                    problem.set(Some(e));
                }
            }
            Err(e) => problem.set(Some(e)),
        }
    };


    let table = move || {
        let Some(evaluations) = results.with(|r| r.as_ref().map(|r| r.0.clone())) else { return ().into_any() };
        if evaluations.is_empty() {
            return ().into_any();
        }
        let rows = evaluations
            .iter()
            .enumerate()
            .map(|(m, e)| {
                let clean = view! {
                    <tr data-model=e.model.clone() data-attack="none" data-eps="0" data-value=e.clean_accuracy.to_string()>
                        <td class="mono">{e.model.clone()}</td><td>"none"</td><td>"—"</td>
                        <td>{format!("{:.2}%", e.clean_accuracy * 100.0)}</td><td>"—"</td><td>"—"</td><td>"—"</td>
                    </tr>
                };
                let attacked = e
                    .results
                    .iter()
                    .enumerate()
                    .map(|(k, r)| {
                        let is_selected = move || selected.get() == Some((m, k));
                        view! {
                            <tr class:selected=is_selected data-model=e.model.clone() data-attack=r.attack.clone() data-eps=r.eps.to_string() data-value=r.robust_accuracy.to_string()
                                tabindex="0" title="Show the images this attack flipped" on:click=move |_| selected.set(Some((m, k)))
                                on:keydown=move |ev| if ev.key() == "Enter" { selected.set(Some((m, k))) }>
                                <td class="mono">{e.model.clone()}</td>
                                <td title=r.broken_by.as_ref().map(|b| format!("images each stage broke: {}", b.iter().map(|(stage, n)| format!("{stage} {n}")).collect::<Vec<_>>().join(", ")))>
                                    {r.attack.clone()}
                                    {r.broken_by.as_ref().map(|b| view! { <span class="muted small" data-testid="eval-broken-by">{format!(" ({})", b.iter().map(|(stage, n)| format!("{stage} {n}")).collect::<Vec<_>>().join(", "))}</span> })}
                                </td>
                                <td>{r.eps.to_string()}</td>
                                <td>{format!("{:.2}%", r.robust_accuracy * 100.0)}</td>
                                <td>{format!("{:.2}%", r.success_rate * 100.0)}</td>
                                <td>{format!("{:.4}", r.mean_linf)}</td>
                                <td>{format!("{:.4}", r.mean_l2)}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! { {clean}{attacked} }
            })
            .collect_view();
        let n = evaluations.first().map_or(0, |e| e.n);
        view! {
            <p class="muted small">{format!("{n} test images. Robust accuracy counts images classified correctly both before and after the attack; success rate is the share of correctly classified images the attack flipped.")}</p>
            <div class="table-wrap">
                <table class="results" data-testid="eval-results">
                    <thead><tr><th>"model"</th><th>"attack"</th><th>"ε"</th><th>"robust accuracy"</th><th>"success rate"</th><th>"mean L∞"</th><th>"mean L2"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };

    let charts = move || {
        let Some((evaluations, configs)) = results.get() else { return ().into_any() };
        if evaluations.is_empty() {
            return ().into_any();
        }
        let mut methods: Vec<AttackMethod> = Vec::new();
        for c in &configs {
            if !methods.contains(&c.method) {
                methods.push(c.method);
            }
        }
        methods
            .into_iter()
            .map(|method| {
                let series: Vec<Series> = evaluations
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let mut points: Vec<(f32, f32)> = configs.iter().zip(&e.results).filter(|(c, _)| c.method == method).map(|(c, r)| (c.epsilon, r.robust_accuracy)).collect();
                        if !points.iter().any(|p| p.0 == 0.0) {
                            points.push((0.0, e.clean_accuracy));
                        }
                        points.sort_by(|a, b| a.0.total_cmp(&b.0));
                        Series { name: e.model.clone(), color: PALETTE[i % PALETTE.len()], points, dots: true }
                    })
                    .collect();
                let title = format!("{method}: accuracy against ε");
                view! {
                    <div>
                        <h3 class="small">{title}</h3>
                        <LineChart series=Signal::derive(move || series.clone()) y_range=(0.0, 1.0) x_label="ε" y_label="robust accuracy" testid="eval-chart" />
                    </div>
                }
            })
            .collect_view()
            .into_any()
    };

    let gallery = move || {
        // Only the selected cell's images are copied out of the results.
        let Some((m, k)) = selected.get() else { return ().into_any() };
        let Some((model, method, eps, flipped)) = results.with(|r| {
            let (evaluations, configs) = r.as_ref()?;
            let (e, config) = (evaluations.get(m)?, configs.get(k)?);
            Some((e.model.clone(), config.method, config.epsilon, e.flipped.get(k).cloned().unwrap_or_default()))
        }) else {
            return ().into_any();
        };
        let caption = format!("Flipped by {method} at ε = {eps} on {model}");
        if flipped.is_empty() {
            return view! { <p class="muted small" data-testid="eval-gallery">{caption}": none of these test images."</p> }.into_any();
        }
        let items = flipped
            .into_iter()
            .map(|f| {
                let picture = render::grayscale(&f.image, 28);
                let model = model.clone();
                let label = format!("#{}: {} → {}", f.index, f.label, f.adversarial_prediction);
                view! {
                    <button class="gallery-item ghost" title="Open in the attack lab" on:click=move |_| on_open.run((model.clone(), method, eps, f.index))>
                        <PictureCanvas picture=Signal::derive(move || Some(picture.clone())) label=label />
                    </button>
                }
            })
            .collect_view();
        view! {
            <h3 class="small">{caption}" (label → prediction; click one to open it in the attack lab)"</h3>
            <div class="gallery" data-testid="eval-gallery">{items}</div>
        }
        .into_any()
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
                <button class="primary" data-testid="eval-run" on:click=move |_| run() prop:disabled=move || running.get()>"Run"</button>
            </div>
            <Show when=move || { running.get() || progress.get() > 0.0 }>
                <div class="progress" data-testid="eval-progress" data-value=move || progress.get().to_string() style=move || format!("--p: {}", progress.get())></div>
            </Show>
            {move || problem.get().map(|p| view! { <div class="alert alert-error small" role="alert" data-testid="eval-error">{p}</div> })}
            {table}
            <div class="grid">{charts}</div>
            {gallery}
        </section>
    }
}
