//! What a training job keeps in IndexedDB: the run after every epoch (so that a reload, or a
//! new engine after a dead one, resumes it), and the move of a finished run into the zoo.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::TrainingJob;
use super::super::train_run::{Best, Run, Status};
use crate::model::weights;
use crate::web::lock;
use crate::web::store::{self, BEST_EPOCH, CURRENT_RUN, RUNS, Record};

impl TrainingJob {
    /// Saves the run and its last finished epoch's weights, so that a reload resumes it.
    pub(super) fn persist(self) {
        let Some(r) = self.run.get_untracked() else { return };
        let bytes = self.weights_now.get_value().unwrap_or_default();
        spawn_local(async move {
            let saved = match Record::new(CURRENT_RUN, &r, bytes) {
                Ok(record) => store::write(RUNS, &record).await,
                Err(e) => Err(e),
            };
            match saved {
                Ok(()) => self.saved_epochs.set(Some(r.epochs_done)),
                Err(e) => self.problem.set(Some(e)),
            }
        });
    }

    /// The run ended: its last finished epoch joins the zoo and the stored run is dropped, in one
    /// transaction (a reload at any moment finds the run or the model, never both or neither).
    /// The run stays stored, resumable by a reload, when the zoo cannot take the model.
    pub(super) fn conclude(self, final_status: Status) {
        self.status.set(final_status);
        self.speed.set(None);
        self.training_lock.set_value(None);
        let name = self.run.get_untracked().map(|r| r.name);
        let bytes = self.weights_now.get_value();
        spawn_local(async move {
            let dropped = match (name, bytes) {
                (Some(name), Some(bytes)) => {
                    // Another model may have taken the name meanwhile (an upload, a rename).
                    let name = self.zoo.free_id(&name);
                    let added = match weights::metadata(&bytes) {
                        Ok(metadata) => self.zoo.add_from(name.clone(), bytes, metadata, Some((RUNS, &[CURRENT_RUN, BEST_EPOCH]))).await,
                        Err(e) => Err(format!("the last epoch's weights cannot be read ({e}); the run stays stored")),
                    };
                    match added {
                        Ok(()) => {
                            self.finished_model.set(Some(name));
                            true
                        }
                        Err(e) => {
                            self.problem.set(Some(e));
                            false
                        }
                    }
                }
                _ => {
                    if final_status == Status::Stopped {
                        self.problem.set(Some("stopped before the first epoch finished: there is no model to keep".into()));
                    }
                    store::delete(RUNS, CURRENT_RUN).await.is_ok() && store::delete(RUNS, BEST_EPOCH).await.is_ok()
                }
            };
            if dropped {
                self.saved_epochs.set(None);
            }
        });
    }

    /// The run stored in IndexedDB (by an earlier visit, or before its engine died) resumes from
    /// its last finished epoch. A stored run this version cannot read is never dropped with its
    /// weights: they join the zoo.
    pub(super) fn resume_stored(self) {
        spawn_local(async move {
            // Another tab may be training the stored run: it goes on here once that tab lets go
            // of it (at once after a reload), and is read again then.
            if self.training_lock.with_value(Option::is_none) && matches!(store::read(RUNS, CURRENT_RUN).await, Ok(Some(_))) {
                if let Some(held) = lock::take(lock::TRAINING, true).await {
                    self.training_lock.set_value(Some(held));
                }
            }
            match store::read(RUNS, CURRENT_RUN).await {
                Ok(Some(record)) => match record.info::<Run>() {
                    Ok(r) => {
                        let resume = (!record.bytes.is_empty()).then_some(record.bytes);
                        let r = if resume.is_some() { r } else { Run { epochs_done: 0, epochs: Vec::new(), curve: Vec::new(), ..r } };
                        let best = match store::read(RUNS, BEST_EPOCH).await {
                            Ok(Some(b)) if resume.is_some() && !b.bytes.is_empty() => b.info::<Best>().ok().filter(|x| x.epoch <= r.epochs_done).map(|x| (x, b.bytes)),
                            _ => None,
                        };
                        self.weights_now.set_value(resume.clone());
                        self.saved_epochs.set(Some(r.epochs_done));
                        self.launch(r, resume, best);
                    }
                    Err(e) => self.recover(e, record).await,
                },
                Ok(None) => {}
                Err(e) => self.problem.set(Some(e)),
            }
            self.checked.set(true);
        });
    }

    /// A stored run that does not read (`why`): its weights join the zoo, then it is dropped.
    async fn recover(self, why: String, record: Record) {
        let kept = match weights::metadata(&record.bytes) {
            Ok(metadata) => {
                let name = self.zoo.free_id("recovered-run");
                self.zoo
                    .add_from(name.clone(), record.bytes, metadata, Some((RUNS, &[CURRENT_RUN, BEST_EPOCH])))
                    .await
                    .map(|()| format!("its last finished epoch joined your models as `{name}`"))
            }
            Err(_) => store::delete(RUNS, CURRENT_RUN).await.map(|()| "it had no finished epoch".to_string()),
        };
        self.problem.set(Some(match kept {
            Ok(what) => format!("The stored training run could not be read ({why}): {what}."),
            Err(e) => format!("The stored training run could not be read ({why}) and is kept as it is: {e}"),
        }));
    }
}
