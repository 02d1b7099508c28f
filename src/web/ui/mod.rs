//! The page's components, one per part of the screen.

mod attack;
mod draw;
mod picture;
mod probabilities;
mod sample;
mod worker_client;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::backend::BackendKind;
use super::protocol::{Request, Response};
use crate::attack::AttackMethod;
use crate::share::{SharedInput, ShareState};
use worker_client::WorkerHandle;
use attack::AttackPanel;
use draw::DrawCanvas;
use probabilities::Probabilities;
use sample::SamplePicker;

/// Puts `text` on the clipboard when the browser allows it (the link is shown on the page anyway).
fn copy_to_clipboard(text: &str) {
    use wasm_bindgen::{JsCast, JsValue};
    let Some(window) = web_sys::window() else { return };
    let clipboard = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("clipboard")).unwrap_or(JsValue::UNDEFINED);
    if clipboard.is_undefined() {
        return;
    }
    if let Ok(write) = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")).and_then(|f| f.dyn_into::<js_sys::Function>().map_err(JsValue::from)) {
        if let Ok(promise) = write.call1(&clipboard, &JsValue::from_str(text)) {
            // A refused permission rejects the promise; the link is on the page regardless.
            if let Ok(promise) = promise.dyn_into::<js_sys::Promise>() {
                spawn_local(async move {
                    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
                });
            }
        }
    }
}

/// Index and value of the largest of ten probabilities.
fn best(p: &[f32]) -> (usize, f32) {
    p.iter().copied().enumerate().fold((0, f32::MIN), |b, (i, v)| if v > b.1 { (i, v) } else { b })
}

/// `relative` resolved against the page's base URL (workers need absolute URLs).
fn absolute(relative: &str) -> String {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .and_then(|base| web_sys::Url::new_with_base(relative, &base).ok())
        .map_or_else(|| relative.to_string(), |u| u.href())
}

