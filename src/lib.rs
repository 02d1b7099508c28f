//! advlab: train MNIST classifiers, attack them with the attacks of the adversarial-robustness
//! literature, harden them with adversarial training and measure robust accuracy.
//!
//! The core (`data`, `device`, `model`, `attack`, `eval`, `train`, then `calibration` and `lab`,
//! which both front ends share; every import runs down that order) is written once on burn's
//! tensor API and runs on whichever [`Device`](burn::tensor::Device) it is given: burn's CPU
//! backend (natively and in wasm) or WebGPU in the browser. It never reads tensors synchronously
//! inside a loop, so it runs unchanged on WebGPU, where only asynchronous reads are allowed. Images are `[N, 1, 28, 28]`
//! tensors with pixels in `[0, 1]`; every ε is in those pixel units.

#[macro_use]
mod choice;
pub mod attack;
pub mod calibration;
pub mod data;
pub mod device;
pub mod eval;
#[cfg(test)]
mod fixtures;
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;
pub mod lab;
pub mod model;
pub mod page;
pub mod train;
#[cfg(target_arch = "wasm32")]
pub mod web;
