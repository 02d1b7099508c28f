//! The page's side of its Web Workers (their side is [`crate::web::worker`]): starting one from
//! trunk's worker build, exchanging [`Request`]s and [`Response`]s with it, and the one engine
//! client the panels share.
//!
//! The page runs a deliberate pool of workers, not one per panel: the small CPU-only predictor
//! (live predictions and test images: part of the first view, it must answer while the engine
//! is busy) and the engine (attacks, training, evaluation), started on first use; and, for the
//! length of an evaluation sweep on the CPU, one sweep worker per core
//! ([`crate::web::split_sweep`]). The engine runs its jobs cooperatively: each request is a task
//! that yields at every readback (and training every 30 ms on the CPU), so an attack gets
//! through while a run trains, and there is one device and one copy of each dataset.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;

use crate::web::protocol::{Failure, FailureKind, Request, Response};

/// The worker build with the whole engine on WebGPU (attacks, training, evaluation).
pub const ENGINE: &str = "worker";
/// The worker build on the CPU only, for live predictions and test images (small: it is part of
/// the first view).
pub const PREDICTOR: &str = "predictor";

/// The loader's watch on the worker's WebGPU devices: each device wgpu asks for is kept in
/// `self.advlabGpuDevices` (tests destroy it from there) and its loss is posted to the page as
/// [`Response::DeviceLost`] (wgpu offers no hook of its own in the browser), in the encoding
/// serde gives that type.
fn watch_devices() -> String {
    let lost = Response::device_lost_template();
    format!(
        "if (self.GPUAdapter) {{ const requestDevice = GPUAdapter.prototype.requestDevice; self.advlabGpuDevices = []; \
GPUAdapter.prototype.requestDevice = async function (...args) {{ const device = await requestDevice.apply(this, args); self.advlabGpuDevices.push(device); \
device.lost.then((info) => self.postMessage(JSON.parse({lost:?}.replace('\"@\"', JSON.stringify(`${{info.reason}}: ${{info.message}}`))))); return device; }}; }}"
    )
}

/// A running worker; answers come back through the `on_response` given to [`WorkerHandle::start`].
#[derive(Clone)]
pub struct WorkerHandle {
    worker: web_sys::Worker,
}

impl WorkerHandle {
    /// Starts trunk's worker build `name` (`name.js` and `name_bg.wasm`, next to the page)
    /// through a small loader, which also names the worker's global scope (`self.advlabWorker`,
    /// for tests and debugging).
    pub fn start(name: &str, on_response: impl Fn(Response) + 'static) -> Result<Self, String> {
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let base = document.base_uri().ok().flatten().ok_or("no base URL")?;
        let url = |file: &str| web_sys::Url::new_with_base(file, &base).map(|u| u.href()).map_err(|e| format!("{e:?}"));
        let (script, wasm) = (url(&format!("{name}.js"))?, url(&format!("{name}_bg.wasm"))?);
        let loader = format!("self.advlabWorker = {name:?}; {} importScripts({script:?}); wasm_bindgen({wasm:?});", watch_devices());
        let blob = web_sys::Blob::new_with_str_sequence(&js_sys::Array::of1(&JsValue::from_str(&loader))).map_err(|e| format!("{e:?}"))?;
        let loader_url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
        let worker = web_sys::Worker::new(&loader_url).map_err(|e| format!("cannot start a Web Worker: {e:?}"))?;
        // The loader's `blob:` URL is released once the worker has started or died.
        let loader_url = Rc::new(RefCell::new(Some(loader_url)));
        let release = {
            let loader_url = loader_url.clone();
            move || {
                if let Some(url) = loader_url.borrow_mut().take() {
                    let _ = web_sys::Url::revoke_object_url(&url);
                }
            }
        };
        let on_response = Rc::new(on_response);
        let answer = on_response.clone();
        let started = release.clone();
        let onmessage = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| match crate::web::protocol::from_js::<Response>(event.data()) {
            Ok(response) => {
                if matches!(response, Response::Started) {
                    started();
                }
                answer(response)
            }
            Err(e) => answer(Response::failed(None, Failure::bug(format!("bad answer from the worker: {e}")))),
        });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        onmessage.forget();
        // A worker that dies (a panic, no memory, its wasm failing to load) fires `error`: whoever
        // waits on it hears so instead of waiting forever, and the worker is ended (a panicked
        // wasm instance is not to be trusted again); `LazyWorker` starts a new one on next use.
        let dying = worker.clone();
        let onerror = Closure::<dyn Fn(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
            let message = Some(event.message()).filter(|m| !m.is_empty()).unwrap_or_else(|| "unknown error".into());
            dying.terminate();
            release();
            on_response(Response::Died { kind: FailureKind::of_death(&message), message: format!("the worker stopped: {message}"), cancelled: false });
        });
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        onerror.forget();
        Ok(WorkerHandle { worker })
    }

    /// Ends the worker at once, whatever it is computing.
    pub fn terminate(&self) {
        self.worker.terminate();
    }

    /// Posts `request` to the worker.
    pub fn send(&self, request: &Request) {
        match crate::web::protocol::to_js(request) {
            Ok(message) => {
                if let Err(e) = self.worker.post_message(&message) {
                    web_sys::console::error_1(&e);
                }
            }
            Err(e) => web_sys::console::error_1(&JsValue::from_str(&e)),
        }
    }
}

