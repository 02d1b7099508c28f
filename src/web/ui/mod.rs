//! The page's components, one per part of the screen.

mod attack;
mod attack_form;
mod attack_job;
mod backends;
mod chart;
mod draw;
mod eval;
mod eval_results;
mod form;
mod header;
mod outcome;
mod picture;
mod prediction;
mod probabilities;
mod sample;
mod train;
mod train_form;
mod train_job;
mod train_run;
mod zoo;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::backend::BackendChoice;
pub use backends::Backends;
use super::protocol::DataUrls;
use crate::attack::{AttackConfig, AttackMethod};
use crate::share::{SharedInput, ShareState};
use crate::web::client::Engine;
use header::Header;
use prediction::Prediction;
use attack::AttackPanel;
use draw::DrawCanvas;
use probabilities::Probabilities;
use sample::SamplePicker;
use eval::EvalPanel;
use train::TrainPanel;
use zoo::{Zoo, ZooPanel};

/// Puts `text` on the clipboard when the browser allows it (the link is shown on the page anyway).
fn copy_to_clipboard(text: &str) {
    let Some(window) = web_sys::window() else { return };
    let clipboard = window.navigator().clipboard();
    // Absent on insecure origins.
    if wasm_bindgen::JsValue::from(clipboard.clone()).is_undefined() {
        return;
    }
    // A refused permission rejects the promise; the link is on the page regardless.
    let promise = clipboard.write_text(text);
    spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    });
}

/// Index and value of the largest of ten probabilities.
fn best(p: &[f32]) -> (usize, f32) {
    let i = crate::session::argmax(p);
    (i, p.get(i).copied().unwrap_or(0.0))
}

