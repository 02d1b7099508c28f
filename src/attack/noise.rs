//! Seeded random starts, drawn on the host so that the same seed gives the same start on every
//! backend (the page on WebGPU and the native CLI agree).

use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A seeded generator for one attack run (`restart` selects an independent stream).
pub fn generator(seed: u64, restart: usize) -> StdRng {
    StdRng::seed_from_u64(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ restart as u64)
}

/// Uniform noise in `[-radius, radius]` of the given shape.
pub fn uniform(rng: &mut StdRng, shape: [usize; 4], radius: f32, device: &Device) -> Tensor<4> {
    let n = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|_| rng.random_range(-radius..=radius)).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Standard normal noise of the given shape (Box–Muller).
pub fn normal(rng: &mut StdRng, shape: [usize; 4], device: &Device) -> Tensor<4> {
    let n: usize = shape.iter().product();
    let mut values = Vec::with_capacity(n + 1);
    while values.len() < n {
        let u1: f32 = rng.random_range(f32::MIN_POSITIVE..1.0);
        let u2: f32 = rng.random();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f32::consts::TAU * u2;
        values.push(r * theta.cos());
        values.push(r * theta.sin());
    }
    values.truncate(n);
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Uniform points of the L2 ball of radius `radius`, one per image.
pub fn l2_ball(rng: &mut StdRng, shape: [usize; 4], radius: f32, device: &Device) -> Tensor<4> {
    let direction = super::projection::normalize_l2(normal(rng, shape, device));
    let dims = (shape[1] * shape[2] * shape[3]) as f32;
    let radii: Vec<f32> = (0..shape[0]).map(|_| radius * rng.random::<f32>().powf(1.0 / dims)).collect();
    let radii = Tensor::<1>::from_data(TensorData::new(radii, [shape[0]]), device);
    direction * radii.reshape([shape[0], 1, 1, 1])
}
