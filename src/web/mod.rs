//! The browser side (wasm32 only): choosing and starting a backend, fetching the shipped files,
//! and the leptos UI. It drives the core; it never reimplements it.

pub mod backend;
pub mod fetch;
pub mod ui;

/// The pretrained models shipped in `models/` (ids are file stems and `model-select` values).
pub const PRETRAINED: [&str; 4] = ["mlp-standard", "mlp-robust", "cnn-standard", "cnn-robust"];

/// Mounts the page into `<body>`.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(ui::App);
}
