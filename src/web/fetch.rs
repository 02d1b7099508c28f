//! Fetching the site's own files (relative URLs, so the site works under any sub-path), and
//! keeping the big ones (MNIST) in the browser's Cache Storage so that later visits read them
//! from disk whatever caching headers the host sends.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Name of the Cache Storage cache holding the datasets (bump it when their files change).
const DATA_CACHE: &str = "advlab-data-v1";

/// Calls `target.method(args…)` and awaits the promise it returns.
async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f: Function = Reflect::get(target, &method.into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| format!("this browser has no `{method}`"))?;
    let promise: Promise = f
        .apply(target, &args.iter().collect::<js_sys::Array>())
        .map_err(|e| format!("{method}: {e:?}"))?
        .dyn_into()
        .map_err(|_| format!("{method} returned no promise"))?;
    JsFuture::from(promise).await.map_err(|e| format!("{method}: {e:?}"))
}

/// The response at `url`, when it is a success.
async fn response(url: &str) -> Result<web_sys::Response, String> {
    // `fetch` of the global scope: a window or a worker alike.
    let response = call(&js_sys::global(), "fetch", &[url.into()]).await.map_err(|e| format!("cannot fetch {url}: {e}"))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| format!("{url}: not a response"))?;
    if !response.ok() {
        return Err(format!("cannot fetch {url}: HTTP {}", response.status()));
    }
    Ok(response)
}

/// The body of `response`.
async fn body(response: &web_sys::Response, url: &str) -> Result<Vec<u8>, String> {
    let buffer = response.array_buffer().map_err(|e| format!("{url}: {e:?}"))?;
    let buffer = JsFuture::from(buffer).await.map_err(|e| format!("{url}: {e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The bytes at `url` (relative to the page, or absolute from a worker), or a message naming the
/// URL and the problem.
pub async fn bytes(url: &str) -> Result<Vec<u8>, String> {
    body(&response(url).await?, url).await
}

/// Like [`bytes`], through Cache Storage: the first call stores the file, later ones (in this
/// visit or the next) read it from there. Without Cache Storage (an insecure origin) or when it
/// refuses (quota), the file is simply fetched.
pub async fn cached_bytes(url: &str) -> Result<Vec<u8>, String> {
    let caches = Reflect::get(&js_sys::global(), &"caches".into()).unwrap_or(JsValue::UNDEFINED);
    if caches.is_undefined() || caches.is_null() {
        return bytes(url).await;
    }
    let Ok(cache) = call(&caches, "open", &[DATA_CACHE.into()]).await else { return bytes(url).await };
    if let Ok(hit) = call(&cache, "match", &[url.into()]).await {
        if let Ok(hit) = hit.dyn_into::<web_sys::Response>() {
            if let Ok(data) = body(&hit, url).await {
                return Ok(data);
            }
        }
    }
    let fresh = response(url).await?;
    if let Ok(copy) = fresh.clone() {
        // A full disk only costs the next visit a download.
        let _ = call(&cache, "put", &[url.into(), copy.into()]).await;
    }
    body(&fresh, url).await
}

/// Drops `url` from the datasets' Cache Storage (a copy found to be wrong).
pub async fn forget(url: &str) {
    let caches = Reflect::get(&js_sys::global(), &"caches".into()).unwrap_or(JsValue::UNDEFINED);
    if caches.is_undefined() || caches.is_null() {
        return;
    }
    if let Ok(cache) = call(&caches, "open", &[DATA_CACHE.into()]).await {
        let _ = call(&cache, "delete", &[url.into()]).await;
    }
}
