//! A training run as the train panel holds it (and IndexedDB stores it), its status, and its
//! charts.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::chart::{LineChart, Marker, PALETTE, Series};
use crate::train::{Defense, EpochReport, TrainConfig};

/// One finished epoch as the panel shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct EpochPoint {
    pub(super) report: EpochReport,
    pub(super) test_accuracy: f32,
}

/// One point of the per-batch curves; `x` counts epochs (fractional).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct CurvePoint {
    pub(super) x: f32,
    pub(super) loss: f32,
    pub(super) accuracy: f32,
}

/// A training run as stored in IndexedDB (with the weights of its last finished epoch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Run {
    /// Id the model gets in the zoo.
    pub(super) name: String,
    pub(super) config: TrainConfig,
    pub(super) epochs_done: usize,
    pub(super) epochs: Vec<EpochPoint>,
    pub(super) curve: Vec<CurvePoint>,
}

/// What the store keeps about the best epoch (its weights are the record's bytes).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Best {
    pub(super) epoch: usize,
    pub(super) accuracy: f32,
}

/// Per-batch points kept for the curves; beyond this every other one is dropped.
pub(super) const CURVE_POINTS: usize = 2000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Idle,
    Loading,
    Running,
    Paused,
    Finished,
    Stopped,
    Failed,
}

/// The run's curves: loss per batch, and accuracy per batch with the held-out checks per epoch,
/// marking where the collapse guard or a diverged loss stopped the run.
#[component]
pub(super) fn TrainCharts(run: RwSignal<Option<Run>>) -> impl IntoView {
    // Memos: the charts read their series twice (lines and legend) on every progress message.
    let loss_series = Memo::new(move |_| {
        let points = run.with(|r| r.as_ref().map(|r| r.curve.iter().map(|p| (p.x, p.loss)).collect()).unwrap_or_default());
        vec![Series { name: "training loss".into(), color: PALETTE[0], points, dots: false }]
    });
    let accuracy_series = Memo::new(move |_| run.with(|r| {
        let Some(r) = r.as_ref() else { return Vec::new() };
        let adversarial = r.config.defense != Defense::None;
        let mut series = vec![Series {
            name: if adversarial { "batch accuracy (adversarial inputs)".into() } else { "batch accuracy".into() },
            color: PALETTE[0],
            points: r.curve.iter().map(|p| (p.x, p.accuracy)).collect(),
            dots: false,
        }];
        let per_epoch = |f: fn(&EpochPoint) -> Option<f32>| r.epochs.iter().filter_map(|e| f(e).map(|v| (e.report.epoch as f32, v))).collect::<Vec<_>>();
        series.push(Series { name: "held-out clean".into(), color: PALETTE[2], points: per_epoch(|e| Some(e.report.validation_accuracy)), dots: true });
        if adversarial {
            series.push(Series { name: "held-out PGD-10".into(), color: PALETTE[1], points: per_epoch(|e| e.report.validation_robust_accuracy), dots: true });
        }
        series
    }));
    let markers = Signal::derive(move || {
        run.with(|r| {
            r.as_ref()
                .and_then(|r| r.epochs.iter().find(|e| e.report.stopped.is_some()))
                .map(|e| {
                    // The collapse guard or a diverged run (NaN/∞ loss): its report says which.
                    let why = if e.report.stopped.as_deref().is_some_and(|s| s.contains("diverged")) { "diverged: stopped" } else { "collapse: stopped" };
                    vec![Marker { x: e.report.epoch as f32, text: why.into() }]
                })
                .unwrap_or_default()
        })
    });
    view! {
        <div class="grid">
            <LineChart series=loss_series.into() x_label="epoch" y_label="loss" testid="train-loss-chart" />
            <LineChart series=accuracy_series.into() markers=markers y_range=(0.0, 1.0) x_label="epoch" y_label="accuracy" testid="train-accuracy-chart" />
        </div>
    }
}

/// `seconds` as `1 h 5 min`, `3 min 20 s` or `12 s`.
pub(super) fn duration(seconds: f32) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}
