//! The page's link: the attack lab's state read from it when the page opens (a share link), and
//! written into a new one when the user shares; the backend a link asks for.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::prediction::Prediction;
use super::zoo::Zoo;
use crate::attack::AttackConfig;
use crate::page::share::{ShareState, SharedInput};
use crate::web::backend::BackendChoice;

/// The attack lab's state a share link carries. Every field is a handle, so it is `Copy`.
#[derive(Clone, Copy)]
pub(super) struct LabState {
    /// The model in use.
    pub model_id: RwSignal<String>,
    /// The attack (method, ε and steps travel in the link).
    pub attack: RwSignal<AttackConfig>,
    /// The test image asked for.
    pub sample_request: RwSignal<Option<usize>>,
    /// The prediction worker's input, test image and shown picture.
    pub prediction: Prediction,
}

impl LabState {
    /// Applies the link's query `search` once `zoo` is read (a link may name a model of it);
    /// malformed values (and `backend_problem`, the link's backend) are reported to `error` and
    /// replaced by defaults. Sets `applied` when done.
    pub fn apply(self, search: String, backend_problem: Option<String>, zoo: Zoo, error: RwSignal<Option<String>>, applied: RwSignal<bool>) {
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
            self.model_id.set(linked.model.clone());
            self.attack.update(|a| {
                a.method = linked.attack;
                a.epsilon = linked.epsilon;
                a.steps = linked.steps;
            });
            match linked.input {
                SharedInput::Empty => {}
                SharedInput::Sample(i) => self.sample_request.set(Some(i)),
                SharedInput::Drawing(pixels) => {
                    self.prediction.shown.set(Some(pixels.clone()));
                    self.prediction.input.set(Some(pixels));
                }
            }
            applied.set(true);
        });
    }

    /// A link to the lab as it is now (copied to the clipboard when the browser allows it).
    pub fn share(self) -> Option<String> {
        let (sample, input) = (self.prediction.sample.get_untracked(), self.prediction.input.get_untracked());
        let state = ShareState {
            model: self.model_id.get_untracked(),
            attack: self.attack.with_untracked(|a| a.method),
            epsilon: self.attack.with_untracked(|a| a.epsilon),
            steps: self.attack.with_untracked(|a| a.steps),
            input: match (sample, input) {
                (Some((i, _)), _) => SharedInput::Sample(i),
                (None, Some(pixels)) => SharedInput::Drawing(pixels),
                (None, None) => SharedInput::Empty,
            },
        };
        let location = web_sys::window()?.location();
        let url = format!("{}{}?{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default(), state.to_query());
        copy_to_clipboard(&url);
        Some(url)
    }
}

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

/// The backend choice in the page's link (`backend=auto|webgpu|cpu`), and what was wrong with
/// it, if anything (the page then uses Auto).
pub(super) fn linked_backend(search: &str) -> (Option<BackendChoice>, Option<String>) {
    let value = form_urlencoded::parse(search.trim_start_matches('?').as_bytes()).find(|(k, _)| k == "backend").map(|(_, v)| v.into_owned());
    match value.map(|v| v.parse::<BackendChoice>()) {
        None => (None, None),
        Some(Ok(choice)) => (Some(choice), None),
        Some(Err(e)) => (None, Some(e)),
    }
}
