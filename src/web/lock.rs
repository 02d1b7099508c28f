//! Web Locks between the tabs of this site: one training run at a time, so two tabs never
//! write the same stored run. (web-sys marks `LockManager` unstable, so `navigator.locks` is
//! reached through `js_sys::Reflect`.)

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The lock held by the tab that trains.
pub const TRAINING: &str = "advlab-training";

/// A held lock; dropping it releases it (a closed tab releases its locks too).
pub struct HeldLock(Option<Function>);

impl Drop for HeldLock {
    fn drop(&mut self) {
        if let Some(release) = self.0.take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

/// Takes lock `name`: at once or not at all (`wait == false`: `None` when another tab holds
/// it), or once the tab holding it lets go (`wait == true`). Browsers without Web Locks get a
/// lock that guards nothing.
pub async fn take(name: &str, wait: bool) -> Option<HeldLock> {
    let Some(window) = web_sys::window() else { return Some(HeldLock(None)) };
    let locks = Reflect::get(&window.navigator(), &"locks".into()).unwrap_or(JsValue::UNDEFINED);
    let request = Reflect::get(&locks, &"request".into()).ok().and_then(|f| f.dyn_into::<Function>().ok());
    let Some(request) = request.filter(|_| !locks.is_undefined()) else { return Some(HeldLock(None)) };
    let options = Object::new();
    let _ = Reflect::set(&options, &"ifAvailable".into(), &JsValue::from_bool(!wait));
    // Resolves with the function that releases the lock, or with `false` when it is taken.
    let acquired = Promise::new(&mut |granted, _| {
        let answer = granted.clone();
        let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
            let granted = answer;
            if lock.is_null() {
                let _ = granted.call1(&JsValue::NULL, &JsValue::FALSE);
                return JsValue::UNDEFINED;
            }
            // The lock is held until this promise settles: its resolver is the release.
            Promise::new(&mut |release, _| {
                let _ = granted.call1(&JsValue::NULL, &release);
            })
            .into()
        });
        if request.call3(&locks, &JsValue::from_str(name), &options, &callback).is_err() {
            let _ = granted.call1(&JsValue::NULL, &JsValue::TRUE);
        }
    });
    match JsFuture::from(acquired).await {
        Ok(release) => match release.dyn_into::<Function>() {
            Ok(release) => Some(HeldLock(Some(release))),
            // `true`: the request itself failed (no lock manager after all): nothing to guard.
            Err(v) if v.as_bool() == Some(true) => Some(HeldLock(None)),
            Err(_) => None,
        },
        Err(_) => Some(HeldLock(None)),
    }
}
