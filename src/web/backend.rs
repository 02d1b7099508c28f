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

choices! {
    /// The backend the user picks (`backend-select`). Auto gives each kind of job the backend that
    /// ran it faster in a short calibration (see [`crate::calibration`]); the others force one.
    pub enum BackendChoice ("backend choice") {
        /// Measure, then run each job on the faster backend (the CPU where there is no WebGPU).
        Auto = "auto",
        /// WebGPU where the browser offers it (the CPU otherwise, saying why).
        WebGpu = "webgpu",
        /// burn's CPU backend compiled to wasm.
        Cpu = "cpu",
    }
}

/// The adapter `navigator.gpu.requestAdapter()` yields (in a page or a worker), if any.
async fn adapter() -> Option<JsValue> {
    let get = |target: &JsValue, key: &str| js_sys::Reflect::get(target, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null());
    let gpu = get(&get(&js_sys::global(), "navigator")?, "gpu")?;
    let request = get(&gpu, "requestAdapter")?.dyn_into::<js_sys::Function>().ok()?;
    let promise = request.call0(&gpu).ok()?.dyn_into::<js_sys::Promise>().ok()?;
    JsFuture::from(promise).await.ok().filter(|a| !a.is_undefined() && !a.is_null())
}

/// Whether `navigator.gpu.requestAdapter()` yields an adapter (in a page or a worker).
pub async fn webgpu_adapter() -> bool {
    adapter().await.is_some()
}

/// What the page knows of the browser's WebGPU adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterInfo {
    /// `vendor / architecture / device / description` (its `GPUAdapterInfo`; empty parts stay
    /// empty): the key a calibration is remembered by.
    pub key: String,
    /// A software adapter (WebGPU's *fallback adapter*, e.g. SwiftShader): a GPU emulated on the
    /// CPU, which runs the CPU backend's arithmetic slower, so Auto does not measure it.
    pub software: bool,
}

/// The browser's WebGPU adapter; `None` without one.
pub async fn adapter_info() -> Option<AdapterInfo> {
    let adapter = adapter().await?;
    let get = |target: &JsValue, key: &str| js_sys::Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    let info = get(&adapter, "info");
    let part = |key: &str| get(&info, key).as_string().unwrap_or_default();
    // `GPUAdapterInfo.isFallbackAdapter` (Chrome 136 on); `GPUAdapter.isFallbackAdapter` before.
    let software = [get(&info, "isFallbackAdapter"), get(&adapter, "isFallbackAdapter")].iter().any(|v| v.as_bool() == Some(true));
    Some(AdapterInfo { key: ["vendor", "architecture", "device", "description"].map(part).join(" / "), software })
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
        if let Err(e) = crate::device::fusion::configure() {
            return (Device::flex(), BackendKind::Cpu, Some(format!("WebGPU failed to start: burn's fusion could not be configured: {e}")));
        }
        match Device::wgpu_options().graphics_api(WgpuBackend::WebGpu).init_async().await {
            Ok(device) => (device, BackendKind::WebGpu, None),
            Err(e) => (Device::flex(), BackendKind::Cpu, Some(format!("WebGPU failed to start: {e}"))),
        }
    }
    #[cfg(not(feature = "webgpu"))]
    (Device::flex(), BackendKind::Cpu, Some("this worker is built without WebGPU".into()))
}

/// How a lost WebGPU device is reported (the notes after a `DeviceLost`, or a failure of kind
/// `GpuLost`, start with it).
pub const GPU_LOST: &str = "the GPU device was lost";

/// Why Auto runs every job on the CPU without measuring WebGPU: the adapter is a software one.
pub const SOFTWARE_ADAPTER: &str = "this browser's WebGPU adapter is a software one (a GPU emulated on the CPU, WebGPU's fallback adapter), so every job runs on the CPU, which does the same arithmetic faster";

/// Why the CPU runs where WebGPU was asked for: the browser has no adapter.
pub const NO_ADAPTER: &str = "this browser offers no WebGPU adapter";
