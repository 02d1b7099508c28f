//! The browser side (wasm32 only): choosing and starting a backend, fetching the shipped files,
//! and the leptos UI. It drives the core; it never reimplements it.

pub mod backend;
pub mod client;
pub mod fetch;
pub mod lock;
pub mod protocol;
pub mod store;
pub mod ui;
pub mod worker;

/// The pretrained models shipped in `models/` (ids are file stems and `model-select` values).
pub const PRETRAINED: [&str; 4] = ["mlp-standard", "mlp-robust", "cnn-standard", "cnn-robust"];

/// Mounts the page into `#app` (replacing its loading message), or into `<body>` without one.
pub fn mount() {
    use wasm_bindgen::JsCast;
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
