//! Why a request failed or a worker died, as a kind the page acts on (a lost GPU moves the jobs to
//! the CPU; anything else is shown) and a message it shows. The workers' jobs return [`Failure`]:
//! the kind is fixed where the error is made, from its type, never read back from its text.

use serde::{Deserialize, Serialize};

use crate::attack::ConfigError;
use crate::data::DataError;
use crate::device::readback::ReadError;
use crate::eval::sweep::SweepError;
use crate::model::weights::WeightsError;
use crate::train::RunError;

/// What kind of failure a request met, or a worker died of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureKind {
    /// The GPU device is lost or failed (a read back from it failed, `GPUDevice.lost`, a wgpu
    /// error): the page ends that engine and moves WebGPU's jobs to the CPU.
    GpuLost,
    /// The browser ran out of memory for the worker.
    OutOfMemory,
    /// What was asked cannot be done as asked: a parameter out of range, a missing or malformed
    /// file, image or dataset, weights of another run.
    BadInput,
    /// Anything else: a bug in advlab (a panic, a state the page should never reach).
    Bug,
    /// Not a failure: the page ended the worker on purpose (the user cancelled an attack).
    Cancelled,
}

impl FailureKind {
    /// The kind of a worker's death from the only thing the browser gives of it, its `error`
    /// event's text (a panic's message, wasm's out-of-memory trap).
    pub fn of_death(message: &str) -> FailureKind {
        let lower = message.to_lowercase();
        if lower.contains("out of memory") || lower.contains("memory access out of bounds") || lower.contains("allocation failed") {
            FailureKind::OutOfMemory
        } else if lower.contains("wgpu") || lower.contains("gpu") || (lower.contains("device") && (lower.contains("lost") || lower.contains("destroyed"))) {
            FailureKind::GpuLost
        } else {
            FailureKind::Bug
        }
    }
}

/// A failed job: its kind and what to tell the user.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// The message, naming what went wrong.
    pub message: String,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure { kind, message: message.into() }
    }

    /// A state the page should never bring about.
    pub fn bug(message: impl Into<String>) -> Self {
        Failure::new(FailureKind::Bug, message)
    }
}

/// The worker's own messages are about what it was asked: a file that is missing or malformed,
/// an index out of range.
impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::new(FailureKind::BadInput, message)
    }
}

impl From<ReadError> for Failure {
    fn from(e: ReadError) -> Self {
        Failure::new(FailureKind::GpuLost, e.to_string())
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::new(FailureKind::BadInput, e.to_string())
    }
}

impl From<DataError> for Failure {
    fn from(e: DataError) -> Self {
        Failure::new(FailureKind::BadInput, e.to_string())
    }
}

impl From<WeightsError> for Failure {
    fn from(e: WeightsError) -> Self {
        match e {
            WeightsError::Read(read) => read.into(),
            other => Failure::new(FailureKind::BadInput, other.to_string()),
        }
    }
}

impl From<RunError> for Failure {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Read(read) => read.into(),
            RunError::Weights(weights) => weights.into(),
            other => Failure::new(FailureKind::BadInput, other.to_string()),
        }
    }
}

impl From<crate::lab::LabError> for Failure {
    fn from(e: crate::lab::LabError) -> Self {
        match e {
            crate::lab::LabError::Read(read) => read.into(),
            crate::lab::LabError::NotFinite => Failure::new(FailureKind::BadInput, e.to_string()),
            crate::lab::LabError::Input(_) => Failure::new(FailureKind::BadInput, e.to_string()),
        }
    }
}

impl From<SweepError> for Failure {
    fn from(e: SweepError) -> Self {
        match e {
            SweepError::Read(read) => read.into(),
            SweepError::Plan(message) => Failure::new(FailureKind::BadInput, message),
        }
    }
}
