//! The drawing canvas (pointer events: mouse, touch, pen) and the 28×28 input it produces.

use leptos::html::Canvas;
use leptos::prelude::*;
use web_sys::{HtmlCanvasElement, PointerEvent};

use super::picture::{context, paint};
use crate::data::canvas::to_mnist;
use crate::data::render;

/// Side of the drawing surface in canvas pixels.
const SIDE: u32 = 280;
/// Pen width in canvas pixels (about two MNIST pixels).
const PEN: f64 = 20.0;
/// Strokes that can be undone.
const UNDO: usize = 32;

fn clear(canvas: &HtmlCanvasElement) {
    if let Some(ctx) = context(canvas) {
        ctx.set_fill_style_str("#000");
        ctx.fill_rect(0.0, 0.0, f64::from(SIDE), f64::from(SIDE));
    }
}

/// The pointer position in canvas pixels.
fn position(canvas: &HtmlCanvasElement, ev: &PointerEvent) -> (f64, f64) {
    let rect = canvas.get_bounding_client_rect();
    let sx = f64::from(SIDE) / rect.width().max(1.0);
    let sy = f64::from(SIDE) / rect.height().max(1.0);
    ((f64::from(ev.client_x()) - rect.left()) * sx, (f64::from(ev.client_y()) - rect.top()) * sy)
}

/// The MNIST input of the current drawing (`None` when blank).
fn input(canvas: &HtmlCanvasElement) -> Option<Vec<f32>> {
    let ctx = context(canvas)?;
    let data = ctx.get_image_data(0.0, 0.0, f64::from(SIDE), f64::from(SIDE)).ok()?.data();
    let ink: Vec<f32> = data.chunks_exact(4).map(|px| f32::from(px[0]) / 255.0).collect();
    to_mnist(&ink, SIDE as usize, SIDE as usize)
}

/// Shows a 28×28 input (black when blank) on the small preview canvas.
fn preview(canvas: &HtmlCanvasElement, pixels: Option<&[f32]>) {
    paint(canvas, &render::grayscale(pixels.unwrap_or(&[0.0; crate::data::PIXELS]), 28));
}

/// The drawing surface (`draw-canvas`), its clear button (`clear-drawing`) and the preview of
/// the model input. `on_input` receives the input after every stroke segment (`None` when
/// cleared). A 28×28 image in `show` (a test image) is painted onto the surface; drawing over it
/// turns it into a drawing.
#[component]
pub fn DrawCanvas(on_input: Callback<Option<Vec<f32>>>, show: Signal<Option<Vec<f32>>>) -> impl IntoView {
    let surface: NodeRef<Canvas> = NodeRef::new();
    let small: NodeRef<Canvas> = NodeRef::new();
    let last = StoredValue::new(None::<(f64, f64)>);
    // The surface before each stroke, for undo (at most `UNDO` strokes back).
    let history = StoredValue::new_local(Vec::<web_sys::ImageData>::new());

    Effect::new(move |_| {
        if let Some(canvas) = surface.get() {
            clear(&canvas);
        }
    });
    Effect::new(move |_| {
        if let (Some(canvas), Some(pixels)) = (surface.get(), show.get()) {
            paint(&canvas, &render::enlarge(&render::grayscale(&pixels, 28), (SIDE / 28) as usize));
            if let Some(small) = small.get_untracked() {
                preview(&small, Some(&pixels));
            }
        }
    });
    // Reads the drawing at most once per animation frame, however fast pointer events come.
    let frame_pending = StoredValue::new(false);
    let publish_now = move || {
        frame_pending.set_value(false);
        let Some(canvas) = surface.get_untracked() else { return };
        let pixels = input(&canvas);
        if let Some(small) = small.get_untracked() {
            preview(&small, pixels.as_deref());
        }
        on_input.run(pixels);
    };
    let publish = move |_: &HtmlCanvasElement| {
        if frame_pending.get_value() {
            return;
        }
        frame_pending.set_value(true);
        request_animation_frame(publish_now);
    };
    let stroke_to = move |canvas: &HtmlCanvasElement, to: (f64, f64)| {
        let Some(ctx) = context(canvas) else { return };
        let from = last.get_value().unwrap_or(to);
        ctx.set_stroke_style_str("#fff");
        ctx.set_line_width(PEN);
        ctx.set_line_cap("round");
        ctx.set_line_join("round");
        ctx.begin_path();
        ctx.move_to(from.0, from.1);
        ctx.line_to(to.0, to.1);
        ctx.stroke();
        last.set_value(Some(to));
    };

    view! {
        <div class="canvas-pair">
            <canvas
                node_ref=surface
                data-testid="draw-canvas"
                class="digit-canvas"
                width=SIDE
                height=SIDE
                aria-label="Drawing surface: draw a digit"
                on:pointerdown=move |ev: PointerEvent| {
                    let Some(canvas) = surface.get_untracked() else { return };
                    ev.prevent_default();
                    let _ = canvas.set_pointer_capture(ev.pointer_id());
                    if let Some(before) = context(&canvas).and_then(|c| c.get_image_data(0.0, 0.0, f64::from(SIDE), f64::from(SIDE)).ok()) {
                        history.update_value(|h| {
                            if h.len() == UNDO {
                                h.remove(0);
                            }
                            h.push(before);
                        });
                    }
                    last.set_value(None);
                    stroke_to(&canvas, position(&canvas, &ev));
                    publish(&canvas);
                }
                on:pointermove=move |ev: PointerEvent| {
                    if last.get_value().is_none() || ev.buttons() == 0 {
                        return;
                    }
                    let Some(canvas) = surface.get_untracked() else { return };
                    stroke_to(&canvas, position(&canvas, &ev));
                    publish(&canvas);
                }
                on:pointerup=move |_| last.set_value(None)
                on:pointercancel=move |_| last.set_value(None)
            ></canvas>
            <div class="stack">
                <figure>
                    <canvas node_ref=small class="digit-canvas" style="max-width: 112px" width="28" height="28" aria-label="The 28×28 model input"></canvas>
                    <figcaption>"Model input, 28×28"</figcaption>
                </figure>
                <button
                    type="button"
                    data-testid="clear-drawing"
                    on:click=move |_| {
                        if let Some(canvas) = surface.get_untracked() {
                            clear(&canvas);
                            publish(&canvas);
                        }
                    }
                >
                    "Clear"
                </button>
                <button
                    type="button"
                    data-testid="undo-stroke"
                    title="Undo the last stroke"
                    on:click=move |_| {
                        let (Some(canvas), Some(before)) = (surface.get_untracked(), history.try_update_value(|h| h.pop()).flatten()) else { return };
                        if let Some(ctx) = context(&canvas) {
                            let _ = ctx.put_image_data(&before, 0.0, 0.0);
                        }
                        publish(&canvas);
                    }
                >
                    "Undo stroke"
                </button>
            </div>
        </div>
    }
}
