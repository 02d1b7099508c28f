//! The fuzz driver of advlab's parsers (built only with `--features fuzz`; scripts/fuzz.sh runs
//! it with overflow checks and debug assertions on):
//!
//! ```text
//! cargo run --release --features fuzz --example fuzz -- [--inputs N] [--seed S] [--crashes DIR] [TARGET...]
//! ```
//!
//! Feeds each target (`weights`, `idx`, `share`; all by default) `N` pseudo-random inputs
//! (default 1,000,000) drawn from seed `S`, which the target turns into structure-aware mutations
//! of valid files or uses as plain random bytes (see `advlab::fuzz`). Prints, per target, the
//! inputs run, inputs/s and the crashes (panics) found; each crashing input is written to `DIR`
//! (default `fuzz-crashes/`). Exits non-zero when anything crashed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::Instant;

use advlab::fuzz::{Target, next_input, panic_message};
use rand::SeedableRng;
use rand::rngs::SmallRng;

/// Crash messages printed per target (all crashing inputs are saved).
const SHOWN: usize = 5;

struct Options {
    inputs: u64,
    seed: u64,
    crashes: PathBuf,
    targets: Vec<Target>,
}

fn options() -> Result<Options, String> {
    let mut options = Options { inputs: 1_000_000, seed: 0, crashes: "fuzz-crashes".into(), targets: Vec::new() };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--inputs" => options.inputs = value("--inputs")?.parse().map_err(|e| format!("--inputs: {e}"))?,
            "--seed" => options.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--crashes" => options.crashes = value("--crashes")?.into(),
            name => match Target::ALL.into_iter().find(|t| t.name() == name) {
                Some(target) => options.targets.push(target),
                None => return Err(format!("unknown target or option `{name}` (targets: weights, idx, share)")),
            },
        }
    }
    if options.targets.is_empty() {
        options.targets = Target::ALL.to_vec();
    }
    Ok(options)
}

fn main() -> std::process::ExitCode {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Panics are counted and reported below, not printed as they happen.
    std::panic::set_hook(Box::new(|_| {}));
    let overflow_checks = std::panic::catch_unwind(|| {
        let max = std::hint::black_box(u32::MAX);
        max + std::hint::black_box(1)
    })
    .is_err();
    println!(
        "advlab fuzz: {} inputs per target, seed {}, overflow checks {}, debug assertions {}",
        options.inputs,
        options.seed,
        if overflow_checks { "on" } else { "OFF" },
        if cfg!(debug_assertions) { "on" } else { "OFF" }
    );
    let mut total_crashes = 0;
    for target in &options.targets {
        let mut rng = SmallRng::seed_from_u64(options.seed);
        let mut buffer = Vec::new();
        let mut crashes = 0usize;
        let started = Instant::now();
        for i in 0..options.inputs {
            next_input(&mut rng, &mut buffer);
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target.run(&buffer))) {
                crashes += 1;
                if crashes <= SHOWN {
                    println!("  {} crash at input {i}: {}", target.name(), panic_message(&*panic));
                }
                let path = options.crashes.join(format!("{}-{}-{i}", target.name(), options.seed));
                if std::fs::create_dir_all(&options.crashes).and_then(|()| std::fs::write(&path, &buffer)).is_err() {
                    println!("  (could not save {})", path.display());
                }
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{:<8} {:>10} inputs {:>8.1} s {:>10.0} inputs/s {:>4} crashes",
            target.name(),
            options.inputs,
            seconds,
            options.inputs as f64 / seconds.max(1e-9),
            crashes
        );
        total_crashes += crashes;
    }
    if total_crashes > 0 {
        println!("{total_crashes} crashing inputs saved in {}", options.crashes.display());
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
