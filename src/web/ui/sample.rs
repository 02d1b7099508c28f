//! Test images instead of a drawing: by index, at random, or the next one the model gets wrong.
//! The worker holds the test set; this component only asks for an index.

use leptos::prelude::*;

/// Index input (`sample-input`), `sample-random` and `sample-wrong` buttons, and the shown
/// image's label (`sample-label`). `on_show` asks for test image `i`; `on_find_mistake` for the
/// next misclassified one from an index; `sample` is the `(index, label)` shown now, if any.
#[component]
pub fn SamplePicker(on_show: Callback<usize>, sample: Signal<Option<(usize, usize)>>, on_find_mistake: Callback<usize>) -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    let show = move |text: String| match text.trim().parse::<usize>() {
        Ok(i) if i < 10_000 => {
            problem.set(None);
            on_show.run(i);
        }
        _ => problem.set(Some(format!("`{}` is not a test image: the index is a whole number 0–9999", text.trim()))),
    };
    let random = move || on_show.run(((js_sys::Math::random() * 10_000.0) as usize).min(9_999));
    let wrong = move || on_find_mistake.run(sample.get_untracked().map_or(0, |(i, _)| i + 1));

    view! {
        <div class="toolbar">
            <label class="field">
                "Test image"
                <input data-testid="sample-input" type="number" min="0" max="9999" placeholder="0–9999"
                    prop:value=move || sample.get().map(|(i, _)| i.to_string()).unwrap_or_default()
                    on:change=move |ev| show(event_target_value(&ev)) />
            </label>
            <button data-testid="sample-random" on:click=move |_| random()>"Random"</button>
            <button data-testid="sample-wrong" on:click=move |_| wrong() title="The next test image this model misclassifies">"Next mistake"</button>
        </div>
        {move || sample.get().map(|(i, label)| view! { <p class="muted small" data-testid="sample-label" data-value=label.to_string()>{format!("Test image {i}, labelled {label}")}</p> })}
        {move || problem.get().map(|p| view! { <div class="alert alert-warn small" role="status">{p}</div> })}
    }
}
