//! The page's header: the model in use (and its download), the backend the user asks for and
//! the one the engine runs on, the share link, and the `ready` hook.

use leptos::prelude::*;

use super::zoo::Zoo;
use crate::web::PRETRAINED;
use super::backends::{Backends, CalibrationTable};
use crate::calibration::Job;
use crate::web::backend::{self, BackendChoice, BackendKind};

/// The header. `model_url` is the weights of `model_id`; the page's [`Backends`] (a context)
/// say what the user asks for and what the attack lab's engine runs on (the `backend` hook).
#[component]
pub(super) fn Header(
    model_id: RwSignal<String>,
    model_url: Memo<String>,
    zoo: Zoo,
    #[prop(into)] ready: Signal<bool>,
    on_share: Callback<()>,
) -> impl IntoView {
    let backends = expect_context::<Backends>();
    let attack_backend = move || backends.of(Job::Attack);
    view! {
        <header class="app-header">
            <h1>"advlab"</h1>
            <span class="muted small tagline">"Adversarial MNIST lab, running in your browser"</span>
            <span class="spacer"></span>
            <label class="field">
                "Model"
                <select data-testid="model-select" prop:value=move || model_id.get() on:change=move |ev| model_id.set(event_target_value(&ev))>
                    <optgroup label="Pretrained">
                        {PRETRAINED.iter().map(|id| view! { <option value=*id>{*id}</option> }).collect_view()}
                    </optgroup>
                    <Show when=move || zoo.models.with(|m| !m.is_empty())>
                        <optgroup label="Your models">
                            {move || zoo.models.get().into_iter().map(|m| view! { <option value=m.id.clone()>{m.id.clone()}</option> }).collect_view()}
                        </optgroup>
                    </Show>
                </select>
            </label>
            <label class="field">
                "Backend"
                <select data-testid="backend-select" title="Auto runs each job on the backend that ran it faster in a short measurement; WebGPU runs on the graphics card; the CPU backend is burn's, compiled to WebAssembly"
                    prop:value=move || backends.choice.get().name() on:change=move |ev| {
                        if let Ok(choice) = event_target_value(&ev).parse::<BackendChoice>() {
                            backends.choice.set(choice);
                        }
                    }>
                    <option value="auto">"Auto"</option>
                    <option value="webgpu">"WebGPU"</option>
                    <option value="cpu">"CPU"</option>
                </select>
            </label>
            <span
                class=move || match attack_backend() {
                    Some(BackendKind::WebGpu) => "badge badge-gpu",
                    _ => "badge badge-cpu",
                }
                title=move || match backends.note.get() {
                    Some(note) => format!("{note}; running on the CPU"),
                    None if backends.measuring() => "Auto: measured when the engine first starts; WebGPU until then".into(),
                    None if backends.software_adapter() => format!("Auto: {}", backend::SOFTWARE_ADAPTER),
                    None => "The backend the attack lab runs on".into(),
                }
            >
                <span data-testid="backend">{move || attack_backend().map(BackendKind::name).unwrap_or("starting…")}</span>
            </span>
            <CalibrationTable backends=backends />
            <a class="small" data-testid="model-download" href=move || {
                    let id = model_id.get();
                    if PRETRAINED.contains(&id.as_str()) { format!("models/{id}.safetensors") } else { model_url.get() }
                }
                download=move || format!("{}.safetensors", model_id.get()) title="The weights as safetensors (PyTorch layout)">"Download"</a>
            <button class="ghost" data-testid="share-link" title="Copy a link to this exact state" on:click=move |_| on_share.run(())>"Share link"</button>
            <Show when=move || ready.get() fallback=|| view! { <span class="muted small">"Loading…"</span> }>
                <span class="muted small" data-testid="ready">"Ready"</span>
            </Show>
        </header>
    }
}
