//! Training: standard and adversarial (mixed, fast FGSM with random start, PGD, TRADES), random
//! noise augmentation, and two regularisers that combine with any of them (L2 weight decay, an
//! input-gradient penalty); one Adam step per batch, with a held-out validation check after
//! every epoch. For `fgsm-rs` that check guards against catastrophic overfitting: when PGD
//! accuracy collapses, training stops and the best epoch is restored.
//!
//! One job a file: [`config`] (the parameters), [`trainer`] (the steps and the epoch), one file
//! for each defense's loss ([`standard`], [`mixed`], [`fgsm_rs`], [`pgd`], [`trades`],
//! [`noise`]) and each regulariser ([`gradient_penalty`]), [`collapse`] (the guard), and
//! [`run`], whose [`TrainingRun`] is training's one entry point for the CLI and the page.

pub mod collapse;
pub mod config;
pub mod defense;
pub mod fgsm_rs;
pub mod gradient_penalty;
pub mod mixed;
pub mod noise;
pub mod pgd;
pub mod run;
pub mod standard;
pub mod trades;
pub mod trainer;

pub use config::TrainConfig;
pub use defense::Defense;
pub use defense::NoiseKind;
pub use run::{BestEpoch, FinishedEpoch, RunData, RunError, Start, TrainingRun};
pub use trainer::{BatchReport, EpochReport, Trainer};
