//! `advlab`: train, evaluate and attack MNIST classifiers from a terminal, on burn's CPU backend.

mod bench;
mod picture;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use advlab::attack::{AttackConfig, AttackMethod, Norms};
use advlab::data::{Dataset, Mnist};
use advlab::eval;
use advlab::lab;
use advlab::model::weights::{self, Metadata};
use advlab::model::{Architecture, Classifier, argmax};
use advlab::train::{Defense, NoiseKind, RunData, Start, TrainConfig, TrainingRun};
use burn::tensor::Device;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

/// Train, attack and adversarially harden MNIST classifiers.
#[derive(Parser)]
#[command(name = "advlab", version, about)]
struct Cli {
    /// Folder holding the four MNIST IDX files (default: $ADVLAB_DATA or ~/.cache/advlab/mnist).
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// Where to compute: burn's CPU backend, or (built with `--features gpu`) a GPU through
    /// wgpu (Vulkan, Metal or DX12) or CUDA.
    #[arg(long, global = true, value_enum, default_value_t = DeviceChoice::Cpu)]
    device: DeviceChoice,
    #[command(subcommand)]
    command: Command,
}

/// The devices `--device` offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum DeviceChoice {
    /// burn's CPU backend (flex), on every core.
    Cpu,
    /// The first GPU wgpu finds (Vulkan, Metal or DX12), with burn's fusion and autotune.
    Wgpu,
    /// The first CUDA GPU, with burn's fusion and autotune (a build with `--features cuda`).
    Cuda,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model (standard or adversarial) and save it as safetensors.
    Train(TrainArgs),
    /// Measure clean and robust accuracy on the test set.
    Eval(EvalArgs),
    /// Attack one test image and write original / perturbation / adversarial PNGs.
    Attack(AttackArgs),
    /// Print training throughput and per-image attack times on this machine (its CPU, or the
    /// GPU `--device` names).
    Bench(bench::BenchArgs),
}

/// `TrainConfig`'s defaults: the one place the training defaults live (clap shows them).
fn training_defaults() -> TrainConfig {
    TrainConfig::new(Architecture::Mlp, Defense::None)
}

#[derive(Args)]
struct TrainArgs {
    /// Architecture.
    #[arg(long, default_value = "mlp")]
    model: Architecture,
    /// Defense: none, mixed, fgsm-rs, pgd, trades, noise.
    #[arg(long, default_value = "none")]
    defense: Defense,
    /// Training ε (L∞, [0,1] pixel units).
    #[arg(long, default_value_t = training_defaults().epsilon)]
    eps: f32,
    /// Epochs (in all, counting epochs already in a resumed file).
    #[arg(long, default_value_t = training_defaults().epochs)]
    epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = training_defaults().batch_size)]
    batch: usize,
    /// Adam learning rate (the peak with --cosine).
    #[arg(long, default_value_t = training_defaults().learning_rate)]
    lr: f64,
    /// Decay the learning rate to zero along a half cosine over all epochs.
    #[arg(long)]
    cosine: bool,
    /// Augment: shift training images by up to N pixels at random.
    #[arg(long, default_value_t = training_defaults().shift)]
    shift: usize,
    /// Seed.
    #[arg(long, default_value_t = training_defaults().seed)]
    seed: u64,
    /// Train on the first N training images only.
    #[arg(long)]
    limit: Option<usize>,
    /// λ of `mixed` (weight of the adversarial loss).
    #[arg(long, default_value_t = training_defaults().lambda)]
    lambda: f32,
    /// β of `trades`.
    #[arg(long, default_value_t = training_defaults().beta)]
    beta: f32,
    /// Steps of the inner attack of `pgd` and `trades`.
    #[arg(long, default_value_t = training_defaults().attack_steps)]
    attack_steps: usize,
    /// Noise of `noise`: gaussian (σ = --noise-std) or uniform (in the L∞ ball of radius --eps).
    #[arg(long, default_value_t = training_defaults().noise)]
    noise: NoiseKind,
    /// σ of the Gaussian noise of `noise`, in (0, 1] pixel units.
    #[arg(long, default_value_t = training_defaults().noise_std)]
    noise_std: f32,
    /// L2 weight decay in [0, 1], any defense (Adam's coupled penalty: W·θ added to the gradient).
    #[arg(long, default_value_t = training_defaults().weight_decay)]
    weight_decay: f32,
    /// Weight λ in [0, 1000] of the input-gradient penalty λ·‖∇ₓ CE‖², any defense
    /// (finite-difference estimate).
    #[arg(long, default_value_t = training_defaults().grad_penalty)]
    grad_penalty: f32,
    /// Test images for the final robust-accuracy figure stored in the metadata (0: skip).
    #[arg(long, default_value_t = 1000)]
    eval_limit: usize,
    /// Continue from the epochs already saved in --out (the file is rewritten after every epoch).
    #[arg(long)]
    resume: bool,
    /// Start from these weights instead of a fresh model (e.g. adversarial fine-tuning of a
    /// standard model).
    #[arg(long, conflicts_with = "resume")]
    init: Option<PathBuf>,
    /// Output weights file.
    #[arg(long)]
    out: PathBuf,
}

