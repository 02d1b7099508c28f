//! Measuring which backend runs each kind of job faster: one small, fixed piece of work per job
//! (a probe), run on every backend the browser offers, so that the page's **Auto** backend gives
//! each job the faster one. The probes are the jobs' own kernels at the jobs' own shapes, small
//! enough that all of them, on two backends, take well under a second on a CPU.
//!
//! The probes run a freshly initialised CNN: the heavier architecture, the one where the choice
//! matters (the MLP is fast everywhere), and no weights to fetch. The clock is not the core's
//! business: the caller times [`probe`] (the page with `performance.now()`, racing a budget) and
//! [`Calibration::from_times`] picks.

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::attack::{self, AttackConfig, AttackMethod};
use crate::data::{CLASSES, PIXELS, images_tensor};
use crate::model::{Architecture, Classifier};
use crate::device::readback;
use crate::train::{Defense, TrainConfig, Trainer};

choices! {
    /// The kinds of job the page runs, each on the backend that runs it faster under Auto.
    pub enum Job ("job") {
        /// The attack lab: one attack on one image (probe: 5 PGD steps on one image).
        Attack = "attack",
        /// Training (probe: one optimizer step on a batch of 32).
        Training = "training",
        /// Evaluation sweeps (probe: 2 PGD steps on a batch of 32).
        Evaluation = "evaluation",
    }
}

/// Images in the training and evaluation probes' batches.
pub const PROBE_BATCH: usize = 32;

/// Runs `job`'s probe once on `device` with a fresh CNN, reading its result back so that the work
/// is done when it returns. Run it twice and time the second: the first also compiles the
/// backend's kernels.
pub async fn probe(job: Job, device: &Device) -> Result<(), String> {
    let batch = |n: usize, device: &Device| {
        // A fixed, non-trivial input: a diagonal gradient, the same on every backend.
        let pixels = (0..n * PIXELS).map(|i| ((i % PIXELS) % 29) as f32 / 28.0).collect();
        let labels: Vec<i64> = (0..n).map(|i| (i % CLASSES) as i64).collect();
        (images_tensor(pixels, device), Tensor::<1, Int>::from_data(TensorData::new(labels, [n]), device))
    };
    let read = |t: Tensor<1>| async move { readback::floats(t).await.map(|_| ()).map_err(|e| e.to_string()) };
    match job {
        Job::Attack | Job::Evaluation => {
            let (n, steps) = if job == Job::Attack { (1, 5) } else { (PROBE_BATCH, 2) };
            let config = AttackConfig { steps, ..AttackConfig::new(AttackMethod::Pgd) };
            let (images, labels) = batch(n, device);
            let adversarial = attack::run(&config, &Classifier::new(Architecture::Cnn, device), images, labels);
            read(adversarial.sum().reshape([1])).await
        }
        Job::Training => {
            let config = TrainConfig { batch_size: PROBE_BATCH, ..TrainConfig::interactive(Architecture::Cnn, Defense::None) };
            let mut trainer = Trainer::new(config, device).map_err(|e| e.to_string())?;
            let (images, labels) = batch(PROBE_BATCH, &device.clone().autodiff());
            let (loss, _) = trainer.step(images, labels, 0, 1e-3);
            read(loss).await
        }
    }
}

/// Which backend runs a job, as measured: its probe's time on each (`None`: it did not finish
/// within the calibration's budget, or the backend is not there).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobTiming {
    /// The job.
    pub job: Job,
    /// Milliseconds of the probe on the CPU backend.
    pub cpu_ms: Option<f64>,
    /// Milliseconds of the probe on WebGPU.
    pub webgpu_ms: Option<f64>,
}

impl JobTiming {
    /// Whether WebGPU ran the probe faster (a backend that did not finish never wins; with
    /// neither measured, the CPU runs it).
    pub fn webgpu_wins(&self) -> bool {
        match (self.cpu_ms, self.webgpu_ms) {
            (Some(cpu), Some(gpu)) => gpu < cpu,
            (None, Some(_)) => true,
            _ => false,
        }
    }
}

/// The outcome of a calibration on one browser adapter: each job's probe times on each backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The WebGPU adapter the figures belong to (vendor, architecture, device, description).
    pub adapter: String,
    /// One timing per job, in [`Job::ALL`]'s order.
    pub jobs: Vec<JobTiming>,
    /// Milliseconds the whole calibration took (warm-ups and kernel compilation included).
    pub took_ms: f64,
    /// The adapter is a software one (WebGPU's fallback adapter, a GPU emulated on the CPU):
    /// WebGPU was not measured, and every job runs on the CPU.
    #[serde(default)]
    pub software_adapter: bool,
}

impl Calibration {
    /// The calibration from measured probe times (milliseconds `(cpu, webgpu)`; `None`: not
    /// finished) that took `took_ms` in all.
    pub fn from_times(adapter: String, took_ms: f64, times: impl Fn(Job) -> (Option<f64>, Option<f64>)) -> Self {
        let jobs = Job::ALL.iter().map(|&job| {
            let (cpu_ms, webgpu_ms) = times(job);
            JobTiming { job, cpu_ms, webgpu_ms }
        });
        Calibration { adapter, jobs: jobs.collect(), took_ms, software_adapter: false }
    }

    /// The calibration of a software adapter: the CPU's probe times only (WebGPU, emulated on the
    /// same CPU, is not measured), every job on the CPU.
    pub fn software(adapter: String, took_ms: f64, cpu_ms: impl Fn(Job) -> Option<f64>) -> Self {
        Calibration { software_adapter: true, ..Self::from_times(adapter, took_ms, |job| (cpu_ms(job), None)) }
    }

    /// Whether WebGPU runs `job` (the CPU when the job was not measured).
    pub fn webgpu_for(&self, job: Job) -> bool {
        self.jobs.iter().find(|t| t.job == job).is_some_and(JobTiming::webgpu_wins)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_probe_runs_and_the_faster_backend_wins() {
        let device = crate::fixtures::device();
        for job in Job::ALL {
            pollster::block_on(probe(job, &device)).unwrap_or_else(|e| panic!("{job}: {e}"));
        }
        let calibration = Calibration::from_times("test".into(), 1.0, |job| match job {
            Job::Attack => (Some(5.0), Some(50.0)),
            Job::Training => (Some(40.0), Some(10.0)),
            Job::Evaluation => (Some(30.0), None),
        });
        assert!(!calibration.webgpu_for(Job::Attack), "the CPU is faster");
        assert!(calibration.webgpu_for(Job::Training), "WebGPU is faster");
        assert!(!calibration.webgpu_for(Job::Evaluation), "WebGPU did not finish");
        let none = JobTiming { job: Job::Attack, cpu_ms: None, webgpu_ms: None };
        assert!(!none.webgpu_wins(), "nothing measured: the CPU");
        let software = Calibration::software("SwiftShader".into(), 1.0, |_| Some(5.0));
        assert!(Job::ALL.iter().all(|&job| !software.webgpu_for(job)), "a software adapter runs everything on the CPU");
        // A calibration remembered before the field existed reads as a hardware adapter's.
        let mut old = serde_json::to_value(&calibration).unwrap();
        old.as_object_mut().unwrap().remove("software_adapter");
        assert_eq!(serde_json::from_value::<Calibration>(old).unwrap(), calibration);
    }
}
