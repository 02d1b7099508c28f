//! An evaluation sweep's results: the table (a row per model × attack × ε, with AutoAttack's
//! stages), accuracy-against-ε curves per attack, and a gallery of the test images the selected
//! attack flipped.

use leptos::prelude::*;

use super::chart::{LineChart, PALETTE, Series};
use super::picture::PictureCanvas;
use crate::attack::{AttackConfig, AttackMethod};
use crate::data::render;
use crate::web::protocol::ModelEvaluation;

/// A flipped test image to open in the attack lab: model id, attack, ε and test image index.
pub type OpenInLab = (String, AttackMethod, f32, usize);

/// The sweep's results with the attack configurations they answer (`None` before a sweep).
pub(super) type Results = RwSignal<Option<(Vec<ModelEvaluation>, Vec<AttackConfig>)>>;

/// The table; clicking a row selects its attack (model index, attack index) for the gallery.
#[component]
pub(super) fn ResultsTable(results: Results, selected: RwSignal<Option<(usize, usize)>>) -> impl IntoView {
    move || {
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
    }
}

/// One accuracy-against-ε chart per attack, every model a line (clean accuracy at ε = 0).
#[component]
pub(super) fn ResultsCharts(results: Results) -> impl IntoView {
    view! { <div class="grid">{move || {
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
        }}</div> }
}

/// The test images the selected attack flipped; one opens in the attack lab.
#[component]
pub(super) fn FlippedGallery(results: Results, selected: RwSignal<Option<(usize, usize)>>, on_open: Callback<OpenInLab>) -> impl IntoView {
    move || {
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
    }
}

