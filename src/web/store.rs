//! The browser's IndexedDB, for what must survive a reload: the models a user trained or
//! uploaded (store `models`) and the training run in progress (store `runs`). Every record is
//! `{id, info, bytes}`: a key, a JSON text and a safetensors file.
//!
//! IndexedDB is reached through `js_sys::Reflect` so that the page needs no extra `web-sys`
//! features (each one rebuilds wgpu and leptos).

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Database name.
const DATABASE: &str = "advlab";
/// Store of the models a user trained or uploaded.
pub const MODELS: &str = "models";
/// Store of the training run in progress (one record, id [`CURRENT_RUN`]).
pub const RUNS: &str = "runs";
/// Key of the training run in progress.
pub const CURRENT_RUN: &str = "current";
/// Key of the best epoch of the run in progress (`fgsm-rs`: what the collapse guard restores).
pub const BEST_EPOCH: &str = "best";

/// One stored record.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Its key.
    pub id: String,
    /// JSON text describing it.
    pub info: String,
    /// A safetensors file (may be empty).
    pub bytes: Vec<u8>,
}

fn get(target: &JsValue, key: &str) -> Result<JsValue, String> {
    Reflect::get(target, &JsValue::from_str(key)).map_err(describe)
}

fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f: Function = get(target, method)?.dyn_into().map_err(|_| format!("IndexedDB has no `{method}`"))?;
    f.apply(target, &args.iter().collect::<Array>()).map_err(describe)
}

fn describe(e: JsValue) -> String {
    let message = Reflect::get(&e, &JsValue::from_str("message")).ok().and_then(|m| m.as_string());
    format!("browser storage failed: {}", message.or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}")))
}

/// Resolves when `target` fires `ok` (with `target.result`), rejects when it fires `error`/`abort`;
/// the listeners are in place when this returns.
fn settled(target: &JsValue, ok: &str) -> JsFuture {
    let promise = Promise::new(&mut |resolve, reject| {
        let t = target.clone();
        let on_ok = Closure::once_into_js(move || {
            let result = Reflect::get(&t, &JsValue::from_str("result")).unwrap_or(JsValue::UNDEFINED);
            let _ = resolve.call1(&JsValue::NULL, &result);
        });
        let t = target.clone();
        let reject2 = reject.clone();
        let on_error = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &Reflect::get(&t, &JsValue::from_str("error")).unwrap_or(JsValue::NULL));
        });
        let on_abort = Closure::once_into_js(move || {
            let _ = reject2.call1(&JsValue::NULL, &JsValue::from_str("the transaction was aborted"));
        });
        let _ = Reflect::set(target, &JsValue::from_str(&format!("on{ok}")), &on_ok);
        let _ = Reflect::set(target, &JsValue::from_str("onerror"), &on_error);
        let _ = Reflect::set(target, &JsValue::from_str("onabort"), &on_abort);
    });
    JsFuture::from(promise)
}

/// Opens the database, creating its stores on first use.
async fn open() -> Result<JsValue, String> {
    let factory = get(&js_sys::global(), "indexedDB")?;
    if factory.is_undefined() || factory.is_null() {
        return Err("this browser offers no IndexedDB: trained models will not survive a reload".into());
    }
    let request = call(&factory, "open", &[JsValue::from_str(DATABASE), JsValue::from(1)])?;
    let r = request.clone();
    let upgrade = Closure::once_into_js(move || {
        if let Ok(db) = Reflect::get(&r, &JsValue::from_str("result")) {
            for store in [MODELS, RUNS] {
                let options = Object::new();
                let _ = Reflect::set(&options, &JsValue::from_str("keyPath"), &JsValue::from_str("id"));
                let _ = call(&db, "createObjectStore", &[JsValue::from_str(store), options.into()]);
            }
        }
    });
    Reflect::set(&request, &JsValue::from_str("onupgradeneeded"), &upgrade).map_err(describe)?;
    settled(&request, "success").await.map_err(describe)
}

/// Runs `op` on `store` in a transaction and waits until the transaction commits.
async fn transact(store: &str, mode: &str, op: impl FnOnce(&JsValue) -> Result<JsValue, String>) -> Result<JsValue, String> {
    let db = open().await?;
    let tx = call(&db, "transaction", &[JsValue::from_str(store), JsValue::from_str(mode)])?;
    let request = op(&call(&tx, "objectStore", &[JsValue::from_str(store)])?)?;
    let (done, committed) = (settled(&request, "success"), settled(&tx, "complete"));
    let result = done.await.map_err(describe);
    committed.await.map_err(describe)?;
    let _ = call(&db, "close", &[]);
    result
}

fn to_js(record: &Record) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &JsValue::from_str("id"), &JsValue::from_str(&record.id));
    let _ = Reflect::set(&object, &JsValue::from_str("info"), &JsValue::from_str(&record.info));
    let _ = Reflect::set(&object, &JsValue::from_str("bytes"), &Uint8Array::from(record.bytes.as_slice()));
    object.into()
}

fn from_js(value: &JsValue) -> Option<Record> {
    let id = get(value, "id").ok()?.as_string()?;
    let info = get(value, "info").ok()?.as_string()?;
    let bytes = get(value, "bytes").ok()?.dyn_into::<Uint8Array>().ok()?.to_vec();
    Some(Record { id, info, bytes })
}

/// Every record of `store`, in key order (records of another shape are skipped).
pub async fn list(store: &str) -> Result<Vec<Record>, String> {
    let all = transact(store, "readonly", |s| call(s, "getAll", &[])).await?;
    Ok(Array::from(&all).iter().filter_map(|v| from_js(&v)).collect())
}

/// The record `id` of `store`, if any.
pub async fn read(store: &str, id: &str) -> Result<Option<Record>, String> {
    let value = transact(store, "readonly", |s| call(s, "get", &[JsValue::from_str(id)])).await?;
    Ok(from_js(&value))
}

/// Writes `record` into `store` (replacing the one with its id).
pub async fn write(store: &str, record: &Record) -> Result<(), String> {
    let value = to_js(record);
    transact(store, "readwrite", |s| call(s, "put", &[value])).await.map(drop)
}

/// Deletes record `id` of `store` (nothing happens when there is none).
pub async fn delete(store: &str, id: &str) -> Result<(), String> {
    transact(store, "readwrite", |s| call(s, "delete", &[JsValue::from_str(id)])).await.map(drop)
}