/// The root component: backend, model picker, drawing canvas and live prediction.
#[component]
pub fn App() -> impl IntoView {
    let backend_kind = RwSignal::new(None::<BackendKind>);
    let backend_note = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let model_id = RwSignal::new(super::PRETRAINED[0].to_string());
    let loaded = RwSignal::new(false);
    let started = RwSignal::new(false);
    let input = RwSignal::new(None::<Vec<f32>>);
    let probs = RwSignal::new(None::<Vec<f32>>);
    let last_request = StoredValue::new(0u64);
    let method = RwSignal::new(AttackMethod::Fgsm);
    let epsilon = RwSignal::new(0.3f32);
    let steps = RwSignal::new(40usize);
    let sample_request = RwSignal::new(None::<(u64, usize)>);
    let share_url = RwSignal::new(None::<String>);
    // A test image (index into the MNIST test set, label) instead of a drawing.
    let sample = RwSignal::new(None::<(usize, usize)>);
    let shown = RwSignal::new(None::<Vec<f32>>);

    // The prediction worker: live predictions and searches never run on the main thread.
    let predictor = StoredValue::new_local(None::<WorkerHandle>);
    let send = move |request: Request| {
        predictor.with_value(|w| {
            if let Some(w) = w {
                w.send(&request);
            }
        });
    };
    let next_id = move || {
        last_request.update_value(|i| *i += 1);
        last_request.get_value()
    };
    // Asks for the current input's probabilities; answers to older requests are dropped.
    let classify = move || match input.get_untracked() {
        None => probs.set(None),
        Some(image) if loaded.get_untracked() => send(Request::Predict { id: next_id(), image }),
        Some(_) => {}
    };
    let on_response = move |response: Response| match response {
        Response::Started => started.set(true),
        Response::Loaded { backend, note } => {
            backend_kind.set(Some(if backend == "webgpu" { BackendKind::WebGpu } else { BackendKind::Cpu }));
            backend_note.set(note);
            loaded.set(true);
            classify();
        }
        Response::Predicted { id, probabilities } => {
            if id == last_request.get_value() {
                probs.set(Some(probabilities));
            }
        }
        Response::Sample { index, label, image, .. } => {
            sample.set(Some((index, label)));
            shown.set(Some(image.clone()));
            input.set(Some(image));
            classify();
        }
        Response::Mistake { index: Some(i), .. } => sample_request.set(Some((next_id(), i))),
        Response::Mistake { index: None, .. } => error.set(Some("this model classifies every test image correctly".into())),
        Response::Attacked { .. } => {}
        Response::Failed { message, .. } => error.set(Some(message)),
    };
    match WorkerHandle::start(on_response) {
        Ok(handle) => predictor.set_value(Some(handle)),
        Err(e) => error.set(Some(e)),
    }
    let model_url = Signal::derive(move || absolute(&format!("models/{}.safetensors", model_id.get())));
    Effect::new(move |_| {
        let url = model_url.get();
        if started.get() {
            loaded.set(false);
            send(Request::Load { backend: "webgpu".into(), url });
        }
    });

    let on_input = Callback::new(move |pixels: Option<Vec<f32>>| {
        sample.set(None);
        input.set(pixels);
        classify();
    });
    // Test images come from the worker, which fetches the test set once.
    let test_set_urls = || (absolute("data/t10k-images-idx3-ubyte"), absolute("data/t10k-labels-idx1-ubyte"));
    Effect::new(move |_| {
        if let (true, Some((_, index))) = (started.get(), sample_request.get()) {
            let (images_url, labels_url) = test_set_urls();
            send(Request::Sample { id: next_id(), index, images_url, labels_url });
        }
    });
    let on_show_sample = Callback::new(move |index: usize| sample_request.set(Some((next_id(), index))));
    let on_find_mistake = Callback::new(move |start: usize| {
        let (images_url, labels_url) = test_set_urls();
        send(Request::NextMistake { id: next_id(), start, images_url, labels_url });
    });

    // The state in the page's link; malformed values are reported and replaced by defaults.
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let (linked, problems) = ShareState::parse(&search, &super::PRETRAINED);
    if !problems.is_empty() {
        error.set(Some(format!("The link's {}: using the defaults instead.", problems.join("; "))));
    }
    model_id.set(linked.model.clone());
    method.set(linked.attack);
    epsilon.set(linked.epsilon);
    steps.set(linked.steps);
    match linked.input {
        SharedInput::Empty => {}
        SharedInput::Sample(i) => sample_request.set(Some((0, i))),
        SharedInput::Drawing(pixels) => {
            shown.set(Some(pixels.clone()));
            input.set(Some(pixels));
        }
    }
    let share = move || {
        let state = ShareState {
            model: model_id.get_untracked(),
            attack: method.get_untracked(),
            epsilon: epsilon.get_untracked(),
            steps: steps.get_untracked(),
            input: match (sample.get_untracked(), input.get_untracked()) {
                (Some((i, _)), _) => SharedInput::Sample(i),
                (None, Some(pixels)) => SharedInput::Drawing(pixels),
                (None, None) => SharedInput::Empty,
            },
        };
        let Some(location) = web_sys::window().map(|w| w.location()) else { return };
        let url = format!(
            "{}{}?{}",
            location.origin().unwrap_or_default(),
            location.pathname().unwrap_or_default(),
            state.to_query()
        );
        copy_to_clipboard(&url);
        share_url.set(Some(url));
    };

    // The class an attack moves away from: a test image's label, else the model's reading.
    let attack_label = Signal::derive(move || {
        sample.get().map(|(_, label)| label).or_else(|| {
            probs.with(|p| p.as_deref().map(|p| best(p).0))
        })
    });
    let backend_name = Signal::derive(move || backend_kind.get().map(BackendKind::name));
    // The standard model's robust twin and vice versa, for the side-by-side comparison.
    let counterpart = Signal::derive(move || {
        let id = model_id.get();
        let twin = id.strip_suffix("-standard").map(|a| format!("{a}-robust")).or_else(|| id.strip_suffix("-robust").map(|a| format!("{a}-standard")))?;
        let url = absolute(&format!("models/{twin}.safetensors"));
        Some((twin, url))
    });
    let model_label = Signal::derive(move || model_id.get());
    let ready = move || loaded.get() && backend_kind.get().is_some();
    let select_model = move |id: String| model_id.set(id);

    view! {
        <header class="app-header">
            <h1>"advlab"</h1>
            <span class="muted small">"Adversarial MNIST lab, running in your browser"</span>
            <span class="spacer"></span>
            <label class="field">
                "Model"
                <select
                    data-testid="model-select"
                    prop:value=move || model_id.get()
                    on:change=move |ev| select_model(event_target_value(&ev))
                >
                    {super::PRETRAINED.iter().map(|id| view! { <option value=*id>{*id}</option> }).collect_view()}
                </select>
            </label>
            <span
                class=move || match backend_kind.get() {
                    Some(BackendKind::WebGpu) => "badge badge-gpu",
                    _ => "badge badge-cpu",
                }
                title=move || backend_note.get().map(|n| format!("{n}; running on the CPU")).unwrap_or_default()
            >
                <span data-testid="backend">{move || backend_kind.get().map(BackendKind::name).unwrap_or("starting…")}</span>
            </span>
            <a class="small" data-testid="model-download" href=move || format!("models/{}.safetensors", model_id.get())
                download=move || format!("{}.safetensors", model_id.get()) title="The weights as safetensors (PyTorch layout)">"Download"</a>
            <button class="ghost" data-testid="share-link" title="Copy a link to this exact state" on:click=move |_| share()>"Share link"</button>
            <Show when=ready fallback=|| view! { <span class="muted small">"Loading…"</span> }>
                <span class="muted small" data-testid="ready">"Ready"</span>
            </Show>
        </header>
        <main class="app-main">
            <Show when=move || error.get().is_some()>
                <div class="alert alert-error" role="alert" data-testid="error">{move || error.get().unwrap_or_default()}</div>
            </Show>
            {move || backend_note.get().map(|n| view! { <div class="alert alert-info small">{n} ": running on burn's CPU backend (WebAssembly) instead."</div> })}
            {move || share_url.get().map(|url| view! {
                <div class="alert alert-info small">"Link copied: " <input class="mono" data-testid="share-url" readonly prop:value=url /></div>
            })}
            <div class="grid">
                <section class="card">
                    <h2 class="card-title">"Draw a digit"</h2>
                    <p class="muted small">"Draw with a mouse, finger or pen. Like MNIST's digits, the drawing is cropped, scaled to 20×20 and centred by its centre of mass in 28×28 pixels; the small image is what the model sees."</p>
                    <DrawCanvas on_input=on_input show=shown.into() />
                    <SamplePicker on_show=on_show_sample sample=sample.into() on_find_mistake=on_find_mistake />
                </section>
                <section class="card">
                    <h2 class="card-title">"Prediction"</h2>
                    <p class="muted small">"The model's probability for each digit, updated on every stroke."</p>
                    <Probabilities probs=probs />
                </section>
            </div>
            <AttackPanel input=input.into() label=attack_label model_url=model_url backend=backend_name method=method epsilon=epsilon steps=steps model_label=model_label counterpart=counterpart />
        </main>
    }
}
