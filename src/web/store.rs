//! The browser's IndexedDB, for what must survive a reload: the models a user trained or
//! uploaded (store `models`) and the training run in progress (store `runs`). Every record is
//! `{id, info, bytes}`: a key, a description (a JS object made by serde-wasm-bindgen, so NaN and
//! ±∞ survive; records written by earlier versions hold JSON text) and a safetensors file.
//!
//! Every operation opens the database, runs one transaction and closes it again, so another tab
//! that upgrades the database is never blocked for long; a blocked open fails with a message
//! instead of hanging. The web-sys `Idb*` types do the work; only the creation of the stores (a
//! key path needs `IdbObjectStoreParameters`) goes through `js_sys::Reflect`.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode};

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
#[derive(Clone, Debug)]
pub struct Record {
    /// Its key.
    pub id: String,
    /// What it describes (see [`Record::new`], [`Record::info`]).
    pub info: JsValue,
    /// A safetensors file (may be empty).
    pub bytes: Vec<u8>,
}

impl Record {
    /// Record `id` described by `info`, with `bytes`.
    pub fn new<T: serde::Serialize>(id: &str, info: &T, bytes: Vec<u8>) -> Result<Self, String> {
        Ok(Record { id: id.into(), info: crate::web::protocol::to_js(info)?, bytes })
    }

    /// The description, read as a `T` (also from the JSON text earlier versions stored), or why
    /// it is not one.
    pub fn info<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        match self.info.as_string() {
            Some(text) => serde_json::from_str(&text).map_err(|e| e.to_string()),
            None => crate::web::protocol::from_js(self.info.clone()),
        }
    }

    fn to_js(&self) -> JsValue {
        let object = Object::new();
        let _ = Reflect::set(&object, &"id".into(), &JsValue::from_str(&self.id));
        let _ = Reflect::set(&object, &"info".into(), &self.info);
        let _ = Reflect::set(&object, &"bytes".into(), &Uint8Array::from(self.bytes.as_slice()));
        object.into()
    }

    fn from_js(value: &JsValue) -> Option<Record> {
        let get = |key: &str| Reflect::get(value, &key.into()).ok().filter(|v| !v.is_undefined() && !v.is_null());
        let id = get("id")?.as_string()?;
        let info = get("info")?;
        let bytes = get("bytes")?.dyn_into::<Uint8Array>().ok()?.to_vec();
        Some(Record { id, info, bytes })
    }
}

/// A storage failure as a person can act on it. A full quota says what to do about it.
fn describe(error: Option<DomException>, what: &str) -> String {
    match error {
        Some(e) if e.name() == "QuotaExceededError" => format!(
            "the browser's storage for this page is full, so {what} failed: delete models you no longer need under “Your models”, or allow this site more storage in the browser's settings"
        ),
        Some(e) => format!("browser storage failed ({what}): {}: {}", e.name(), e.message()),
        None => format!("browser storage failed ({what})"),
    }
}

fn js_error(e: JsValue, what: &str) -> String {
    describe(e.dyn_into::<DomException>().ok(), what)
}

/// Resolves with the request's result on `success`, rejects on `error`; the listeners are in
/// place when this returns.
fn request_done(request: &IdbRequest) -> JsFuture {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let r = request.clone();
        let on_ok = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &r.result().unwrap_or(JsValue::UNDEFINED));
        });
        let r = request.clone();
        let on_error = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &r.error().ok().flatten().map_or(JsValue::NULL, JsValue::from));
        });
        request.set_onsuccess(Some(on_ok.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise)
}

/// Resolves when the transaction commits, rejects with its error when it fails or aborts.
fn transaction_done(tx: &IdbTransaction) -> JsFuture {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let on_ok = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let t = tx.clone();
        let on_fail = Closure::<dyn Fn()>::new(move || {
            let _ = reject.call1(&JsValue::NULL, &t.error().map_or(JsValue::NULL, JsValue::from));
        });
        tx.set_oncomplete(Some(on_ok.unchecked_ref()));
        tx.set_onerror(Some(on_fail.as_ref().unchecked_ref()));
        tx.set_onabort(Some(on_fail.as_ref().unchecked_ref()));
        on_fail.forget();
    });
    JsFuture::from(promise)
}

