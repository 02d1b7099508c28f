//! The predicted digit and the ten class probabilities as bars.

use leptos::prelude::*;

/// Index and value of the largest probability.
fn best(p: &[f32]) -> (usize, f32) {
    p.iter().copied().enumerate().fold((0, f32::MIN), |b, (i, v)| if v > b.1 { (i, v) } else { b })
}

/// The prediction (`prediction` hook) and bars `prob-0` … `prob-9` (`data-value` in `[0,1]`).
#[component]
pub fn Probabilities(probs: RwSignal<Option<Vec<f32>>>) -> impl IntoView {
    let value = move |k: usize| probs.with(|p| p.as_ref().map_or(0.0, |p| p[k]));
    view! {
        <Show when=move || probs.with(Option::is_some) fallback=|| view! { <p class="placeholder">"Draw a digit to see the prediction."</p> }>
            {move || {
                let (digit, confidence) = probs.with(|p| best(p.as_deref().unwrap_or(&[0.0; 10])));
                view! {
                    <p class="prediction">
                        "Predicted "
                        <strong data-testid="prediction" data-confidence=confidence.to_string()>{digit}</strong>
                        {format!(" ({:.1}%)", confidence * 100.0)}
                    </p>
                }
            }}
        </Show>
        <ol class="bars">
            {(0..10)
                .map(|k| {
                    view! {
                        <li data-testid=format!("prob-{k}") data-value=move || value(k).to_string()>
                            <span class="digit">{k}</span>
                            <span class="bar"><span class="fill" style:width=move || format!("{:.1}%", value(k) * 100.0)></span></span>
                            <span class="pct">{move || format!("{:.1}%", value(k) * 100.0)}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
