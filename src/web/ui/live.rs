//! The first view's two cards: the drawing canvas with the test-image picker, and the live
//! prediction of the model in use (both served by the prediction worker).

use leptos::prelude::*;

use super::draw::DrawCanvas;
use super::prediction::Prediction;
use super::probabilities::Probabilities;
use super::sample::SamplePicker;

/// The drawing and prediction cards; `on_show_sample` asks for a test image by index.
#[component]
pub(super) fn LiveCards(prediction: Prediction, on_show_sample: Callback<usize>) -> impl IntoView {
    let Prediction { probs, latency, sample, shown, .. } = prediction;
    let on_input = Callback::new(move |pixels: Option<Vec<f32>>| prediction.draw(pixels));
    let on_find_mistake = Callback::new(move |start: usize| prediction.find_mistake(start));
    view! {
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
    }
}
