//! What a worker message costs in the browser: encoding, the structured clone `postMessage`
//! makes, and decoding, for a training epoch's progress stream (60,000 images at batch 64: 938
//! batch reports, one message each) and a weights transfer (a CNN's 0.86 MB safetensors file),
//! through the page's protocol (serde-wasm-bindgen, weights as a `Uint8Array`) and through JSON
//! strings, the alternative (`serde_json`, weights as base64). Built for wasm32 and
//! run in headless Chromium by `node scripts/bench-messages.mjs`; natively it only says so.

#[cfg(target_arch = "wasm32")]
mod bench {
    use advlab::train::{BatchReport, EpochReport};
    use advlab::web::protocol::{self, Response};
    use base64::Engine as _;
    use wasm_bindgen::prelude::*;

    /// The browser's `structuredClone`, which `postMessage` applies to every message.
    fn structured_clone(value: &JsValue) -> JsValue {
        let clone: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"structuredClone".into()).unwrap().unchecked_into();
        clone.call1(&JsValue::NULL, value).unwrap()
    }

    fn now() -> f64 {
        web_sys::window().unwrap().performance().unwrap().now()
    }

    /// Median of `runs` timings of `f`, in ms.
    fn median(runs: usize, mut f: impl FnMut()) -> f64 {
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let t0 = now();
                f();
                now() - t0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[runs / 2]
    }

    /// The message as JSON text, its clone, and the message read back (the JSON-text alternative).
    fn through_json(response: &Response) -> Response {
        let text = JsValue::from_str(&serde_json::to_string(response).unwrap());
        serde_json::from_str(&structured_clone(&text).as_string().unwrap()).unwrap()
    }

    /// The message as a JS object, its clone, and the message read back (the page's protocol).
    fn through_objects(response: &Response) -> Response {
        let value = protocol::to_js(response).unwrap();
        protocol::from_js(structured_clone(&value)).unwrap()
    }

    /// A training epoch's message with its weights as base64 in JSON (the base64-in-JSON alternative).
    #[derive(serde::Serialize, serde::Deserialize)]
    struct JsonEpoch {
        id: u64,
        report: EpochReport,
        test_accuracy: f32,
        weights: String,
        epochs_done: usize,
        best: bool,
    }

    /// Runs the measurements and returns them as JSON text.
    #[wasm_bindgen]
    pub fn run() -> String {
        let batches = 60_000usize.div_ceil(64);
        let stream: Vec<Response> = (1..=batches)
            .map(|batch| Response::TrainProgress {
                id: 7,
                batches: vec![BatchReport { epoch: 1, batch, batches, size: 64, loss: 0.3 + batch as f32 * 1e-4, accuracy: 0.9 }],
                progress: batch as f32 / batches as f32,
                examples_per_second: 31_000.0,
                eta_seconds: 1.5,
            })
            .collect();
        let stream_json = median(5, || stream.iter().for_each(|m| drop(through_json(m))));
        let stream_objects = median(5, || stream.iter().for_each(|m| drop(through_objects(m))));

        let weights: Vec<u8> = (0..862_192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        let report = EpochReport { epoch: 1, train_loss: 0.2, validation_accuracy: 0.98, validation_robust_accuracy: Some(0.9), stopped: None };
        let epoch = Response::TrainEpoch { id: 7, report: report.clone(), test_accuracy: 0.98, weights: weights.clone(), epochs_done: 1, best: true };
        let weights_objects = median(9, || drop(through_objects(&epoch)));
        let weights_json = median(9, || {
            let message = JsonEpoch { id: 7, report: report.clone(), test_accuracy: 0.98, weights: base64::engine::general_purpose::STANDARD.encode(&weights), epochs_done: 1, best: true };
            let text = JsValue::from_str(&serde_json::to_string(&message).unwrap());
            let back: JsonEpoch = serde_json::from_str(&structured_clone(&text).as_string().unwrap()).unwrap();
            drop(base64::engine::general_purpose::STANDARD.decode(back.weights).unwrap());
        });
        // The point of the objects: NaN survives (JSON turns it into `null`, which then fails to
        // read back as a number).
        let nan = Response::EvalProgress { id: 1, done: 0, total: 0 };
        let nan_loss = Response::TrainProgress { id: 1, batches: vec![], progress: f32::NAN, examples_per_second: 0.0, eta_seconds: 0.0 };
        let nan_json = serde_json::to_string(&nan_loss).ok().map(|t| serde_json::from_str::<Response>(&t).is_ok());
        let nan_objects = matches!(through_objects(&nan_loss), Response::TrainProgress { progress, .. } if progress.is_nan());
        drop(through_objects(&nan));
        serde_json::json!({
            "stream_messages": batches,
            "stream_ms": { "json": stream_json, "objects": stream_objects },
            "weights_bytes": weights.len(),
            "weights_ms": { "json": weights_json, "objects": weights_objects },
            "nan_survives": { "json": nan_json.unwrap_or(false), "objects": nan_objects },
        })
        .to_string()
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    advlab::web::run_constructors();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("this benchmark runs in a browser: node scripts/bench-messages.mjs");
}
