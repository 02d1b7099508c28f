//! `advlab bench`: training throughput and per-image attack time on the device `--device` names.

use std::path::Path;
use std::time::Instant;

use advlab::attack::{self, AttackConfig, AttackMethod};
use advlab::model::{Architecture, Classifier};
use advlab::device::readback;
use advlab::train::{Defense, TrainConfig, Trainer};
use burn::tensor::Device;
use clap::Args;

#[derive(Args)]
pub struct BenchArgs {
    /// Timed training batches per (model, defense).
    #[arg(long, default_value_t = 8)]
    batches: usize,
    /// Images attacked per attack.
    #[arg(long, default_value_t = 64)]
    images: usize,
}

/// Images per timed training batch.
const BATCH: usize = 128;

impl BenchArgs {
    /// Checks the counts against the data: the timed batches plus the warm-up one must fit in
    /// the `train` training images, the attacked images in the `test` test images.
    fn check(&self, train: usize, test: usize) -> Result<(), String> {
        let max_batches = (train / BATCH).saturating_sub(1);
        if !(1..=max_batches).contains(&self.batches) {
            return Err(format!(
                "--batches {} is out of range: the {train} training images hold 1–{max_batches} timed batches of {BATCH} (after one warm-up batch)",
                self.batches
            ));
        }
        if !(1..=test).contains(&self.images) {
            return Err(format!("--images {} is out of range: the test set has {test} images (1–{test})", self.images));
        }
        Ok(())
    }
}

pub fn run(data_dir: &Path, device: &Device, choice: super::DeviceChoice, args: BenchArgs) -> Result<(), String> {
    let device = device.clone();
    let mnist = super::load_mnist(data_dir)?;
    args.check(mnist.train.len(), mnist.test.len())?;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    match choice {
        super::DeviceChoice::Cpu => println!("advlab bench — burn CPU backend (flex), {threads} threads"),
        gpu => println!("advlab bench — burn {gpu:?} backend with fusion and autotune (first batches include kernel compilation and tuning)"),
    }
    println!("training throughput, batch {BATCH} (one warm-up batch, then {} timed):", args.batches);
    for arch in [Architecture::Mlp, Architecture::Cnn] {
        for defense in [Defense::None, Defense::FgsmRs, Defense::Pgd] {
            let config = TrainConfig::new(arch, defense).with_attack_steps(10);
            let mut trainer = Trainer::new(config, &device).map_err(|e| e.to_string())?;
            let ad = device.clone().autodiff();
            let mut timed = 0.0;
            for i in 0..=args.batches {
                let indices: Vec<usize> = (i * BATCH..(i + 1) * BATCH).collect();
                let (images, labels) = mnist.train.batch(&indices, &ad);
                let started = Instant::now();
                let (loss, _) = trainer.step(images, labels, i as u64, 1e-3);
                pollster::block_on(readback::floats(loss)).map_err(|e| e.to_string())?;
                if i > 0 {
                    timed += started.elapsed().as_secs_f64();
                }
            }
            let label = if defense == Defense::Pgd { "pgd (10 steps)".to_string() } else { defense.to_string() };
            println!("  {:<4} {:<15} {:>9.0} examples/s", arch.name(), label, (args.batches * BATCH) as f64 / timed);
        }
    }
    println!("attack time per image, batch of {} (40 steps unless noted):", args.images);
    let indices: Vec<usize> = (0..args.images).collect();
    for arch in [Architecture::Mlp, Architecture::Cnn] {
        device.seed(0);
        let model = Classifier::new(arch, &device);
        let (images, labels) = mnist.test.batch(&indices, &device);
        for method in AttackMethod::ALL {
            let config = AttackConfig::new(method).with_epsilon(if method.norm() == attack::Norm::L2 { 2.0 } else { 0.3 });
            let started = Instant::now();
            let adversarial = attack::run(&config, &model, images.clone(), labels.clone());
            pollster::block_on(readback::floats(adversarial)).map_err(|e| e.to_string())?;
            let ms = started.elapsed().as_secs_f64() * 1000.0 / args.images as f64;
            let note = match method {
                AttackMethod::CarliniWagner => " (5 binary steps × 40)",
                AttackMethod::DeepFool => " (≤40 iterations, 10 gradients each)",
                _ => "",
            };
            println!("  {:<4} {:<9} {:>9.2} ms/image{note}", arch.name(), method.name(), ms);
        }
    }
    Ok(())
}
