//! The advlab page's engine worker (wasm32, built by trunk with the `webgpu` feature): attacks,
//! training and evaluation sweeps off the main thread, on WebGPU or the CPU.

#[cfg(target_arch = "wasm32")]
fn main() {
    advlab::web::worker::run_engine();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the advlab worker runs inside the page: run `scripts/serve.sh` to open it in a browser");
}
