//! The advlab page's prediction worker (wasm32, built by trunk without the `webgpu` feature):
//! live predictions and test images on the CPU backend. It is part of the first view, so it
//! carries no GPU compiler; the engine worker (`worker`) runs the attacks, training and
//! evaluation.

#[cfg(target_arch = "wasm32")]
fn main() {
    advlab::web::worker::run_predictor();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the advlab prediction worker runs inside the page: run `scripts/serve.sh` to open it in a browser");
}
