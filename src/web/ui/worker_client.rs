//! The page's side of the Web Worker: starting it from trunk's worker build and exchanging
//! [`Request`]s and [`Response`]s with it.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::web::protocol::{Request, Response};

/// The worker build with the whole engine on WebGPU (attacks, training, evaluation).
pub const ENGINE: &str = "worker";
/// The worker build on the CPU only, for live predictions and test images (small: it is part of
/// the first view).
pub const PREDICTOR: &str = "predictor";

/// The worker: started once; requests go out as JSON text, answers come back through `on_response`.
#[derive(Clone)]
pub struct WorkerHandle(JsValue);

impl WorkerHandle {
    /// Starts trunk's worker build `name` (`name.js` and `name_bg.wasm`, next to the page)
    /// through a small loader.
    pub fn start(name: &str, on_response: impl Fn(Response) + 'static) -> Result<Self, String> {
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let base = document.base_uri().ok().flatten().ok_or("no base URL")?;
        let url = |file: &str| web_sys::Url::new_with_base(file, &base).map(|u| u.href());
        let (script, wasm) = (url(&format!("{name}.js")).map_err(|e| format!("{e:?}"))?, url(&format!("{name}_bg.wasm")).map_err(|e| format!("{e:?}"))?);
        let loader = format!("importScripts({script:?}); wasm_bindgen({wasm:?});");
        let parts = js_sys::Array::of1(&JsValue::from_str(&loader));
        let blob = web_sys::Blob::new_with_str_sequence(&parts).map_err(|e| format!("{e:?}"))?;
        let blob_url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
        let constructor: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("Worker"))
            .ok()
            .and_then(|c| c.dyn_into().ok())
            .ok_or("this browser has no Web Workers")?;
        let worker = js_sys::Reflect::construct(&constructor, &js_sys::Array::of1(&JsValue::from_str(&blob_url)))
            .map_err(|e| format!("cannot start the worker: {e:?}"))?;
        let on_response = std::rc::Rc::new(on_response);
        let answer = on_response.clone();
        let onmessage = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let text = event.data().as_string().unwrap_or_default();
            match serde_json::from_str::<Response>(&text) {
                Ok(response) => answer(response),
                Err(e) => answer(Response::Failed { id: None, message: format!("bad answer from the worker: {e}") }),
            }
        });
        js_sys::Reflect::set(&worker, &JsValue::from_str("onmessage"), onmessage.as_ref()).map_err(|e| format!("{e:?}"))?;
        onmessage.forget();
        // A worker that dies (a panic, no memory, its wasm failing to load) fires `error`: whoever
        // waits on it hears so instead of waiting forever.
        let onerror = Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
            let message = js_sys::Reflect::get(&event, &JsValue::from_str("message")).ok().and_then(|m| m.as_string()).unwrap_or_else(|| "unknown error".into());
            on_response(Response::Failed { id: None, message: format!("the worker stopped: {message}") });
        });
        js_sys::Reflect::set(&worker, &JsValue::from_str("onerror"), onerror.as_ref()).map_err(|e| format!("{e:?}"))?;
        onerror.forget();
        Ok(WorkerHandle(worker))
    }

    /// Posts `request` to the worker.
    pub fn send(&self, request: &Request) {
        if let Ok(post) = js_sys::Reflect::get(&self.0, &JsValue::from_str("postMessage")) {
            if let Ok(post) = post.dyn_into::<js_sys::Function>() {
                let _ = post.call1(&self.0, &JsValue::from_str(&request.to_json()));
            }
        }
    }
}


/// A worker started on first use (training and evaluation load the big datasets only when asked);
/// requests sent before its wasm listens wait in a queue.
#[derive(Clone, Copy)]
pub struct LazyWorker(leptos::prelude::StoredValue<LazyState, leptos::prelude::LocalStorage>);

struct LazyState {
    name: &'static str,
    handle: Option<WorkerHandle>,
    listening: bool,
    queue: Vec<Request>,
    on_response: std::rc::Rc<dyn Fn(Response)>,
}

impl LazyWorker {
    /// Worker build `name`, not started yet; `on_response` gets its answers.
    pub fn new(name: &'static str, on_response: impl Fn(Response) + 'static) -> Self {
        let state = LazyState { name, handle: None, listening: false, queue: Vec::new(), on_response: std::rc::Rc::new(on_response) };
        LazyWorker(leptos::prelude::StoredValue::new_local(state))
    }

    /// Sends `request`, starting the worker first if needed.
    pub fn send(self, request: Request) -> Result<(), String> {
        use leptos::prelude::*;
        let started = self.0.with_value(|s| s.handle.is_some());
        if !started {
            let this = self;
            let name = self.0.with_value(|s| s.name);
            let handle = WorkerHandle::start(name, move |response| {
                if matches!(response, Response::Started) {
                    let queued = this.0.try_update_value(|s| {
                        s.listening = true;
                        std::mem::take(&mut s.queue)
                    });
                    let handle = this.0.with_value(|s| s.handle.clone());
                    if let (Some(queued), Some(handle)) = (queued, handle) {
                        queued.iter().for_each(|r| handle.send(r));
                    }
                }
                let callback = this.0.with_value(|s| s.on_response.clone());
                callback(response);
            })?;
            self.0.update_value(|s| s.handle = Some(handle));
        }
        self.0.update_value(|s| match (&s.handle, s.listening) {
            (Some(handle), true) => handle.send(&request),
            _ => s.queue.push(request),
        });
        Ok(())
    }
}
