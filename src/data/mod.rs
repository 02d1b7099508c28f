//! MNIST: the IDX reader, datasets of `[0,1]` images, seeded shuffled batches and the
//! held-out validation split; drawings as images (`canvas`) and images as pictures (`render`).

pub mod canvas;
pub mod idx;
pub mod render;

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Pixels of one MNIST image (28×28).
pub const PIXELS: usize = 28 * 28;
/// Number of classes (digits 0–9).
pub const CLASSES: usize = 10;
/// Names of the four IDX files of the original distribution, in the order
/// train images, train labels, test images, test labels.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Why MNIST could not be loaded; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file is missing or unreadable.
    #[error("cannot read MNIST file {path}: {reason}. Run `scripts/setup.sh` to fetch MNIST (or set ADVLAB_DATA to a folder holding the four IDX files)")]
    Missing { path: String, reason: String },
    /// A file is not a valid IDX file of the expected kind.
    #[error("MNIST file {file} is corrupt: {reason}. Delete it and run `scripts/setup.sh` to fetch it again")]
    Corrupt { file: String, reason: String },
}

/// Labelled images held on the host: `images` has `PIXELS` values in `[0,1]` per image.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// Row-major pixels in `[0, 1]`, `PIXELS` per image.
    pub images: Vec<f32>,
    /// Digit labels 0–9, one per image.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// Builds a dataset; `images.len()` must be `PIXELS * labels.len()`.
    pub fn new(images: Vec<f32>, labels: Vec<u8>) -> Self {
        assert_eq!(images.len(), labels.len() * PIXELS, "one 28×28 image per label");
        Self { images, labels }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the dataset holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels of image `index`.
    pub fn image(&self, index: usize) -> &[f32] {
        &self.images[index * PIXELS..(index + 1) * PIXELS]
    }

    /// The first `n` images (all of them when `n` is larger).
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset::new(self.images[..n * PIXELS].to_vec(), self.labels[..n].to_vec())
    }

    /// Splits off the last `validation` images as a held-out validation set:
    /// returns `(train, validation)`.
    pub fn split_validation(&self, validation: usize) -> (Dataset, Dataset) {
        let cut = self.len().saturating_sub(validation);
        let train = Dataset::new(self.images[..cut * PIXELS].to_vec(), self.labels[..cut].to_vec());
        let held = Dataset::new(self.images[cut * PIXELS..].to_vec(), self.labels[cut..].to_vec());
        (train, held)
    }

    /// Parses a pair of IDX files (images, labels), given as `(name, bytes)`; the names appear in
    /// error messages.
    pub fn from_idx(images: (&str, &[u8]), labels: (&str, &[u8])) -> Result<Dataset, DataError> {
        let (pixels, n) = idx::parse_images(images.0, images.1)?;
        let labels_vec = idx::parse_labels(labels.0, labels.1)?;
        if labels_vec.len() != n {
            return Err(DataError::Corrupt { file: labels.0.to_string(), reason: format!("{} labels for {n} images", labels_vec.len()) });
        }
        Ok(Dataset::new(pixels, labels_vec))
    }

    /// The images at `indices` as a `[n, 1, 28, 28]` tensor and their labels as a `[n]` tensor.
    pub fn batch(&self, indices: &[usize], device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
        let mut pixels = Vec::with_capacity(indices.len() * PIXELS);
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        let labels: Vec<i64> = indices.iter().map(|&i| i64::from(self.labels[i])).collect();
        (images_tensor(pixels, device), labels_tensor(labels, device))
    }

    /// Like [`Dataset::batch`], with each image shifted by a random whole number of pixels in
    /// `[-max_shift, max_shift]` along each axis (zeros fill in), drawn from `seed`: the classic
    /// MNIST augmentation.
    pub fn shifted_batch(&self, indices: &[usize], max_shift: usize, seed: u64, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let m = max_shift as i64;
        let mut pixels = Vec::with_capacity(indices.len() * PIXELS);
        for &i in indices {
            let (dx, dy) = (rng.random_range(-m..=m), rng.random_range(-m..=m));
            pixels.extend(shift(self.image(i), dx, dy));
        }
        let labels: Vec<i64> = indices.iter().map(|&i| i64::from(self.labels[i])).collect();
        (images_tensor(pixels, device), labels_tensor(labels, device))
    }

    /// Contiguous batches `[start, start + size)` in order (the last may be shorter).
    pub fn sequential_batches(&self, size: usize) -> Vec<Vec<usize>> {
        (0..self.len()).collect::<Vec<_>>().chunks(size.max(1)).map(<[usize]>::to_vec).collect()
    }

    /// A seeded shuffle of all indices cut into batches of `size` (the last may be shorter).
    /// The same `(seed, epoch)` always gives the same batches.
    pub fn shuffled_batches(&self, size: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        let mut rng = StdRng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        order.shuffle(&mut rng);
        order.chunks(size.max(1)).map(<[usize]>::to_vec).collect()
    }
}

