//! Pictures of images and perturbations as RGB pixels, shared by the CLI's PNGs and the page.

/// An RGB picture, row-major, 3 bytes per pixel.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 3` bytes.
    pub rgb: Vec<u8>,
}

/// A `[0,1]` grayscale image as a picture (white digit on black, like MNIST).
pub fn grayscale(pixels: &[f32], width: usize) -> Picture {
    let rgb = pixels
        .iter()
        .flat_map(|&p| {
            let v = (p.clamp(0.0, 1.0) * 255.0).round() as u8;
            [v, v, v]
        })
        .collect();
    Picture { width, height: pixels.len() / width, rgb }
}

/// A perturbation in a diverging colour map: negative changes blue, positive red, zero white.
/// Values are divided by `scale` (the largest absolute change shown at full colour); returns the
/// picture and the scale used, the L∞ norm of `delta` unless `scale` is given.
pub fn diverging(delta: &[f32], width: usize, scale: Option<f32>) -> (Picture, f32) {
    let scale = scale.unwrap_or_else(|| delta.iter().fold(0.0f32, |m, d| m.max(d.abs()))).max(1e-12);
    let rgb = delta
        .iter()
        .flat_map(|&d| {
            let t = (d / scale).clamp(-1.0, 1.0);
            let fade = |c: f32| (255.0 - (255.0 - c) * t.abs()).round() as u8;
            if t >= 0.0 { [255, fade(40.0), fade(40.0)] } else { [fade(30.0), fade(90.0), 255] }
        })
        .collect();
    (Picture { width, height: delta.len() / width, rgb }, scale)
}

/// The picture enlarged `factor` times with nearest-neighbour sampling (crisp pixels).
pub fn enlarge(picture: &Picture, factor: usize) -> Picture {
    let (w, h) = (picture.width * factor, picture.height * factor);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let at = ((y / factor) * picture.width + x / factor) * 3;
            rgb.extend_from_slice(&picture.rgb[at..at + 3]);
        }
    }
    Picture { width: w, height: h, rgb }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_map_is_white_at_zero_and_saturates_at_scale() {
        let (p, scale) = diverging(&[0.0, 0.3, -0.3, 0.15], 4, None);
        assert_eq!(scale, 0.3);
        assert_eq!(&p.rgb[0..3], &[255, 255, 255]);
        assert_eq!(&p.rgb[3..6], &[255, 40, 40]);
        assert_eq!(&p.rgb[6..9], &[30, 90, 255]);
        assert!(p.rgb[10] > 40 && p.rgb[10] < 255);
        assert_eq!(enlarge(&p, 3).rgb.len(), 4 * 3 * 3 * 3);
    }
}
