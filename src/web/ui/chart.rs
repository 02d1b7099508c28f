//! Line charts drawn as SVG by the view itself: training curves and accuracy-vs-ε curves.

use leptos::prelude::*;

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// CSS colour of the line.
    pub color: &'static str,
    /// Points (x, y) in data units, in x order.
    pub points: Vec<(f32, f32)>,
    /// Draw a dot at every point (few points, e.g. one per epoch).
    pub dots: bool,
}

/// A vertical line at `x` with a caption (e.g. where the collapse guard stopped training).
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Position in data units.
    pub x: f32,
    /// Caption.
    pub text: String,
}

/// Colours of successive series, readable on light and dark backgrounds.
pub const PALETTE: [&str; 6] = ["#4f46e5", "#dc2626", "#059669", "#d97706", "#0891b2", "#9333ea"];

const WIDTH: f32 = 480.0;
const HEIGHT: f32 = 220.0;
const LEFT: f32 = 44.0;
const RIGHT: f32 = 12.0;
const TOP: f32 = 12.0;
const BOTTOM: f32 = 34.0;

/// A tick value without float noise (`0.1`, not `0.099999994`).
fn tick_text(t: f32) -> String {
    let text = format!("{t:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".into() } else { text.to_string() }
}

/// Tidy tick values covering `[lo, hi]`.
fn ticks(lo: f32, hi: f32) -> Vec<f32> {
    let span = (hi - lo).max(1e-6);
    let raw = span / 4.0;
    let magnitude = 10f32.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| span / s <= 5.0).unwrap_or(magnitude * 10.0);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f32 * step).collect()
}

/// A line chart. `y_range` fixes the y axis (e.g. `[0,1]` for accuracies); otherwise it fits the
/// data. `x_label`/`y_label` name the axes.
#[component]
pub fn LineChart(
    series: Signal<Vec<Series>>,
    #[prop(optional)] markers: Option<Signal<Vec<Marker>>>,
    #[prop(optional)] y_range: Option<(f32, f32)>,
    x_label: &'static str,
    y_label: &'static str,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let plot = move || {
        let series = series.get();
        let markers = markers.map(|m| m.get()).unwrap_or_default();
        let all: Vec<(f32, f32)> = series.iter().flat_map(|s| s.points.iter().copied()).filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
        let (mut x0, mut x1) = all.iter().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
        if all.is_empty() {
            (x0, x1) = (0.0, 1.0);
        }
        if x1 - x0 < 1e-6 {
            x1 = x0 + 1.0;
        }
        let (y0, y1) = y_range.unwrap_or_else(|| {
            let (lo, hi) = all.iter().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
            if all.is_empty() { (0.0, 1.0) } else { (lo.min(0.0), if hi - lo.min(0.0) < 1e-6 { lo + 1.0 } else { hi }) }
        });
        let sx = move |x: f32| LEFT + (x - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT);
        let sy = move |y: f32| TOP + (1.0 - (y.clamp(y0, y1) - y0) / (y1 - y0)) * (HEIGHT - TOP - BOTTOM);
        let y_ticks = ticks(y0, y1)
            .into_iter()
            .map(|t| {
                view! {
                    <line class="chart-grid" x1=LEFT x2=WIDTH - RIGHT y1=sy(t) y2=sy(t) />
                    <text class="chart-tick" x=LEFT - 6.0 y=sy(t) + 4.0 text-anchor="end">{tick_text(t)}</text>
                }
            })
            .collect_view();
        let x_ticks = ticks(x0, x1)
            .into_iter()
            .map(|t| view! { <text class="chart-tick" x=sx(t) y=HEIGHT - BOTTOM + 16.0 text-anchor="middle">{tick_text(t)}</text> })
            .collect_view();
        let lines = series
            .iter()
            .map(|s| {
                let path = s.points.iter().filter(|(x, y)| x.is_finite() && y.is_finite()).map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y))).collect::<Vec<_>>().join(" ");
                let dots = if s.dots {
                    s.points.iter().map(|&(x, y)| view! { <circle cx=sx(x) cy=sy(y) r="3" fill=s.color /> }).collect_view().into_any()
                } else {
                    ().into_any()
                };
                view! { <polyline points=path fill="none" stroke=s.color stroke-width="1.8" />{dots} }
            })
            .collect_view();
        let marks = markers
            .iter()
            .map(|m| {
                view! {
                    <line class="chart-marker" x1=sx(m.x) x2=sx(m.x) y1=TOP y2=HEIGHT - BOTTOM />
                    <text class="chart-marker-text" x=sx(m.x) - 4.0 y=TOP + 12.0 text-anchor="end">{m.text.clone()}</text>
                }
            })
            .collect_view();
        view! {
            {y_ticks}
            {x_ticks}
            <line class="chart-axis" x1=LEFT x2=LEFT y1=TOP y2=HEIGHT - BOTTOM />
            <line class="chart-axis" x1=LEFT x2=WIDTH - RIGHT y1=HEIGHT - BOTTOM y2=HEIGHT - BOTTOM />
            <text class="chart-label" x=(LEFT + WIDTH - RIGHT) / 2.0 y=HEIGHT - 4.0 text-anchor="middle">{x_label}</text>
            <text class="chart-label" x="10" y=(TOP + HEIGHT - BOTTOM) / 2.0 text-anchor="middle" transform=format!("rotate(-90 10 {})", (TOP + HEIGHT - BOTTOM) / 2.0)>{y_label}</text>
            {lines}
            {marks}
        }
    };
    let legend = move || {
        series
            .get()
            .into_iter()
            .map(|s| view! { <span class="legend-item"><span class="legend-swatch" style=format!("background:{}", s.color)></span>{s.name}</span> })
            .collect_view()
    };
    view! {
        <figure class="chart" data-testid=testid>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=format!("{y_label} against {x_label}")>{plot}</svg>
            <figcaption class="legend">{legend}</figcaption>
        </figure>
    }
}
