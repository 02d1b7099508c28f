//! Test images instead of a drawing: by index, at random, or the next one the model gets wrong
//! (that search runs in the worker).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::data::Dataset;

/// Fetches and parses the MNIST test set shipped in `data/`.
async fn load_test_set() -> Result<Dataset, String> {
    let (images_url, labels_url) = ("data/t10k-images-idx3-ubyte", "data/t10k-labels-idx1-ubyte");
    let images = crate::web::fetch::bytes(images_url).await?;
    let labels = crate::web::fetch::bytes(labels_url).await?;
    Dataset::from_idx((images_url, &images), (labels_url, &labels)).map_err(|e| e.to_string())
}

/// Index input (`sample-input`), `sample-random` and `sample-wrong` buttons. `on_sample` gets
/// `(index, label, pixels)`; `sample` is the test image shown now, if any; `on_find_mistake`
/// asks the worker for the next misclassified image from an index; `request` is a test image to
/// show (from a share link or that search), with a request number.
#[component]
pub fn SamplePicker(
    on_sample: Callback<(usize, usize, Vec<f32>)>,
    sample: Signal<Option<(usize, usize)>>,
    on_find_mistake: Callback<usize>,
    request: Signal<Option<(u64, usize)>>,
) -> impl IntoView {
    let data = StoredValue::new(None::<Dataset>);
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);

    // Shows test image `i` (the test set is fetched on first use).
    let show_index = move |i: usize| {
        busy.set(true);
        spawn_local(async move {
            let loaded = match data.get_value() {
                Some(d) => Ok(d),
                None => load_test_set().await.inspect(|d| data.set_value(Some(d.clone()))),
            };
            match loaded {
                Ok(d) if i < d.len() => {
                    problem.set(None);
                    on_sample.run((i, usize::from(d.labels[i]), d.image(i).to_vec()));
                }
                Ok(d) => problem.set(Some(format!("test image {i} does not exist: the test set has {} (0–{})", d.len(), d.len() - 1))),
                Err(e) => problem.set(Some(e)),
            }
            busy.set(false);
        });
    };
    // A share link asks for a test image.
    Effect::new(move |_| {
        if let Some((_, i)) = request.get() {
            show_index(i);
        }
    });
    let random = move || {
        let i = (js_sys::Math::random() * 10_000.0) as usize;
        show_index(i.min(9_999));
    };
    let wrong = move || on_find_mistake.run(sample.get_untracked().map_or(0, |(i, _)| i + 1));

    view! {
        <div class="toolbar">
            <label class="field">
                "Test image"
                <input data-testid="sample-input" type="number" min="0" max="9999" placeholder="0–9999"
                    prop:value=move || sample.get().map(|(i, _)| i.to_string()).unwrap_or_default()
                    on:change=move |ev| {
                        match event_target_value(&ev).trim().parse::<usize>() {
                            Ok(i) => show_index(i),
                            Err(_) => problem.set(Some("a test image index is a whole number 0–9999".into())),
                        }
                    } />
            </label>
            <button data-testid="sample-random" prop:disabled=move || busy.get() on:click=move |_| random()>"Random"</button>
            <button data-testid="sample-wrong" prop:disabled=move || busy.get() on:click=move |_| wrong()
                title="The next test image this model misclassifies">"Next mistake"</button>
        </div>
        {move || sample.get().map(|(i, label)| view! { <p class="muted small" data-testid="sample-label" data-value=label.to_string()>{format!("Test image {i}, labelled {label}")}</p> })}
        {move || problem.get().map(|p| view! { <div class="alert alert-warn small" role="status">{p}</div> })}
    }
}
