//! The defenses a run can train with, and the noise of the `noise` defense. Each defense's loss
//! is in a file of its own: [`standard`](super::standard), [`mixed`](super::mixed),
//! [`fgsm_rs`](super::fgsm_rs), [`pgd`](super::pgd), [`trades`](super::trades),
//! [`noise`](super::noise).

choices! {
    /// How a batch is turned into a training loss.
    pub enum Defense ("defense") {
        /// Standard training on clean images.
        None = "none",
        /// Goodfellow et al. 2015: `(1 − λ)·CE(x) + λ·CE(FGSM(x))` on every batch.
        Mixed = "mixed",
        /// Wong et al. 2020 ("Fast is better than free"): one FGSM step of 1.25ε from a random
        /// start; guarded against catastrophic overfitting by a PGD check every epoch.
        FgsmRs = "fgsm-rs",
        /// Madry et al. 2018: train on PGD adversarial examples (random start).
        Pgd = "pgd",
        /// Zhang et al. 2019: `CE(x) + β·KL(f(x) ‖ f(x'))` with `x'` maximising the KL term.
        Trades = "trades",
        /// Random-noise augmentation: train on `clamp(x + noise, 0, 1)`, Gaussian of σ
        /// `noise_std` or uniform in the L∞ ε-ball (see [`NoiseKind`]). A
        /// baseline: random directions are nearly orthogonal to the adversarial one, so it buys
        /// little robustness against a worst-case attack of the same size.
        Noise = "noise",
    }
}

choices! {
    /// The distribution of the training noise.
    pub enum NoiseKind ("noise") {
        /// Independent `N(0, σ²)` per pixel (σ: `TrainConfig::noise_std`, pixel units).
        Gaussian = "gaussian",
        /// Independent `U[−ε, ε]` per pixel: a uniform point of the L∞ ε-ball (ε:
        /// `TrainConfig::epsilon`, pixel units).
        Uniform = "uniform",
    }
}
