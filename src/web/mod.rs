//! The browser side (wasm32 only): choosing and starting a backend, fetching the shipped files,
//! and the leptos UI. It drives the core; it never reimplements it.

pub mod backend;
pub mod client;
pub mod fetch;
pub mod lock;
pub mod protocol;
pub mod split_sweep;
pub mod store;
pub mod ui;
pub mod worker;

/// The pretrained models shipped in `models/` (ids are file stems and `model-select` values).
pub const PRETRAINED: [&str; 4] = ["mlp-standard", "mlp-robust", "cnn-standard", "cnn-robust"];

/// Runs the wasm module's static constructors (among them the `inventory` registrations of
/// cubecl's IR dialects) once; each of the page's wasm `main`s calls it first.
///
/// Without an exported function that calls them, wasm-ld links a `bin` as a command-style
/// module and calls them at the top of *every* exported function instead: then every call from
/// JavaScript into wasm (wasm-bindgen's glue makes one for each JavaScript value handed to Rust:
/// every number of a message, every WebGPU object) re-ran them, about 0.45 ms each in the engine
/// worker, which turned FGSM on one image from 2 ms into 0.8 s. Calling them here makes the
/// linker see a module that runs its own constructors, so it wraps nothing (see the `inventory`
/// crate's notes on WebAssembly).
pub fn run_constructors() {
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }
    // SAFETY: called once, first thing in `main`, before anything relies on the constructors'
    // effects; the linker synthesises this function for every wasm module.
    unsafe { __wasm_call_ctors() }
}

/// Mounts the page into `#app` (replacing its loading message), or into `<body>` without one.
pub fn mount() {
    use wasm_bindgen::JsCast;
    run_constructors();
    console_error_panic_hook::set_once();
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    match root {
        Some(root) => {
            root.set_inner_html("");
            leptos::mount::mount_to(root, ui::App).forget();
        }
        None => leptos::mount::mount_to_body(ui::App),
    }
}
