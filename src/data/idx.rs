//! The IDX file format of the original MNIST distribution (big-endian header, then raw bytes).

use super::DataError;

/// Magic number of an IDX file of unsigned bytes with three dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with one dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The size in bytes of an IDX file of `count` items of `item` bytes after a `header`-byte
/// header, computed on `u64` so that no count overflows, and refused when the platform cannot
/// address it (a 32-bit `usize` in the wasm build).
fn file_size(header: u64, count: u32, item: u64, what: &str) -> Result<usize, String> {
    let size = u64::from(count)
        .checked_mul(item)
        .and_then(|data| data.checked_add(header))
        .ok_or_else(|| format!("{count} {what} overflow the file size"))?;
    usize::try_from(size).map_err(|_| format!("{count} {what} need {size} bytes, more than this platform can address"))
}

/// Parses an IDX image file into pixels scaled to `[0, 1]` (row-major, 784 per image).
///
/// `name` is used in error messages. Returns the pixels and the image count.
pub fn parse_images(name: &str, bytes: &[u8]) -> Result<(Vec<f32>, usize), DataError> {
    let corrupt = |reason: String| DataError::Corrupt { file: name.to_string(), reason };
    if bytes.len() < 16 {
        return Err(corrupt(format!("{} bytes is shorter than the 16-byte IDX header", bytes.len())));
    }
    let magic = be_u32(bytes, 0);
    if magic != IMAGES_MAGIC {
        return Err(corrupt(format!("magic number {magic:#010x}, expected {IMAGES_MAGIC:#010x} (images)")));
    }
    let (count, rows, cols) = (be_u32(bytes, 4), be_u32(bytes, 8), be_u32(bytes, 12));
    if (rows, cols) != (28, 28) {
        return Err(corrupt(format!("images are {rows}×{cols}, expected 28×28")));
    }
    if count == 0 {
        return Err(corrupt("it holds no images (count 0)".into()));
    }
    let expected = file_size(16, count, 784, "images").map_err(corrupt)?;
    if bytes.len() != expected {
        return Err(corrupt(format!("{} bytes, expected {expected} for {count} images", bytes.len())));
    }
    let pixels: Vec<f32> = bytes[16..].iter().map(|&b| f32::from(b) / 255.0).collect();
    let n = pixels.len() / 784;
    Ok((pixels, n))
}

/// Parses an IDX label file; every label must be a digit 0–9.
pub fn parse_labels(name: &str, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let corrupt = |reason: String| DataError::Corrupt { file: name.to_string(), reason };
    if bytes.len() < 8 {
        return Err(corrupt(format!("{} bytes is shorter than the 8-byte IDX header", bytes.len())));
    }
    let magic = be_u32(bytes, 0);
    if magic != LABELS_MAGIC {
        return Err(corrupt(format!("magic number {magic:#010x}, expected {LABELS_MAGIC:#010x} (labels)")));
    }
    let count = be_u32(bytes, 4);
    if count == 0 {
        return Err(corrupt("it holds no labels (count 0)".into()));
    }
    let expected = file_size(8, count, 1, "labels").map_err(corrupt)?;
    if bytes.len() != expected {
        return Err(corrupt(format!("{} bytes, expected {expected} for {count} labels", bytes.len())));
    }
    let labels = bytes[8..].to_vec();
    if let Some(bad) = labels.iter().find(|&&l| l > 9) {
        return Err(corrupt(format!("label {bad} is not a digit")));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for d in dims {
            out.extend(d.to_be_bytes());
        }
        out
    }

    #[test]
    fn images_are_scaled_to_unit_interval() {
        let mut bytes = header(IMAGES_MAGIC, &[1, 28, 28]);
        bytes.extend((0..784).map(|i| if i == 0 { 255 } else { 51 }));
        let (pixels, n) = parse_images("x", &bytes).unwrap();
        assert_eq!(n, 1);
        assert_eq!(pixels[0], 1.0);
        assert!((pixels[1] - 0.2).abs() < 1e-6);
    }

    #[test]
    fn truncated_or_foreign_files_are_refused() {
        let mut bytes = header(IMAGES_MAGIC, &[2, 28, 28]);
        bytes.extend([0u8; 784]);
        assert!(parse_images("x", &bytes).unwrap_err().to_string().contains("expected"));
        assert!(parse_images("x", &header(LABELS_MAGIC, &[0])).is_err());
        assert!(parse_labels("y", &header(IMAGES_MAGIC, &[0])).is_err());
        let mut labels = header(LABELS_MAGIC, &[1]);
        labels.push(12);
        assert!(parse_labels("y", &labels).unwrap_err().to_string().contains("not a digit"));
    }

    #[test]
    fn empty_files_and_counts_beyond_the_address_space_are_refused() {
        fn message<T: std::fmt::Debug>(r: Result<T, DataError>) -> String {
            r.unwrap_err().to_string()
        }
        let empty = message(parse_images("x", &header(IMAGES_MAGIC, &[0, 28, 28])));
        assert!(empty.contains("no images (count 0)"), "{empty}");
        let empty = message(parse_labels("y", &header(LABELS_MAGIC, &[0])));
        assert!(empty.contains("no labels (count 0)"), "{empty}");
        let huge = message(parse_images("x", &header(IMAGES_MAGIC, &[u32::MAX, 28, 28])));
        assert!(huge.contains("4294967295 images"), "{huge}");
        let huge = message(parse_labels("y", &header(LABELS_MAGIC, &[u32::MAX])));
        assert!(huge.contains("4294967295 labels"), "{huge}");
        // 16 + (2³² − 1)·784 bytes: addressable on 64 bits, refused with a message on 32 (wasm).
        let size = file_size(16, u32::MAX, 784, "images");
        if usize::BITS == 64 {
            assert_eq!(size, Ok(3_367_254_359_296u64 as usize));
        } else {
            assert!(size.unwrap_err().contains("more than this platform can address"));
        }
        assert!(file_size(u64::MAX, 1, 1, "labels").unwrap_err().contains("overflow"));
    }
}