/// A 28×28 image moved `dx` pixels right and `dy` down; pixels moved in from outside are 0.
pub fn shift(image: &[f32], dx: i64, dy: i64) -> Vec<f32> {
    let mut out = vec![0.0; PIXELS];
    for y in 0..28i64 {
        for x in 0..28i64 {
            let (sx, sy) = (x - dx, y - dy);
            if (0..28).contains(&sx) && (0..28).contains(&sy) {
                out[(y * 28 + x) as usize] = image[(sy * 28 + sx) as usize];
            }
        }
    }
    out
}

/// Row-major `[0,1]` pixels, `PIXELS` per image, as a `[n, 1, 28, 28]` tensor.
pub fn images_tensor(pixels: Vec<f32>, device: &Device) -> Tensor<4> {
    let n = pixels.len() / PIXELS;
    Tensor::from_data(TensorData::new(pixels, [n, 1, 28, 28]), device)
}

/// Digit labels as a `[n]` integer tensor.
pub fn labels_tensor(labels: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = labels.len();
    Tensor::from_data(TensorData::new(labels, [n]), device)
}

/// The MNIST training (60,000) and test (10,000) sets.
#[derive(Clone, Debug)]
pub struct Mnist {
    /// The 60,000 training images.
    pub train: Dataset,
    /// The 10,000 test images.
    pub test: Dataset,
}

impl Mnist {
    /// Parses the four IDX files (given as bytes, in the order of [`FILES`]).
    pub fn from_idx(files: [&[u8]; 4]) -> Result<Mnist, DataError> {
        Ok(Mnist {
            train: Dataset::from_idx((FILES[0], files[0]), (FILES[1], files[1]))?,
            test: Dataset::from_idx((FILES[2], files[2]), (FILES[3], files[3]))?,
        })
    }

    /// Loads MNIST from a folder holding the four uncompressed IDX files.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load(dir: &std::path::Path) -> Result<Mnist, DataError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| DataError::Missing {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        };
        let files = [read(FILES[0])?, read(FILES[1])?, read(FILES[2])?, read(FILES[3])?];
        Mnist::from_idx([&files[0], &files[1], &files[2], &files[3]])
    }

    /// The folder MNIST is read from: `$ADVLAB_DATA`, else `~/.cache/advlab/mnist`
    /// (where `scripts/setup.sh` puts it).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn default_dir() -> std::path::PathBuf {
        match std::env::var_os("ADVLAB_DATA") {
            Some(dir) => dir.into(),
            None => {
                let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
                std::path::Path::new(&home).join(".cache/advlab/mnist")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(n: usize) -> Dataset {
        Dataset::new(vec![0.5; n * PIXELS], (0..n).map(|i| (i % 10) as u8).collect())
    }

    #[test]
    fn shuffled_batches_cover_every_index_once_and_depend_on_seed() {
        let data = tiny(25);
        let batches = data.shuffled_batches(8, 7, 0);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![8, 8, 8, 1]);
        let mut all: Vec<usize> = batches.concat();
        all.sort();
        assert_eq!(all, (0..25).collect::<Vec<_>>());
        assert_eq!(batches, data.shuffled_batches(8, 7, 0));
        assert_ne!(batches, data.shuffled_batches(8, 8, 0));
        assert_ne!(batches, data.shuffled_batches(8, 7, 1));
    }

    #[test]
    fn shifts_move_pixels_and_fill_with_zeros() {
        let mut image = vec![0.0; PIXELS];
        image[0] = 1.0;
        let moved = shift(&image, 2, 1);
        assert_eq!(moved[28 + 2], 1.0);
        assert_eq!(moved.iter().sum::<f32>(), 1.0);
        assert_eq!(shift(&image, -1, 0).iter().sum::<f32>(), 0.0, "moved out of the frame");
    }

    #[test]
    fn validation_split_holds_out_the_last_images() {
        let (train, held) = tiny(10).split_validation(3);
        assert_eq!((train.len(), held.len()), (7, 3));
        assert_eq!(held.labels, vec![7, 8, 9]);
    }

    #[test]
    fn missing_files_say_what_to_run() {
        let err = Mnist::load(std::path::Path::new("/nonexistent-advlab")).unwrap_err();
        assert!(err.to_string().contains("scripts/setup.sh"), "{err}");
    }
}
