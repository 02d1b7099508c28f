//! The advlab page's sweep workers (wasm32, built by trunk without the `webgpu` feature): parts
//! of an evaluation sweep, split over the user's cores, on the CPU backend. Several run at once,
//! so they carry no GPU compiler and no training code.

#[cfg(target_arch = "wasm32")]
fn main() {
    advlab::web::worker::run_sweeper();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the advlab sweep worker runs inside the page: run `scripts/serve.sh` to open it in a browser");
}
