//! Painting the core's pictures onto canvases.

use leptos::html::Canvas;
use leptos::prelude::*;

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use crate::data::render::Picture;

/// The canvas's 2D context, kept in memory (`willReadFrequently`) because the page reads its
/// pixels back on every stroke: a GPU-backed canvas would stall the main thread on each read.
pub fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    let options = web_sys::ContextAttributes2d::new();
    options.set_will_read_frequently(true);
    canvas.get_context_with_context_options("2d", &options).ok().flatten()?.dyn_into().ok()
}

/// Paints `picture` at the canvas's top-left corner, one canvas pixel per picture pixel.
pub fn paint(canvas: &HtmlCanvasElement, picture: &Picture) {
    let Some(ctx) = context(canvas) else { return };
    let rgba: Vec<u8> = picture.rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    if let Ok(image) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), picture.width as u32, picture.height as u32) {
        let _ = ctx.put_image_data(&image, 0.0, 0.0);
    }
}

/// A 28×28 picture canvas, repainted whenever `picture` changes, with a caption.
#[component]
pub fn PictureCanvas(picture: Signal<Option<Picture>>, #[prop(into)] label: String) -> impl IntoView {
    let canvas: NodeRef<Canvas> = NodeRef::new();
    Effect::new(move |_| {
        if let (Some(c), Some(p)) = (canvas.get(), picture.get()) {
            paint(&c, &p);
        }
    });
    view! {
        <figure>
            <canvas node_ref=canvas class="digit-canvas" width="28" height="28" aria-label=label.clone()></canvas>
            <figcaption>{label.clone()}</figcaption>
        </figure>
    }
}