/// `AttackConfig`'s defaults (Madry's PGD setting): the one place they live.
fn attack_defaults() -> AttackConfig {
    AttackConfig::new(AttackMethod::Pgd)
}

#[derive(Args)]
struct AttackParams {
    /// Iterations of the iterative attacks (AutoAttack: per stage; Square: queries unless
    /// --queries).
    #[arg(long, default_value_t = attack_defaults().steps)]
    steps: usize,
    /// Step size (pixel units) of PGD and MIM.
    #[arg(long, default_value_t = attack_defaults().step_size)]
    step_size: f32,
    /// Random restarts of PGD, APGD, APGD-T and Square.
    #[arg(long, default_value_t = attack_defaults().restarts)]
    restarts: usize,
    /// Start PGD at the clean image instead of a random point (BIM).
    #[arg(long)]
    no_random_start: bool,
    /// Target class for a targeted attack.
    #[arg(long)]
    target: Option<usize>,
    /// Seed of the random starts.
    #[arg(long, default_value_t = attack_defaults().seed)]
    seed: u64,
    /// APGD-T's target classes (the most likely classes other than the label), 1–9.
    #[arg(long, default_value_t = attack_defaults().target_classes)]
    target_classes: usize,
    /// Square's initial fraction of the image a square covers, in (0, 1].
    #[arg(long, default_value_t = attack_defaults().p_init)]
    p_init: f32,
    /// Square's queries, alone or in AutoAttack (default: --steps). The reference AutoAttack is
    /// `--steps 100 --queries 5000`.
    #[arg(long)]
    queries: Option<usize>,
}

