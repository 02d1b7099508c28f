//! Reading tensors back to the host.
//!
//! WebGPU only allows asynchronous reads, so every read in the core goes through these `async`
//! functions. Native callers drive them with a blocking executor (`pollster::block_on`).

use burn::tensor::{Int, Tensor, TensorData};

/// A tensor could not be read back from its device (a lost GPU device, a failed kernel).
#[derive(Debug, thiserror::Error)]
#[error("{READ_FAILED}: {0}")]
pub struct ReadError(String);

/// How every [`ReadError`]'s message starts (the page treats it as a GPU failure: the CPU
/// backend's reads cannot fail).
pub const READ_FAILED: &str = "could not read a tensor back from the device";

async fn data<const D: usize, K>(tensor: Tensor<D, K>) -> Result<TensorData, ReadError>
where
    K: burn::tensor::kind::Basic,
{
    tensor.into_data_async().await.map_err(|e| ReadError(e.to_string()))
}

/// Reads a float tensor as `f32` values in row-major order.
pub async fn floats<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, ReadError> {
    data(tensor)
        .await?
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| ReadError(format!("{e:?}")))
}

/// Reads an integer tensor as `i64` values in row-major order.
pub async fn ints<const D: usize>(tensor: Tensor<D, Int>) -> Result<Vec<i64>, ReadError> {
    data(tensor)
        .await?
        .convert::<i64>()
        .try_into_vec::<i64>()
        .map_err(|e| ReadError(format!("{e:?}")))
}
