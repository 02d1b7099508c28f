//! The predicted digit and the ten class probabilities as bars.

use leptos::prelude::*;

use super::best;

/// The prediction (`prediction` hook) and bars `prob-0` … `prob-9` (`data-value` in `[0,1]`).
#[component]
pub fn Probabilities(probs: RwSignal<Option<Vec<f32>>>) -> impl IntoView {
    let value = move |k: usize| probs.with(|p| p.as_ref().map_or(0.0, |p| p[k]));
    let top = move || probs.with(|p| p.as_deref().map(|p| best(p).0));
    view! {
        <Show when=move || probs.with(Option::is_some) fallback=|| view! { <p class="muted">"Draw a digit to see the prediction."</p> }>
            {move || {
                let (digit, confidence) = probs.with(|p| best(p.as_deref().unwrap_or(&[0.0; 10])));
                view! {
                    <p class="prediction">
                        <span data-testid="prediction" data-confidence=confidence.to_string()>{digit}</span>
                        <span class="prediction-conf">{format!("{:.1}% confident", confidence * 100.0)}</span>
                    </p>
                }
            }}
        </Show>
        <ol class="probs" aria-label="Class probabilities">
            {(0..10)
                .map(|k| {
                    view! {
                        <li
                            class=move || if top() == Some(k) { "prob top" } else { "prob" }
                            style=move || format!("--p: {}", value(k))
                            data-testid=format!("prob-{k}")
                            data-value=move || value(k).to_string()
                        >
                            <span>{k}</span>
                            <span class="bar"></span>
                            <span>{move || format!("{:.1}%", value(k) * 100.0)}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
