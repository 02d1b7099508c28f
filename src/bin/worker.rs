//! The advlab page's Web Worker (wasm32, built by trunk): runs the attacks off the main thread.

#[cfg(target_arch = "wasm32")]
fn main() {
    advlab::web::worker::run();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the advlab worker runs inside the page: run `scripts/serve.sh` to open it in a browser");
}
