//! The adversarial-training defenses.

use std::fmt;
use std::str::FromStr;

/// How a batch is turned into a training loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Defense {
    /// Standard training on clean images.
    #[serde(rename = "none")]
    None,
    /// Goodfellow et al. 2015: `(1 − λ)·CE(x) + λ·CE(FGSM(x))` on every batch.
    #[serde(rename = "mixed")]
    Mixed,
    /// Wong et al. 2020 ("Fast is better than free"): one FGSM step of 1.25ε from a random
    /// start; guarded against catastrophic overfitting by a PGD check every epoch.
    #[serde(rename = "fgsm-rs")]
    FgsmRs,
    /// Madry et al. 2018: train on PGD adversarial examples (random start).
    #[serde(rename = "pgd")]
    Pgd,
    /// Zhang et al. 2019: `CE(x) + β·KL(f(x) ‖ f(x'))` with `x'` maximising the KL term.
    #[serde(rename = "trades")]
    Trades,
    /// Random-noise augmentation: train on `clamp(x + noise, 0, 1)`, Gaussian of σ
    /// `noise_std` or uniform in the L∞ ε-ball (see [`NoiseKind`](super::NoiseKind)). A
    /// baseline: random directions are nearly orthogonal to the adversarial one, so it buys
    /// little robustness against a worst-case attack of the same size.
    #[serde(rename = "noise")]
    Noise,
}

impl Defense {
    /// Every defense.
    pub const ALL: [Defense; 6] = [Defense::None, Defense::Mixed, Defense::FgsmRs, Defense::Pgd, Defense::Trades, Defense::Noise];

    /// The name used by the CLI, the weights metadata and the page.
    pub fn name(self) -> &'static str {
        match self {
            Defense::None => "none",
            Defense::Mixed => "mixed",
            Defense::FgsmRs => "fgsm-rs",
            Defense::Pgd => "pgd",
            Defense::Trades => "trades",
            Defense::Noise => "noise",
        }
    }
}

impl fmt::Display for Defense {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Defense {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Defense::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| format!("unknown defense `{s}` (expected none, mixed, fgsm-rs, pgd, trades or noise)"))
    }
}
