//! PNG output of the `attack` command.

use std::path::Path;

use advlab::data::render::{self, Picture};

/// Pixels per MNIST pixel in the written PNGs.
const ZOOM: usize = 10;

fn write_png(path: &Path, picture: &Picture) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), picture.width as u32, picture.height as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&picture.rgb).map_err(|e| e.to_string())
}

/// Writes `original.png`, `perturbation.png` (diverging map scaled to its L∞ norm) and
/// `adversarial.png` into `dir`.
pub fn write_triptych(dir: &Path, original: &[f32], delta: &[f32], adversarial: &[f32]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    write_png(&dir.join("original.png"), &render::enlarge(&render::grayscale(original, 28), ZOOM))?;
    let (perturbation, _) = render::diverging(delta, 28, None);
    write_png(&dir.join("perturbation.png"), &render::enlarge(&perturbation, ZOOM))?;
    write_png(&dir.join("adversarial.png"), &render::enlarge(&render::grayscale(adversarial, 28), ZOOM))
}
