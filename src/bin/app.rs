//! The advlab page (wasm32, built by trunk): mounts the UI.

#[cfg(target_arch = "wasm32")]
fn main() {
    advlab::web::mount();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the advlab page is built for wasm32: run `scripts/serve.sh` (trunk) to open it in a browser");
}
