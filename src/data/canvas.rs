//! A drawing turned into an MNIST-like input: the ink's bounding box is scaled (keeping its
//! aspect ratio) so its longer side is 20 pixels, then placed in a 28×28 image so that its
//! centre of mass is at the centre, as in the original MNIST preprocessing.

use super::PIXELS;

/// Ink below this intensity counts as background when finding the bounding box.
const INK: f32 = 0.05;
/// Side of the box the digit is scaled into.
const BOX: usize = 20;
/// Samples per axis when averaging the drawing over one output pixel.
const SUPERSAMPLE: usize = 4;

fn sample(ink: &[f32], width: usize, height: usize, x: f32, y: f32) -> f32 {
    // Bilinear interpolation, clamped at the borders.
    let x = x.clamp(0.0, (width - 1) as f32);
    let y = y.clamp(0.0, (height - 1) as f32);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |xx: usize, yy: usize| ink[yy * width + xx];
    let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
    let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Converts ink intensities in `[0,1]` of a `width`×`height` drawing (row-major) into a
/// 28×28 MNIST input in `[0,1]`. Returns `None` for a blank drawing.
pub fn to_mnist(ink: &[f32], width: usize, height: usize) -> Option<Vec<f32>> {
    assert_eq!(ink.len(), width * height, "one intensity per canvas pixel");
    let (mut left, mut top, mut right, mut bottom) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..height {
        for x in 0..width {
            if ink[y * width + x] > INK {
                (left, top, right, bottom) = (left.min(x), top.min(y), right.max(x), bottom.max(y));
            }
        }
    }
    if left == usize::MAX {
        return None;
    }
    let (box_w, box_h) = ((right - left + 1) as f32, (bottom - top + 1) as f32);
    let scale = BOX as f32 / box_w.max(box_h);
    let (out_w, out_h) = (((box_w * scale).round() as usize).max(1), ((box_h * scale).round() as usize).max(1));

    // Area-average the bounding box into an out_w × out_h patch.
    let mut patch = vec![0.0f32; out_w * out_h];
    for py in 0..out_h {
        for px in 0..out_w {
            let mut sum = 0.0;
            for sy in 0..SUPERSAMPLE {
                for sx in 0..SUPERSAMPLE {
                    let fx = (px as f32 + (sx as f32 + 0.5) / SUPERSAMPLE as f32) / scale;
                    let fy = (py as f32 + (sy as f32 + 0.5) / SUPERSAMPLE as f32) / scale;
                    sum += sample(ink, width, height, left as f32 + fx - 0.5, top as f32 + fy - 0.5);
                }
            }
            patch[py * out_w + px] = (sum / (SUPERSAMPLE * SUPERSAMPLE) as f32).clamp(0.0, 1.0);
        }
    }

    // Centre of mass of the patch, placed at the image centre (14, 14).
    let total: f32 = patch.iter().sum();
    let (mut cx, mut cy) = (0.0f32, 0.0f32);
    for py in 0..out_h {
        for px in 0..out_w {
            let v = patch[py * out_w + px];
            cx += v * (px as f32 + 0.5);
            cy += v * (py as f32 + 0.5);
        }
    }
    let (cx, cy) = if total > 0.0 { (cx / total, cy / total) } else { (out_w as f32 / 2.0, out_h as f32 / 2.0) };
    let offset_x = ((14.0 - cx).round() as i64).clamp(0, (28 - out_w) as i64) as usize;
    let offset_y = ((14.0 - cy).round() as i64).clamp(0, (28 - out_h) as i64) as usize;
    let mut image = vec![0.0f32; PIXELS];
    for py in 0..out_h {
        for px in 0..out_w {
            image[(py + offset_y) * 28 + px + offset_x] = patch[py * out_w + px];
        }
    }
    Some(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre_of_mass(image: &[f32]) -> (f32, f32) {
        let total: f32 = image.iter().sum();
        let (mut x, mut y) = (0.0, 0.0);
        for (i, v) in image.iter().enumerate() {
            x += v * ((i % 28) as f32 + 0.5);
            y += v * ((i / 28) as f32 + 0.5);
        }
        (x / total, y / total)
    }

    #[test]
    fn a_blank_drawing_has_no_input() {
        assert_eq!(to_mnist(&[0.0; 100 * 100], 100, 100), None);
    }

    #[test]
    fn an_off_centre_stroke_is_scaled_to_twenty_pixels_and_centred() {
        // A vertical bar 10 px wide and 150 px tall in the top-left of a 280×280 canvas.
        let (w, h) = (280, 280);
        let mut ink = vec![0.0f32; w * h];
        for y in 10..160 {
            for x in 20..30 {
                ink[y * w + x] = 1.0;
            }
        }
        let image = to_mnist(&ink, w, h).unwrap();
        assert!(image.iter().all(|v| (0.0..=1.0).contains(v)));
        let rows: Vec<usize> = (0..28).filter(|r| image[r * 28..(r + 1) * 28].iter().any(|v| *v > 0.5)).collect();
        assert_eq!(rows.len(), 20, "the longer side spans 20 pixels");
        let (cx, cy) = centre_of_mass(&image);
        assert!((cx - 14.0).abs() <= 0.6 && (cy - 14.0).abs() <= 0.6, "centre of mass at ({cx}, {cy})");
    }
}