/// A worker started on first use (training and evaluation load the big datasets only when asked);
/// requests sent before its wasm listens wait in a queue. A worker that dies is ended and its
/// listener hears [`Response::Died`]; the next request starts a fresh one.
#[derive(Clone, Copy)]
pub struct LazyWorker(StoredValue<LazyState, LocalStorage>);

struct LazyState {
    name: &'static str,
    handle: Option<WorkerHandle>,
    listening: bool,
    queue: Vec<Request>,
    on_response: Rc<dyn Fn(Response)>,
}

impl LazyWorker {
    /// Worker build `name`, not started yet; `on_response` gets its answers.
    pub fn new(name: &'static str, on_response: impl Fn(Response) + 'static) -> Self {
        let state = LazyState { name, handle: None, listening: false, queue: Vec::new(), on_response: Rc::new(on_response) };
        LazyWorker(StoredValue::new_local(state))
    }

    /// Ends the worker now (a computation in wasm cannot be interrupted otherwise); its listener
    /// hears [`Response::Died`] with `kind` and `why`, and the next request starts a fresh worker.
    pub fn terminate(self, kind: FailureKind, why: &str) {
        let Some(handle) = self.0.try_update_value(|s| {
            s.listening = false;
            s.queue.clear();
            s.handle.take()
        }).flatten() else { return };
        handle.terminate();
        let callback = self.0.with_value(|s| s.on_response.clone());
        callback(Response::Died { kind, message: why.to_string(), cancelled: true });
    }

    /// Sends `request`, starting the worker first if needed.
    pub fn send(self, request: Request) -> Result<(), String> {
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
                let lost = match &response {
                    Response::DeviceLost { message } => Some(message.clone()),
                    _ => None,
                };
                if matches!(response, Response::Died { .. }) {
                    // Requests still queued will never be answered by that worker: a new one
                    // starts with the next request.
                    this.0.update_value(|s| {
                        s.handle = None;
                        s.listening = false;
                        s.queue.clear();
                    });
                }
                let callback = this.0.with_value(|s| s.on_response.clone());
                callback(response);
                // A worker whose GPU device is gone cannot compute on it again: end it; its jobs
                // go on in a new one (the page moves them to the CPU).
                if let Some(message) = lost {
                    this.terminate(FailureKind::GpuLost, &format!("{} ({message})", crate::web::backend::GPU_LOST));
                }
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


/// The engine worker as the panels share it (provided as a leptos context by the root
/// component): one worker, one request-number sequence, every answer heard by every panel (each
/// keeps the answers to its own request numbers, and all hear [`Response::Died`]).
#[derive(Clone, Copy)]
pub struct Engine {
    worker: LazyWorker,
    next_id: StoredValue<u64>,
    listeners: StoredValue<Rc<RefCell<Vec<Rc<dyn Fn(&Response)>>>>, LocalStorage>,
}

impl Engine {
    /// The engine client; the worker starts with the first request.
    pub fn new() -> Self {
        let listeners: Rc<RefCell<Vec<Rc<dyn Fn(&Response)>>>> = Rc::default();
        let hear = listeners.clone();
        let worker = LazyWorker::new(ENGINE, move |response| {
            // A listener may add another listener: call a snapshot.
            let now: Vec<_> = hear.borrow().clone();
            now.iter().for_each(|listen| listen(&response));
        });
        Engine { worker, next_id: StoredValue::new(0), listeners: StoredValue::new_local(listeners) }
    }

    /// Calls `listen` with every answer from now on.
    pub fn listen(self, listen: impl Fn(&Response) + 'static) {
        self.listeners.with_value(|l| l.borrow_mut().push(Rc::new(listen)));
    }

    /// A request number no other request of this page has.
    pub fn next_id(self) -> u64 {
        self.next_id.update_value(|i| *i += 1);
        self.next_id.get_value()
    }

    /// Sends `request`, starting the engine first if needed.
    pub fn send(self, request: Request) -> Result<(), String> {
        self.worker.send(request)
    }

    /// Cancels whatever the engine computes by ending it (`kind` and `why` say so to every
    /// panel); the next request starts a new engine, and a training run goes on from its last
    /// finished epoch.
    pub fn cancel(self, kind: FailureKind, why: &str) {
        self.worker.terminate(kind, why);
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}
