//! Where the core computes: reading results back from a device (asynchronously, as WebGPU
//! requires), and measuring which backend runs each kind of job faster (the page's Auto).

pub mod calibration;
#[cfg(feature = "fusion")]
pub mod fusion;
pub mod readback;
#[cfg(all(test, feature = "gpu"))]
mod gpu_agreement;
