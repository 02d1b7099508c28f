//! Where the core computes, at its ground floor: reading results back from a device
//! (asynchronously, as WebGPU requires) and configuring burn's kernel fusion for the GPU backends.
//! What decides between the backends (the page's Auto) is [`crate::calibration`], above training.

#[cfg(feature = "fusion")]
pub mod fusion;
pub mod readback;