impl AttackParams {
    fn config(&self, method: AttackMethod, eps: f32) -> Result<AttackConfig, String> {
        let config = AttackConfig { method, epsilon: eps, ..self.base() };
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    /// Every flag but the attack and ε.
    fn base(&self) -> AttackConfig {
        AttackConfig::new(AttackMethod::Fgsm)
            .with_steps(self.steps)
            .with_step_size(self.step_size)
            .with_restarts(self.restarts)
            .with_random_start(!self.no_random_start)
            .with_target(self.target)
            .with_seed(self.seed)
            .with_target_classes(self.target_classes)
            .with_p_init(self.p_init)
            .with_queries(self.queries)
    }
}

#[derive(Args)]
struct EvalArgs {
    /// Weights file.
    #[arg(long)]
    weights: PathBuf,
    /// Attacks (comma-separated): none, fgsm, pgd, pgd-l2, mim, deepfool, cw, apgd, apgd-t,
    /// square, autoattack, jsma.
    #[arg(long, value_delimiter = ',', default_value = "none")]
    attack: Vec<String>,
    /// Budgets ε (comma-separated; L∞, per-image L2 or, for jsma, the fraction of pixels that
    /// may change, by attack).
    #[arg(long, value_delimiter = ',', default_value = "0.3")]
    eps: Vec<f32>,
    #[command(flatten)]
    params: AttackParams,
    /// Evaluate the first N test images only.
    #[arg(long)]
    limit: Option<usize>,
    /// Images per batch.
    #[arg(long, default_value_t = advlab::eval::BATCH)]
    batch: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct AttackArgs {
    /// Weights file.
    #[arg(long)]
    weights: PathBuf,
    /// Test image index (0–9999).
    #[arg(long)]
    index: usize,
    /// Attack.
    #[arg(long, default_value = "pgd")]
    attack: AttackMethod,
    /// Budget ε.
    #[arg(long, default_value_t = 0.3)]
    eps: f32,
    #[command(flatten)]
    params: AttackParams,
    /// Folder for original.png, perturbation.png and adversarial.png.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let data_dir = cli.data.clone().unwrap_or_else(Mnist::default_dir);
    let result = device(cli.device).and_then(|device| match cli.command {
        Command::Train(args) => train(&data_dir, &device, args),
        Command::Eval(args) => evaluate(&data_dir, &device, args),
        Command::Attack(args) => attack_one(&data_dir, &device, args),
        Command::Bench(args) => bench::run(&data_dir, &device, cli.device, args),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("advlab: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The device `--device` names, started (a GPU's absence is a clear error, not a panic later).
fn device(choice: DeviceChoice) -> Result<Device, String> {
    #[cfg(feature = "fusion")]
    if choice != DeviceChoice::Cpu {
        advlab::device::fusion::configure().map_err(|e| format!("burn's fusion could not be configured for the GPU: {e}"))?;
    }
    match choice {
        DeviceChoice::Cpu => Ok(Device::flex()),
        #[cfg(feature = "gpu")]
        DeviceChoice::Wgpu => Device::wgpu_options().init().map_err(|e| format!("--device wgpu: no GPU could be started through wgpu: {e}")),
        #[cfg(feature = "cuda")]
        DeviceChoice::Cuda => {
            // burn starts CUDA lazily and panics without a driver: try one small tensor first.
            let device = Device::cuda(0);
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| burn::tensor::Tensor::<1>::ones([1], &device).into_data()))
                .map(|_| device.clone())
                .map_err(|_| "--device cuda: no CUDA GPU could be started (is the NVIDIA driver installed?)".to_string())
        }
        #[cfg(not(feature = "gpu"))]
        DeviceChoice::Wgpu => Err("--device wgpu needs a GPU build: cargo build --release --features gpu".into()),
        #[cfg(not(feature = "cuda"))]
        DeviceChoice::Cuda => Err("--device cuda needs a CUDA build: cargo build --release --features cuda".into()),
    }
}

fn load_mnist(dir: &Path) -> Result<Mnist, String> {
    Mnist::load(dir).map_err(|e| e.to_string())
}

fn load_weights(path: &Path, device: &Device) -> Result<(Classifier, Metadata), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    weights::from_bytes(&bytes, device).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes a weights file whole or not at all (a `.partial` file renamed into place).
fn write_weights(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    std::fs::rename(&partial, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub(crate) fn progress(total: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({per_sec}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    bar
}

fn train(data_dir: &Path, device: &Device, args: TrainArgs) -> Result<(), String> {
    let device = device.clone();
    let config = TrainConfig::new(args.model, args.defense)
        .with_epsilon(args.eps)
        .with_epochs(args.epochs)
        .with_batch_size(args.batch)
        .with_learning_rate(args.lr)
        .with_cosine(args.cosine)
        .with_shift(args.shift)
        .with_seed(args.seed)
        .with_limit(args.limit)
        .with_lambda(args.lambda)
        .with_beta(args.beta)
        .with_attack_steps(args.attack_steps)
        .with_noise(args.noise)
        .with_noise_std(args.noise_std)
        .with_weight_decay(args.weight_decay)
        .with_grad_penalty(args.grad_penalty);
    config.validate().map_err(|e| e.to_string())?;
    if args.resume && !args.out.exists() {
        return Err(format!(
            "cannot resume: {} does not exist (check the path, or run without --resume to start a new run)",
            args.out.display()
        ));
    }
    let mnist = load_mnist(data_dir)?;
    let start = if args.resume {
        let (model, metadata) = load_weights(&args.out, &device)?;
        eprintln!("resuming {} after epoch {}", args.out.display(), metadata.epochs);
        Start::Resume { model, epochs_done: metadata.epochs, metadata, best: None }
    } else if let Some(init) = &args.init {
        let (model, _) = load_weights(init, &device)?;
        eprintln!("starting from {}", init.display());
        Start::Init(model)
    } else {
        Start::Fresh
    };
    let data = RunData::split(&config, &mnist.train, mnist.test.clone());
    let mut run = TrainingRun::start(config.clone(), data, &device, start).map_err(|e| e.to_string())?;
    while !run.finished() {
        let epoch = run.epochs_done() + 1;
        let bar = progress(run.batches_per_epoch() as u64, &format!("epoch {epoch}/{}", config.epochs));
        let started = std::time::Instant::now();
        let finished = pollster::block_on(run.next_epoch(async |b| {
            bar.set_message(format!("loss {:.4} acc {:.3}", b.loss, b.accuracy));
            bar.inc(1);
            true
        }))
        .map_err(|e| e.to_string())?
        .expect("the CLI never stops an epoch");
        bar.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();
        let report = &finished.report;
        let robust = report.validation_robust_accuracy.map(|a| format!(", validation PGD-10 accuracy {:.2}%", a * 100.0)).unwrap_or_default();
        eprintln!(
            "epoch {epoch}: loss {:.4}, validation accuracy {:.2}%{robust}, test accuracy {:.2}% ({seconds:.0} s, {:.0} images/s)",
            report.train_loss,
            report.validation_accuracy * 100.0,
            finished.test_accuracy * 100.0,
            run.data().train.len() as f64 / seconds
        );
        if let Some(reason) = &report.stopped {
            eprintln!("stopped early: {reason}");
        }
        write_weights(&args.out, &finished.weights)?;
    }
    let bar = progress(args.eval_limit as u64, "PGD-40");
    let (bytes, metadata) = pollster::block_on(run.final_weights(args.eval_limit, |done| bar.set_position(done as u64))).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    if let Some(a) = metadata.clean_accuracy {
        eprintln!("test accuracy {:.2}% ({} images)", a * 100.0, run.data().test.len());
    }
    if let (Some(a), Some(attack)) = (metadata.robust_accuracy, &metadata.robust_attack) {
        eprintln!("robust accuracy {:.2}% ({attack})", a * 100.0);
    }
    write_weights(&args.out, &bytes)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

fn test_subset(mnist: &Mnist, limit: Option<usize>) -> Dataset {
    match limit {
        Some(n) => mnist.test.take(n),
        None => mnist.test.clone(),
    }
}

fn evaluate(data_dir: &Path, device: &Device, args: EvalArgs) -> Result<(), String> {
    let device = device.clone();
    let (model, _) = load_weights(&args.weights, &device)?;
    let methods = args.attack.iter().filter(|name| *name != "none").map(|name| name.parse()).collect::<Result<Vec<AttackMethod>, String>>()?;
    let configs = eval::sweep::grid(&methods, &args.eps, &args.params.base()).map_err(|e| e.to_string())?;
    if args.batch == 0 {
        return Err("--batch must be at least 1".into());
    }
    let mnist = load_mnist(data_dir)?;
    let test = test_subset(&mnist, args.limit);
    let bar = progress((configs.len() * test.len()) as u64, "attacks");
    let name = args.weights.display().to_string();
    let plan = eval::sweep::Plan { attacks: configs.clone(), images: test.len(), batch: args.batch, gallery: 0 };
    let evaluation = pollster::block_on(eval::sweep::evaluate_model(&name, &model, &plan, &test, &device, |d| bar.set_position(d as u64))).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let clean = eval::CleanReport { n: evaluation.n, accuracy: evaluation.clean_accuracy, loss: evaluation.clean_loss };
    let results = evaluation.results;
    if args.json {
        let out = serde_json::json!({
            "weights": args.weights.display().to_string(),
            "n": clean.n,
            "clean_accuracy": clean.accuracy,
            "clean_loss": clean.loss,
            "results": results,
        });
        println!("{out}");
    } else {
        println!("{}: {} test images, clean accuracy {:.2}% (loss {:.4})", args.weights.display(), clean.n, clean.accuracy * 100.0, clean.loss);
        if !results.is_empty() {
            println!("{:<10} {:>6} {:>8} {:>9} {:>8} {:>8} {:>8}", "attack", "eps", "robust", "loss", "success", "mean L∞", "mean L2");
        }
        for r in &results {
            println!(
                "{:<10} {:>6} {:>7.2}% {:>9.4} {:>7.2}% {:>8.4} {:>8.4}",
                r.attack,
                r.eps,
                r.robust_accuracy * 100.0,
                r.robust_loss,
                r.success_rate * 100.0,
                r.mean_linf,
                r.mean_l2
            );
            if let Some(broken_by) = &r.broken_by {
                let counts: Vec<String> = broken_by.iter().map(|(stage, n)| format!("{stage} {n}")).collect();
                println!("{:<10} broken by: {}", "", counts.join(", "));
            }
        }
    }
    Ok(())
}

fn attack_one(data_dir: &Path, device: &Device, args: AttackArgs) -> Result<(), String> {
    let device = device.clone();
    let (model, _) = load_weights(&args.weights, &device)?;
    let config = args.params.config(args.attack, args.eps)?;
    let mnist = load_mnist(data_dir)?;
    if args.index >= mnist.test.len() {
        return Err(format!("--index {} is out of range: the test set has {} images (0–{})", args.index, mnist.test.len(), mnist.test.len() - 1));
    }
    let original = mnist.test.image(args.index).to_vec();
    let label = usize::from(mnist.test.labels[args.index]);
    let before = pollster::block_on(lab::probabilities(&model, &original, &device)).map_err(|e| e.to_string())?;
    let attacked = pollster::block_on(lab::attack_image(&model, &config, &original, label, &device)).map_err(|e| e.to_string())?;
    let (after, adv, broken_by) = (&attacked.probabilities, &attacked.adversarial, attacked.broken_by);
    let delta: Vec<f32> = adv.iter().zip(&original).map(|(a, o)| a - o).collect();
    let (pred, adv_pred) = (argmax(&before), argmax(after));
    let Norms { linf, l2, l0 } = attacked.norms;
    if let Some(dir) = &args.out {
        picture::write_triptych(dir, &original, &delta, adv)?;
    }
    if args.json {
        let mut out = serde_json::json!({
            "index": args.index, "label": label, "attack": config.method.name(), "eps": config.epsilon,
            "target": config.target,
            "prediction": pred, "confidence": before[pred], "probabilities": before,
            "adversarial_prediction": adv_pred, "adversarial_confidence": after[adv_pred],
            "adversarial_probabilities": after,
            "linf": linf, "l2": l2, "l0": l0,
            "files": args.out.as_ref().map(|d| ["original.png", "perturbation.png", "adversarial.png"].map(|f| d.join(f).display().to_string())),
        });
        if config.method == AttackMethod::AutoAttack {
            out["broken_by"] = serde_json::json!(broken_by.map(AttackMethod::name));
        }
        println!("{out}");
    } else {
        println!("test image {} (label {label}): predicted {pred} ({:.1}%)", args.index, before[pred] * 100.0);
        println!("{} ε={}: predicted {adv_pred} ({:.1}%), L∞ {linf:.4}, L2 {l2:.4}, L0 {l0}", config.method, config.epsilon, after[adv_pred] * 100.0);
        if config.method == AttackMethod::AutoAttack {
            match broken_by {
                Some(stage) => println!("broken by {stage}"),
                None => println!("no stage broke it"),
            }
        }
        if let Some(dir) = &args.out {
            println!("wrote {}/{{original,perturbation,adversarial}}.png", dir.display());
        }
    }
    Ok(())
}
