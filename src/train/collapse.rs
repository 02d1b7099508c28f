//! The guard against catastrophic overfitting of fast FGSM training (`fgsm-rs`, Wong et al.
//! 2020): after every epoch the trainer compares held-out PGD accuracy with the best epoch's, and
//! on a collapse stops the run and restores the best epoch.

/// Whether robust accuracy `now` is a collapse from the best epoch's `best` (catastrophic
/// overfitting of fast FGSM training): below half of it and more than 20 points under it.
pub fn collapsed(best: f32, now: f32) -> bool {
    now < 0.5 * best && now < best - 0.2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_collapse_guard_fires_on_a_collapse_and_not_on_noise() {
        assert!(collapsed(0.85, 0.02));
        assert!(collapsed(0.6, 0.25));
        assert!(!collapsed(0.85, 0.80), "a dip of 5 points is noise");
        assert!(!collapsed(0.15, 0.05), "early epochs near zero are not a collapse");
    }
}
