//! The page's components, one per part of the screen.

mod attack;
mod attack_form;
mod attack_job;
mod backends;
mod chart;
mod draw;
mod eval;
mod eval_job;
mod eval_results;
mod form;
mod header;
mod link;
mod live;
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

pub use backends::Backends;
use super::protocol::DataUrls;
use crate::attack::{AttackConfig, AttackMethod};
use crate::web::client::Engine;
use header::Header;
use prediction::Prediction;
use attack::AttackPanel;
use link::LabState;
use live::LiveCards;
use eval::EvalPanel;
use train::TrainPanel;
use zoo::{Zoo, ZooPanel};

/// Index and value of the largest of ten probabilities.
fn best(p: &[f32]) -> (usize, f32) {
    let i = crate::model::argmax(p);
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

/// The root component: header, the live cards, the attack lab, the zoo, training and evaluation.
#[component]
pub fn App() -> impl IntoView {
    // The one engine worker the panels share (started by the first attack, training or sweep).
    provide_context(Engine::new());
    let error = RwSignal::new(None::<String>);
    // The state in the page's link (read once the zoo is read, below).
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    // The backend the user asks for (Auto unless the link's `backend=` says otherwise); the
    // machine's choice, not the shared state, so it is not part of a share link.
    let (linked_backend, backend_problem) = link::linked_backend(&search);
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
    let Prediction { input, probs, loaded, sample, .. } = prediction;
    // Live predictions of the model in use, once the page's link is applied.
    Effect::new(move |_| {
        model_url.track();
        if link_applied.get() {
            prediction.load();
        }
    });
    Effect::new(move |_| {
        if let Some(index) = sample_request.get() {
            prediction.show_sample(index);
        }
    });
    let lab = LabState { model_id, attack, sample_request, prediction };
    lab.apply(search, backend_problem, zoo, error, link_applied);

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
    // A model removed or renamed in the zoo: the lab follows.
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
    let on_open = Callback::new(move |(model, method, eps, index): eval_results::OpenInLab| {
        model_id.set(model);
        attack.update(|a| {
            a.method = method;
            a.epsilon = eps;
        });
        sample_request.set(Some(index));
        scroll_to("lab");
    });

    view! {
        <Header model_id=model_id model_url=model_url zoo=zoo ready=Signal::derive(ready) on_share=Callback::new(move |()| share_url.set(lab.share())) />
        <main class="app-main">
            <Show when=move || error.get().is_some()>
                <div class="alert alert-error" role="alert" data-testid="error">{move || error.get().unwrap_or_default()}</div>
            </Show>
            {move || backends.note.get().or_else(|| backends.expected_note()).map(|n| view! { <div class="alert alert-info small">{n} ": running on burn's CPU backend (WebAssembly) instead."</div> })}
            {move || share_url.get().map(|url| view! {
                <div class="alert alert-info small">"Link copied: " <input class="mono" data-testid="share-url" readonly prop:value=url /></div>
            })}
            <LiveCards prediction=prediction on_show_sample=Callback::new(move |index: usize| sample_request.set(Some(index))) />
            <AttackPanel input=input.into() label=attack_label model_url=model_url.into() config=attack model_label=model_id.into() counterpart=counterpart.into() />
            <ZooPanel zoo=zoo on_upload=on_upload on_use=on_use on_removed=on_removed on_renamed=on_renamed />
            <TrainPanel zoo=zoo data=data on_use=on_use />
            <EvalPanel zoo=zoo data=data model_url=Callback::new(move |id: String| url_of(&id)) on_open=on_open />
        </main>
    }
}
