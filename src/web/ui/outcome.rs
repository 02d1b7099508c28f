//! One attack's result as the lab shows it: original | perturbation | adversarial, the
//! prediction before and after, and the norms.

use leptos::prelude::*;

use super::best;
use super::picture::PictureCanvas;
use crate::attack::{AttackConfig, AttackMethod, Norm};
use crate::data::render;
use crate::attack::Norms;

/// A finished attack, as shown.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Outcome {
    pub(super) original: Vec<f32>,
    pub(super) adversarial: Vec<f32>,
    pub(super) probabilities: Vec<f32>,
    pub(super) label: usize,
    pub(super) config: AttackConfig,
    /// AutoAttack only: the stage that broke the image.
    pub(super) broken_by: Option<AttackMethod>,
    /// Milliseconds the engine spent on the attack (in its worker, message and drawing aside).
    pub(super) millis: f64,
}

impl Outcome {
    fn delta(&self) -> Vec<f32> {
        self.adversarial.iter().zip(&self.original).map(|(a, o)| a - o).collect()
    }
}

/// One attack's result: original | perturbation | adversarial, the prediction before and after,
/// and the norms. Hooks are `{prefix}adv-prediction`, `{prefix}perturbation-linf`, ….
#[component]
pub(super) fn OutcomeView(outcome: RwSignal<Option<Outcome>>, prefix: &'static str, title: Signal<String>) -> impl IntoView {
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
                let Norms { linf, l2, l0 } = Norms::between(&o.original, &o.adversarial);
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
                        <span class="muted" data-testid=format!("{prefix}attack-time") data-value=o.millis.to_string()>{format!("{:.0} ms in the engine", o.millis)}</span>
                    </div>
                    {(o.config.method.norm() == Norm::L0).then(|| view! {
                        <p class="muted small" data-testid=format!("{prefix}changed-pixels")>{format!("{l0} pixels changed (of the {} the budget allows): the coloured ones in the perturbation", crate::attack::projection::l0_budget(o.config.epsilon))}</p>
                    })}
                    {o.broken_by.map(|stage| view! { <p class="muted small" data-testid=format!("{prefix}broken-by")>{format!("broken by AutoAttack's {stage} stage")}</p> })}
                }
            })
        }}
    }
}

