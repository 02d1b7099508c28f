//! Auto's backend policy in the engine, in one place: which backend each job runs on, and the
//! calibration it follows, measured here (every job's probe, [`crate::calibration::probe`], on
//! WebGPU and on the CPU, timed with `performance.now()`) unless the page remembers one. A
//! software adapter (SwiftShader) is not measured: starting WebGPU and compiling the probes'
//! kernels there alone takes 1.5 s or more, to learn that a GPU emulated on the CPU is slower
//! than the CPU.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use burn::tensor::Device;

use super::now_ms;
use super::state::{self, Backend};
use crate::calibration::{Calibration, Job, probe};
use crate::web::backend::{self, AdapterInfo, BackendChoice, BackendKind};
use crate::web::protocol::Failure;

/// The backend `choice` gives `job`: a forced one, or under Auto the faster one by the
/// calibration (measured on first need, unless `remembered` holds one for this adapter; the CPU
/// without a WebGPU adapter). Returns it and, under Auto with an adapter, the calibration.
pub(super) async fn backend_for(choice: BackendChoice, job: Job, remembered: Option<Calibration>) -> (Backend, Option<Calibration>) {
    match choice {
        BackendChoice::Cpu => (state::device(BackendKind::Cpu).await, None),
        BackendChoice::WebGpu => (state::device(BackendKind::WebGpu).await, None),
        BackendChoice::Auto => {
            let Some(adapter) = backend::adapter_info().await else { return (state::device(BackendKind::Cpu).await, None) };
            let known = state::calibration().or(remembered).filter(|c| c.adapter == adapter.key);
            let calibration = match known {
                Some(calibration) => calibration,
                None => calibrate(adapter).await,
            };
            state::remember(calibration.clone());
            let kind = if calibration.webgpu_for(job) { BackendKind::WebGpu } else { BackendKind::Cpu };
            (state::device(kind).await, Some(calibration))
        }
    }
}

/// Loads the model at `url` onto the backend `choice` gives attacks (starting it if needed);
/// it answers predictions and attacks from now on. Returns the backend and, under Auto, the
/// calibration behind it.
pub(super) async fn load(choice: BackendChoice, url: &str, remembered: Option<Calibration>) -> Result<(Backend, Option<Calibration>), Failure> {
    let (backend, calibration) = backend_for(choice, Job::Attack, remembered).await;
    Ok((state::load_on(backend, url).await?, calibration))
}

/// Milliseconds WebGPU gets for all its probes, kernel compilation included: one that has not
/// answered by then counts as slower than the CPU. The CPU's probes (synchronous wasm: nothing to
/// compile, so only the small attack probe is warmed up; about 0.3 s on two cores) come first.
const WEBGPU_BUDGET_MS: f64 = 500.0;

/// Runs `job`'s probe on `device` and returns its milliseconds; with `warm_up`, runs it once
/// before (compiling the kernels) and times the second run.
async fn time(job: Job, device: &Device, warm_up: bool) -> Result<f64, String> {
    if warm_up {
        probe(job, device).await?;
    }
    let start = now_ms();
    probe(job, device).await?;
    Ok(now_ms() - start)
}

/// [`time`], or `None` when it has not answered within `budget_ms` (or failed).
async fn time_within(job: Job, device: Device, budget_ms: f64) -> Option<f64> {
    if budget_ms <= 0.0 {
        return None;
    }
    let timed = wasm_bindgen_futures::future_to_promise(async move { time(job, &device, true).await.map(JsValue::from_f64).map_err(|e| JsValue::from_str(&e)) });
    let deadline = js_sys::Promise::new(&mut |resolve, _| {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        if scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, budget_ms.ceil() as i32).is_err() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    // A probe still running at the deadline finishes in the background; its time is not used.
    let first = JsFuture::from(js_sys::Promise::race(&js_sys::Array::of2(&timed, &deadline))).await;
    first.ok().and_then(|v| v.as_f64())
}

/// Measures every job on the CPU, then on WebGPU (within [`WEBGPU_BUDGET_MS`]), for `adapter`;
/// a software adapter only on the CPU. The CPU goes first: a WebGPU probe cut off by the budget
/// still finishes in the background, and where the GPU is emulated on the CPU it would slow the
/// CPU's probes.
pub(super) async fn calibrate(adapter: AdapterInfo) -> Calibration {
    let started = now_ms();
    let cpu = state::device(BackendKind::Cpu).await;
    let mut cpu_times = Vec::new();
    for job in Job::ALL {
        cpu_times.push(time(job, &cpu.device, job == Job::Attack).await.ok());
    }
    let slot = |job: Job| Job::ALL.iter().position(|j| *j == job).unwrap_or(0);
    if adapter.software {
        return Calibration::software(adapter.key, now_ms() - started, |job| cpu_times[slot(job)]);
    }
    // Starting WebGPU is paid once per engine whatever runs on it: it does not count against
    // the probes' budget.
    let webgpu = state::device(BackendKind::WebGpu).await;
    let probes_started = now_ms();
    let mut gpu_times = Vec::new();
    for job in Job::ALL {
        let left = WEBGPU_BUDGET_MS - (now_ms() - probes_started);
        gpu_times.push(if webgpu.kind == BackendKind::WebGpu { time_within(job, webgpu.device.clone(), left).await } else { None });
    }
    Calibration::from_times(adapter.key, now_ms() - started, |job| (cpu_times[slot(job)], gpu_times[slot(job)]))
}
