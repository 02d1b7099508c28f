//! Picks the backend: WebGPU through burn-wgpu when the browser offers an adapter, burn's CPU
//! backend otherwise. The adapter is checked from JavaScript first, because a failure inside
//! wgpu's initialisation would take the whole module down.

use burn::tensor::Device;
#[cfg(feature = "webgpu")]
use burn::tensor::wgpu::WgpuBackend;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

choices! {
    /// Which backend runs the models (the `backend` hook shows its name).
    pub enum BackendKind ("backend") {
        /// burn-wgpu on the browser's WebGPU.
        WebGpu = "webgpu",
        /// burn's CPU backend compiled to wasm.
        Cpu = "cpu",
    }
}

/// Whether `navigator.gpu.requestAdapter()` yields an adapter (in a page or a worker).
pub async fn webgpu_adapter() -> bool {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).unwrap_or(JsValue::UNDEFINED);
    if navigator.is_undefined() {
        return false;
    }
    let gpu = js_sys::Reflect::get(&navigator, &JsValue::from_str("gpu")).unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return false;
    }
    let Ok(request) = js_sys::Reflect::get(&gpu, &JsValue::from_str("requestAdapter")) else { return false };
    let Ok(request) = request.dyn_into::<js_sys::Function>() else { return false };
    let Ok(promise) = request.call0(&gpu) else { return false };
    let Ok(promise) = promise.dyn_into::<js_sys::Promise>() else { return false };
    matches!(JsFuture::from(promise).await, Ok(adapter) if !adapter.is_null() && !adapter.is_undefined())
}

/// Starts the preferred backend (WebGPU unless `prefer` says CPU), falling back to the CPU.
/// Returns the device, its kind and, when WebGPU was wanted but is not there, why.
pub async fn start(prefer: BackendKind) -> (Device, BackendKind, Option<String>) {
    if prefer == BackendKind::Cpu {
        return (Device::flex(), BackendKind::Cpu, None);
    }
    if !webgpu_adapter().await {
        return (Device::flex(), BackendKind::Cpu, Some(NO_ADAPTER.into()));
    }
    #[cfg(feature = "webgpu")]
    {
        match Device::wgpu_options().graphics_api(WgpuBackend::WebGpu).init_async().await {
            Ok(device) => (device, BackendKind::WebGpu, None),
            Err(e) => (Device::flex(), BackendKind::Cpu, Some(format!("WebGPU failed to start: {e}"))),
        }
    }
    #[cfg(not(feature = "webgpu"))]
    (Device::flex(), BackendKind::Cpu, Some("this worker is built without WebGPU".into()))
}

/// Why the CPU runs where WebGPU was asked for: the browser has no adapter.
pub const NO_ADAPTER: &str = "this browser offers no WebGPU adapter";
