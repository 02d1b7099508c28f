//! The train panel's form: every parameter of a [`TrainConfig`], edited in place. The page's
//! state is the config itself; each field's text becomes a value once, here, checked by
//! `TrainConfig::validate` (its message shown next to the field).

use leptos::prelude::*;

use super::form::{Binding, config_choice, config_field};
use crate::model::Architecture;
use crate::train::{Defense, NoiseKind, TrainConfig};

fn check(c: &TrainConfig) -> Result<(), String> {
    c.validate().map_err(|e| e.to_string())
}

/// The fields of `config`; `disabled` while a run trains. Fields a defense does not use are
/// shown only with it (λ for `mixed`, β for `trades`, the attack steps for `pgd` and `trades`,
/// the noise for `noise`).
#[component]
pub fn TrainForm(config: RwSignal<TrainConfig>, #[prop(into)] disabled: Signal<bool>) -> impl IntoView {
    let defense = move || config.with(|c| c.defense);
    let uses = move |ds: &'static [Defense]| move || ds.contains(&defense());
    view! {
        <div class="toolbar">
            {config_choice("Model", "train-model-select", config, &Architecture::ALL, Binding { get: |c: &TrainConfig| c.architecture, set: |c: &mut TrainConfig, v| c.architecture = v, check }, disabled)}
            {config_choice("Defense", "train-defense-select", config, &Defense::ALL, Binding { get: |c: &TrainConfig| c.defense, set: |c: &mut TrainConfig, v| c.defense = v, check }, disabled)}
            {config_field("ε", "train-eps", config, Binding { get: |c: &TrainConfig| c.epsilon, set: |c: &mut TrainConfig, v| c.epsilon = v, check }, "0.3", disabled)}
            {config_field("Epochs", "train-epochs", config, Binding { get: |c: &TrainConfig| c.epochs, set: |c: &mut TrainConfig, v| c.epochs = v, check }, "1", disabled)}
            {config_field("Training images", "train-limit", config, Binding { get: |c: &TrainConfig| c.limit, set: |c: &mut TrainConfig, v| c.limit = v, check }, "all (59,000)", disabled)}
            {config_field("Batch size", "train-batch", config, Binding { get: |c: &TrainConfig| c.batch_size, set: |c: &mut TrainConfig, v| c.batch_size = v, check }, "64", disabled)}
            {config_field("Learning rate", "train-lr", config, Binding { get: |c: &TrainConfig| c.learning_rate, set: |c: &mut TrainConfig, v| c.learning_rate = v, check }, "0.002", disabled)}
            {config_field("Seed", "train-seed", config, Binding { get: |c: &TrainConfig| c.seed, set: |c: &mut TrainConfig, v| c.seed = v, check }, "0", disabled)}
            {config_field("Weight decay", "train-weight-decay", config, Binding { get: |c: &TrainConfig| c.weight_decay, set: |c: &mut TrainConfig, v| c.weight_decay = v, check }, "0", disabled)}
            {config_field("Gradient penalty λ", "train-grad-penalty", config, Binding { get: |c: &TrainConfig| c.grad_penalty, set: |c: &mut TrainConfig, v| c.grad_penalty = v, check }, "0", disabled)}
            <Show when=uses(&[Defense::Mixed])>
                {config_field("λ", "train-lambda", config, Binding { get: |c: &TrainConfig| c.lambda, set: |c: &mut TrainConfig, v| c.lambda = v, check }, "0.5", disabled)}
            </Show>
            <Show when=uses(&[Defense::Trades])>
                {config_field("β", "train-beta", config, Binding { get: |c: &TrainConfig| c.beta, set: |c: &mut TrainConfig, v| c.beta = v, check }, "6", disabled)}
            </Show>
            <Show when=uses(&[Defense::Pgd, Defense::Trades])>
                {config_field("Attack steps", "train-attack-steps", config, Binding { get: |c: &TrainConfig| c.attack_steps, set: |c: &mut TrainConfig, v| c.attack_steps = v, check }, "10", disabled)}
            </Show>
            <Show when=uses(&[Defense::Noise])>
                {config_choice("Noise", "train-noise-select", config, &NoiseKind::ALL, Binding { get: |c: &TrainConfig| c.noise, set: |c: &mut TrainConfig, v| c.noise = v, check }, disabled)}
                <Show when=move || config.with(|c| c.noise == NoiseKind::Gaussian)>
                    {config_field("Noise σ", "train-noise-std", config, Binding { get: |c: &TrainConfig| c.noise_std, set: |c: &mut TrainConfig, v| c.noise_std = v, check }, "0.3", disabled)}
                </Show>
            </Show>
        </div>
    }
}