/// Opens the database, creating its stores on first use. Another tab holding an older version
/// open makes this fail with a message (`blocked`) instead of waiting forever; an open
/// database closes itself when another tab upgrades it (`versionchange`).
async fn open() -> Result<IdbDatabase, String> {
    let window = web_sys::window().ok_or("IndexedDB is used from the page only")?;
    let factory = window
        .indexed_db()
        .ok()
        .flatten()
        .ok_or("this browser offers no IndexedDB (a private window?): trained models will not survive a reload")?;
    let request: IdbOpenDbRequest = factory.open_with_u32(DATABASE, 1).map_err(|e| js_error(e, "opening the database"))?;
    let r = request.clone();
    let upgrade = Closure::once_into_js(move || {
        if let Some(db) = r.result().ok().and_then(|db| db.dyn_into::<IdbDatabase>().ok()) {
            let options = web_sys::IdbObjectStoreParameters::new();
            options.set_key_path(&JsValue::from_str("id"));
            for store in [MODELS, RUNS] {
                let _ = db.create_object_store_with_optional_parameters(store, &options);
            }
        }
    });
    request.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let done = request_done(&request);
    let blocked = Closure::once_into_js(move || {
        web_sys::console::warn_1(&"advlab: IndexedDB is blocked by another tab".into());
    });
    request.set_onblocked(Some(blocked.unchecked_ref()));
    let db: IdbDatabase = done
        .await
        .map_err(|e| match e.dyn_into::<DomException>() {
            Ok(e) if e.name() == "VersionError" => "the stored models were written by a newer advlab: reload to get it".to_string(),
            Ok(e) => describe(Some(e), "opening the database"),
            Err(_) => "browser storage failed (opening the database)".to_string(),
        })?
        .dyn_into()
        .map_err(|_| "IndexedDB opened something that is not a database".to_string())?;
    let d = db.clone();
    let on_version_change = Closure::once_into_js(move || d.close());
    db.set_onversionchange(Some(on_version_change.unchecked_ref()));
    Ok(db)
}

/// Runs `op` on `store` in a transaction and waits until the transaction commits.
async fn transact(store: &str, mode: IdbTransactionMode, what: &str, op: impl FnOnce(&web_sys::IdbObjectStore) -> Result<IdbRequest, JsValue>) -> Result<JsValue, String> {
    let db = open().await?;
    let result = async {
        let tx = db.transaction_with_str_and_mode(store, mode).map_err(|e| js_error(e, what))?;
        let committed = transaction_done(&tx);
        let request = op(&tx.object_store(store).map_err(|e| js_error(e, what))?).map_err(|e| js_error(e, what))?;
        let result = request_done(&request).await.map_err(|e| js_error(e, what));
        committed.await.map_err(|e| js_error(e, what))?;
        result
    }
    .await;
    db.close();
    result
}

/// Writes `record` into store `to` and deletes the records `ids` of store `from`, in one
/// transaction: either both happen or neither (a reload at any moment neither loses nor
/// duplicates a model).
pub async fn write_and_delete(to: &str, record: &Record, from: &str, ids: &[&str]) -> Result<(), String> {
    let what = "saving the model";
    let db = open().await?;
    let result = async {
        let stores: Array = [to, from].iter().map(|s| JsValue::from_str(s)).collect();
        let tx = db.transaction_with_str_sequence_and_mode(&stores, IdbTransactionMode::Readwrite).map_err(|e| js_error(e, what))?;
        let committed = transaction_done(&tx);
        tx.object_store(to).and_then(|s| s.put(&record.to_js())).map_err(|e| js_error(e, what))?;
        let source = tx.object_store(from).map_err(|e| js_error(e, what))?;
        for id in ids {
            source.delete(&JsValue::from_str(id)).map_err(|e| js_error(e, what))?;
        }
        committed.await.map(drop).map_err(|e| js_error(e, what))
    }
    .await;
    db.close();
    result
}

/// Every record of `store`, in key order (records of another shape are skipped).
pub async fn list(store: &str) -> Result<Vec<Record>, String> {
    let all = transact(store, IdbTransactionMode::Readonly, "reading the models", |s| s.get_all()).await?;
    Ok(Array::from(&all).iter().filter_map(|v| Record::from_js(&v)).collect())
}

/// The record `id` of `store`, if any.
pub async fn read(store: &str, id: &str) -> Result<Option<Record>, String> {
    let value = transact(store, IdbTransactionMode::Readonly, "reading", |s| s.get(&JsValue::from_str(id))).await?;
    Ok(Record::from_js(&value))
}

/// Writes `record` into `store` (replacing the one with its id).
pub async fn write(store: &str, record: &Record) -> Result<(), String> {
    let value = record.to_js();
    let what = if store == RUNS { "saving the training run" } else { "saving the model" };
    transact(store, IdbTransactionMode::Readwrite, what, |s| s.put(&value)).await.map(drop)
}

/// Deletes record `id` of `store` (nothing happens when there is none).
pub async fn delete(store: &str, id: &str) -> Result<(), String> {
    transact(store, IdbTransactionMode::Readwrite, "deleting", |s| s.delete(&JsValue::from_str(id))).await.map(drop)
}