/// Scrolls the element with this id into view.
fn scroll_to(id: &str) {
    if let Some(element) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)) {
        element.scroll_into_view();
    }
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
    // The one engine worker the panels share (started by the first attack, training or sweep).
    provide_context(Engine::new());
    let error = RwSignal::new(None::<String>);
    // The state in the page's link (read once the zoo is read, below).
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    // The backend the user asks for (Auto unless the link's `backend=` says otherwise); the
    // machine's choice, not the shared state, so it is not part of a share link.
    let (linked_backend, backend_problem) = linked_backend(&search);
    let backends = Backends::new(linked_backend);
    provide_context(backends);
    let model_id = RwSignal::new(super::PRETRAINED[0].to_string());
    // The attack lab's attack (a share link carries its method, ε and steps).
    let attack = RwSignal::new(AttackConfig::new(AttackMethod::Fgsm));
    // The test image asked for (the predictor worker holds the test set).
    let sample_request = RwSignal::new(None::<usize>);
    let share_url = RwSignal::new(None::<String>);
    // The zoo is read and the page's link applied before the first model loads.
    let zoo = Zoo::new();
    let link_applied = RwSignal::new(false);
    // The URL of a model's weights: a file of the site, or a `blob:` URL of the zoo's copy.
    let url_of = move |id: &str| -> Option<String> {
        if super::PRETRAINED.contains(&id) {
            Some(absolute(&format!("models/{id}.safetensors")))
        } else {
            zoo.models.with(|m| m.iter().find(|m| m.id == id).map(|m| m.url.clone()))
        }
    };
    // A memo: a change elsewhere in the zoo must not reload the model in use.
    let model_url = Memo::new(move |_| url_of(&model_id.get()).unwrap_or_else(|| absolute(&format!("models/{}.safetensors", super::PRETRAINED[0]))));
    // Where the MNIST files lie (the workers need absolute URLs).
    let data = Signal::stored(DataUrls {
        train_images: absolute("data/train-images-idx3-ubyte"),
        train_labels: absolute("data/train-labels-idx1-ubyte"),
        test_images: absolute("data/t10k-images-idx3-ubyte"),
        test_labels: absolute("data/t10k-labels-idx1-ubyte"),
    });
    // The prediction worker: live predictions, test images and upload checks.
    let prediction = Prediction::new(error, model_id, model_url, zoo, data);
    let Prediction { input, probs, latency, loaded, sample, shown, .. } = prediction;
    // Live predictions of the model in use, once the page's link is applied.
    Effect::new(move |_| {
        model_url.track();
        if link_applied.get() {
            prediction.load();
        }
    });

    let on_input = Callback::new(move |pixels: Option<Vec<f32>>| prediction.draw(pixels));
    Effect::new(move |_| {
        if let Some(index) = sample_request.get() {
            prediction.show_sample(index);
        }
    });
    let on_show_sample = Callback::new(move |index: usize| sample_request.set(Some(index)));
    let on_find_mistake = Callback::new(move |start: usize| prediction.find_mistake(start));

    // The state in the page's link, applied once the zoo is read (a link may name a model of it);
    // malformed values are reported and replaced by defaults.
    spawn_local(async move {
        if let Err(e) = zoo.load().await {
            error.set(Some(e));
        }
        let known = untrack(|| zoo.ids());
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        let (linked, mut problems) = ShareState::parse(&search, &known);
        problems.extend(backend_problem);
        if !problems.is_empty() {
            error.set(Some(format!("The link's {}: using the defaults instead.", problems.join("; "))));
        }
        model_id.set(linked.model.clone());
        attack.update(|a| {
            a.method = linked.attack;
            a.epsilon = linked.epsilon;
            a.steps = linked.steps;
        });
        match linked.input {
            SharedInput::Empty => {}
            SharedInput::Sample(i) => sample_request.set(Some(i)),
            SharedInput::Drawing(pixels) => {
                shown.set(Some(pixels.clone()));
                input.set(Some(pixels));
            }
        }
        link_applied.set(true);
    });
    let share = move || {
        let state = ShareState {
            model: model_id.get_untracked(),
            attack: attack.with_untracked(|a| a.method),
            epsilon: attack.with_untracked(|a| a.epsilon),
            steps: attack.with_untracked(|a| a.steps),
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
    // The standard model's robust twin and vice versa, for the side-by-side comparison.
    let counterpart = Memo::new(move |_| {
        let id = model_id.get();
        let twin = id.strip_suffix("-standard").map(|a| format!("{a}-robust")).or_else(|| id.strip_suffix("-robust").map(|a| format!("{a}-standard")))?;
        let url = url_of(&twin)?;
        Some((twin, url))
    });
    let ready = move || loaded.get() && backends.known();
    let on_upload = Callback::new(move |(name, bytes): (String, Vec<u8>)| prediction.upload(name, bytes));
    let on_use = Callback::new(move |id: String| {
        model_id.set(id);
        scroll_to("lab");
    });
    let on_removed = Callback::new(move |id: String| {
        if model_id.get_untracked() == id {
            model_id.set(super::PRETRAINED[0].to_string());
        }
    });
    let on_renamed = Callback::new(move |(old, new): (String, String)| {
        if model_id.get_untracked() == old {
            model_id.set(new);
        }
    });
    let model_url_of = Callback::new(move |id: String| url_of(&id));
    let on_open = Callback::new(move |(model, method, eps, index): eval::OpenInLab| {
        model_id.set(model);
        attack.update(|a| {
            a.method = method;
            a.epsilon = eps;
        });
        sample_request.set(Some(index));
        scroll_to("lab");
    });

    view! {
        <Header model_id=model_id model_url=model_url zoo=zoo ready=Signal::derive(ready) on_share=Callback::new(move |()| share()) />
        <main class="app-main">
            <Show when=move || error.get().is_some()>
                <div class="alert alert-error" role="alert" data-testid="error">{move || error.get().unwrap_or_default()}</div>
            </Show>
            {move || backends.note.get().or_else(|| backends.expected_note()).map(|n| view! { <div class="alert alert-info small">{n} ": running on burn's CPU backend (WebAssembly) instead."</div> })}
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
                    {move || latency.get().filter(|_| probs.with(Option::is_some)).map(|ms| view! {
                        <p class="muted small" data-testid="prediction-latency" data-value=ms.to_string()>{format!("Answered in {ms:.0} ms by the prediction worker (CPU)")}</p>
                    })}
                </section>
            </div>
            <AttackPanel input=input.into() label=attack_label model_url=model_url.into() config=attack model_label=model_id.into() counterpart=counterpart.into() />
            <ZooPanel zoo=zoo on_upload=on_upload on_use=on_use on_removed=on_removed on_renamed=on_renamed />
            <TrainPanel zoo=zoo data=data on_use=on_use />
            <EvalPanel zoo=zoo data=data model_url=model_url_of on_open=on_open />
        </main>
    }
}

/// The backend choice in the page's link (`backend=auto|webgpu|cpu`), and what was wrong with
/// it, if anything (the page then uses Auto).
fn linked_backend(search: &str) -> (Option<BackendChoice>, Option<String>) {
    let value = form_urlencoded::parse(search.trim_start_matches('?').as_bytes()).find(|(k, _)| k == "backend").map(|(_, v)| v.into_owned());
    match value.map(|v| v.parse::<BackendChoice>()) {
        None => (None, None),
        Some(Ok(choice)) => (Some(choice), None),
        Some(Err(e)) => (None, Some(e)),
    }
}
