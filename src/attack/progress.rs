//! Progress of a running attack: every iterative attack ticks once per iteration (a gradient
//! probe, an Adam step, a DeepFool or JSMA step, a Square query), and whoever runs an attack may
//! watch the count: the page's engine reports it while a long attack runs, so that the lab shows
//! how far it got. [`AttackConfig::iterations`] says how many ticks a run takes at most.
//!
//! The observer is per thread and held by a guard, so the attacks keep their signatures and an
//! attack nobody watches (training's, the CLI's) pays one thread-local read per iteration.

use std::cell::{Cell, RefCell};

use super::{AttackConfig, AttackMethod};

thread_local! {
    static OBSERVER: RefCell<Option<Box<dyn FnMut(usize)>>> = RefCell::new(None);
    static TICKS: Cell<usize> = const { Cell::new(0) };
}

/// Watches the attacks run on this thread until dropped: `observer` hears the number of
/// iterations done so far after each one.
#[must_use = "the observer is removed when the guard is dropped"]
pub struct Watch(());

impl Drop for Watch {
    fn drop(&mut self) {
        OBSERVER.with(|o| o.borrow_mut().take());
    }
}

/// Starts watching (replacing any observer before): `observer(done)` after every iteration, from
/// 1 up, until the returned guard is dropped.
pub fn watch(observer: impl FnMut(usize) + 'static) -> Watch {
    TICKS.with(|t| t.set(0));
    OBSERVER.with(|o| *o.borrow_mut() = Some(Box::new(observer)));
    Watch(())
}

/// One iteration done (called by the attacks).
pub(crate) fn tick() {
    let done = TICKS.with(|t| {
        t.set(t.get() + 1);
        t.get()
    });
    OBSERVER.with(|o| {
        if let Some(observer) = o.borrow_mut().as_mut() {
            observer(done);
        }
    });
}

impl AttackConfig {
    /// The most iterations (progress ticks) one run of this attack takes on a batch: fewer when
    /// AutoAttack's later stages find nothing left to attack.
    pub fn iterations(&self) -> usize {
        let restarts = if self.method.uses_restarts() { self.restarts.max(1) } else { 1 };
        match self.method {
            AttackMethod::Fgsm => 1,
            AttackMethod::Pgd | AttackMethod::PgdL2 => self.steps * restarts,
            AttackMethod::Square => self.square_queries() * restarts,
            AttackMethod::Mim | AttackMethod::DeepFool => self.steps,
            // APGD probes its start and its first step before the loop: steps + 1 per run.
            AttackMethod::Apgd => (self.steps + 1) * restarts,
            AttackMethod::ApgdT => (self.steps + 1) * restarts * self.target_classes,
            AttackMethod::CarliniWagner => self.steps * self.binary_steps,
            AttackMethod::AutoAttack => ((self.steps + 1) * (1 + self.target_classes) + self.square_queries()) * restarts,
            AttackMethod::Jsma => super::projection::l0_budget(self.epsilon) / 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn every_attack_ticks_as_many_times_as_it_says_at_most() {
        let device = crate::fixtures::device();
        let model = crate::model::Classifier::new(crate::model::Architecture::Mlp, &device);
        let (images, labels) = crate::fixtures::mnist().test.batch(&[0, 1], &device);
        for method in AttackMethod::ALL {
            let config = AttackConfig::new(method).with_steps(6).with_queries(Some(4)).with_restarts(2).with_target_classes(2).with_binary_steps(2).with_epsilon(if method == AttackMethod::Jsma { 0.02 } else { 0.3 });
            let seen = Rc::new(Cell::new(0));
            let heard = seen.clone();
            let guard = watch(move |done| heard.set(done));
            let _ = super::super::run(&config, &model, images.clone(), labels.clone()).into_data();
            drop(guard);
            let (done, most) = (seen.get(), config.iterations());
            assert!(done > 0 && done <= most, "{method}: {done} ticks, at most {most} expected");
            if method != AttackMethod::AutoAttack {
                assert_eq!(done, most, "{method}: every iteration ticks");
            }
        }
        // Nobody watches after the guard is gone.
        tick();
    }
}
