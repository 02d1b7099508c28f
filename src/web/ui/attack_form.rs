//! The attack lab's parameters: every field edits the lab's [`AttackConfig`] in place, checked by
//! `AttackConfig::validate` (a bad value is shown next to its field), and ε also has a slider
//! for live re-attack.

use leptos::prelude::*;

use super::form::{Binding, config_choice, config_field, config_field_live};
use crate::attack::{AttackConfig, AttackMethod, Norm};

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

/// The fields of the lab's attack: method, ε (typed or dragged), steps, step size, restarts,
/// Square's queries and target (each enabled where the method uses it).
#[component]
pub(super) fn AttackForm(config: RwSignal<AttackConfig>) -> impl IntoView {
    view! {
        {config_choice("Attack", "attack-select", config, &AttackMethod::ALL, Binding { get: |c: &AttackConfig| c.method, set: choose_method, check }, Signal::stored(false))}
        {config_field_live(Signal::derive(move || epsilon_label(config.with(|c| c.method.norm())).to_string()), "eps-input", config, Binding { get: |c: &AttackConfig| c.epsilon, set: |c: &mut AttackConfig, v| c.epsilon = v, check }, "0.3", Signal::stored(false))}
        <label class="field" title="Drag to re-attack live: the next attack starts when the engine has finished the last one">
            "ε slider"
            <input type="range" data-testid="eps-slider" min="0" step="0.005"
                max=move || AttackConfig::max_epsilon(config.with(|c| c.method)).to_string()
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
        {config_field("Square queries", "queries-input", config, Binding { get: |c: &AttackConfig| c.queries, set: |c: &mut AttackConfig, v| c.queries = v, check }, "= steps",
            Signal::derive(move || !config.with(|c| matches!(c.method, AttackMethod::Square | AttackMethod::AutoAttack))))}
        {config_field("Target", "target-input", config, Binding { get: |c: &AttackConfig| c.target, set: |c: &mut AttackConfig, v| c.target = v, check }, "none",
            Signal::derive(move || !config.with(|c| c.method.supports_target())))}
    }
}
