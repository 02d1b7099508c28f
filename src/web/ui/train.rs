//! The train panel: the form of the next run, its controls, live curves, the collapse guard
//! made visible, and a run that survives a reload. It is a view of a [`TrainingJob`].

use leptos::prelude::*;

use super::train_form::TrainForm;
use super::train_job::TrainingJob;
use super::train_run::{Status, TrainCharts, duration};
use super::zoo::Zoo;
use crate::model::Architecture;
use crate::train::{Defense, TrainConfig};
use super::backends::Backends;
use crate::calibration::Job;
use crate::web::protocol::{DataUrls, TrainAction};

/// The train panel. `backend` is the backend the user chose, `data` the dataset URLs; a
/// finished or stopped run joins `zoo`, and `on_use` selects it in the lab.
#[component]
pub fn TrainPanel(zoo: Zoo, data: Signal<DataUrls>, on_use: Callback<String>) -> impl IntoView {
    // The next run, edited by the form (always a valid configuration).
    let config = RwSignal::new(TrainConfig::interactive(Architecture::Mlp, Defense::None));
    let job = TrainingJob::new(zoo, data);
    let backends = expect_context::<Backends>();
    let runs_on = move || backends.of(Job::Training).map(|b| b.name()).unwrap_or("auto");
    let TrainingJob { run, status, progress, speed, problem, finished_model, checked, saved_epochs, .. } = job;
    let busy = move || job.busy();
    let start = move || job.start(config.get_untracked());
    let control = move |action| job.control(action);
    let last_test = move || run.with(|r| r.as_ref().and_then(|r| r.epochs.last().map(|e| e.test_accuracy)));
    let collapse_note = move || run.with(|r| r.as_ref().and_then(|r| r.epochs.iter().find_map(|e| e.report.stopped.clone())));
    let status_text = move || {
        let epoch_text = run.with(|r| r.as_ref().map(|r| format!("epoch {} of {}", (r.epochs_done + 1).min(r.config.epochs), r.config.epochs)).unwrap_or_default());
        match status.get() {
            Status::Idle => "Not started".to_string(),
            Status::Loading => format!("Starting ({epoch_text}): fetching the training set and starting the backend…"),
            Status::Running => format!("Training, {epoch_text}, on {}", runs_on()),
            Status::Paused => format!("Paused, {epoch_text}"),
            Status::Finished => "Finished".to_string(),
            Status::Stopped => "Stopped: the last finished epoch is kept".to_string(),
            Status::Failed => "Failed".to_string(),
        }
    };

    view! {
        <section class="card" id="train">
            <h2 class="card-title">"Train"</h2>
            <p class="muted small">"Train a classifier on the 60,000 MNIST training images, in a Web Worker on this page's backend. "
                <strong>"mixed"</strong>" adds FGSM images to the loss with weight λ; "<strong>"fgsm-rs"</strong>" is fast adversarial training (FGSM from a random start, Wong et al. 2020), guarded against catastrophic overfitting: when held-out PGD accuracy collapses, the best epoch is restored and training stops; "
                <strong>"pgd"</strong>" is Madry et al.'s PGD-10 training; "<strong>"trades"</strong>" trades accuracy for robustness with weight β (Zhang et al. 2019); "<strong>"noise"</strong>" trains on randomly perturbed images (a baseline, not a defense against worst-case attacks). Weight decay and the input-gradient penalty combine with any of them. 1,000 training images are held out to check every epoch. A reload resumes the run from its last finished epoch."</p>
            <TrainForm config=config disabled=Signal::derive(busy) />
            <div class="toolbar">
                <button class="primary" data-testid="train-start" on:click=move |_| start() prop:disabled=move || busy() || !checked.get()>"Start"</button>
                <Show when=move || status.get() == Status::Paused
                    fallback=move || view! { <button data-testid="train-pause" on:click=move |_| control(TrainAction::Pause) prop:disabled=move || status.get() != Status::Running>"Pause"</button> }>
                    <button data-testid="train-resume" on:click=move |_| control(TrainAction::Resume)>"Resume"</button>
                </Show>
                <button class="danger" data-testid="train-stop" on:click=move |_| control(TrainAction::Stop) prop:disabled=move || !busy()>"Stop"</button>
                <span class="muted small" data-testid="train-status" data-value=move || format!("{:?}", status.get()).to_lowercase() data-backend=runs_on
                    data-checked=move || checked.get().to_string() data-saved-epochs=move || saved_epochs.get().map(|e| e.to_string()).unwrap_or_default()>{status_text}</span>
            </div>
            <div class="progress" data-testid="train-progress" data-value=move || progress.get().to_string() style=move || format!("--p: {}", progress.get())
                role="progressbar" aria-valuemin="0" aria-valuemax="1" aria-valuenow=move || progress.get().to_string()></div>
            <p class="muted small" data-testid="train-speed" data-value=move || speed.get().map(|s| s.0.to_string()).unwrap_or_default()>
                {move || speed.get().map(|(rate, eta)| format!("{rate:.0} examples/s · about {} left", duration(eta))).unwrap_or_default()}
            </p>
            {move || run.with(|r| r.as_ref().map(|r| view! {
                <p class="small" data-testid="train-epochs-done" data-value=r.epochs_done.to_string()>
                    {format!("Model `{}`: {} of {} epochs finished", r.name, r.epochs_done, r.config.epochs)}
                </p>
            }))}
            {move || last_test().map(|a| view! {
                <p class="metric inline-metric" data-testid="train-test-accuracy" data-value=a.to_string()><span>"test accuracy after the last epoch"</span><span class="metric-value">{format!("{:.2}%", a * 100.0)}</span></p>
            })}
            {move || collapse_note().map(|n| view! { <div class="alert alert-warn small" data-testid="train-collapse">{n}</div> })}
            <TrainCharts run=run />
            {move || finished_model.get().map(|id| {
                let text = format!("`{id}` joined your models. ");
                view! {
                    <div class="alert alert-info small" data-testid="train-done">
                        {text}
                        <button class="ghost" on:click=move |_| on_use.run(id.clone())>"Attack it"</button>
                    </div>
                }
            })}
            {move || problem.get().map(|p| view! { <div class="alert alert-error small" role="alert" data-testid="train-error">{p}</div> })}
        </section>
    }
}
