//! The size of a perturbation, measured on the host after the one read of an attack's result.

use serde::{Deserialize, Serialize};

/// The size of a perturbation, in `[0,1]` pixel units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Norms {
    /// Largest change of any pixel.
    pub linf: f32,
    /// Length of the whole change.
    pub l2: f32,
    /// Pixels changed (by more than 1e-6).
    pub l0: usize,
}

impl Norms {
    /// The norms of `adversarial − original` (same length).
    pub fn between(original: &[f32], adversarial: &[f32]) -> Norms {
        let delta = adversarial.iter().zip(original).map(|(a, o)| a - o);
        let (linf, squares, l0) = delta.fold((0f32, 0f32, 0usize), |(m, s, n), d| (m.max(d.abs()), s + d * d, n + usize::from(d.abs() > 1e-6)));
        Norms { linf, l2: squares.sqrt(), l0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norms_measure_the_change() {
        let original = [0.0, 0.5, 1.0, 0.2];
        let adversarial = [0.3, 0.5, 0.6, 0.2];
        let n = Norms::between(&original, &adversarial);
        assert!((n.linf - 0.4).abs() < 1e-6);
        assert!((n.l2 - 0.5).abs() < 1e-6);
        assert_eq!(n.l0, 2);
    }
}
