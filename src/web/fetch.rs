//! Fetching the site's own files (relative URLs, so the site works under any sub-path), and
//! keeping the big ones (MNIST) in the browser's Cache Storage so that later visits read them
//! from disk whatever caching headers the host sends. Works in the page and in its workers.

use js_sys::Promise;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, CacheStorage, WorkerGlobalScope};

/// Name of the Cache Storage cache holding the datasets (bump it when their files change).
const DATA_CACHE: &str = "advlab-data-v1";

/// What a promise of the browser resolved to, or its error as text.
async fn settle(promise: Promise, what: &str) -> Result<wasm_bindgen::JsValue, String> {
    JsFuture::from(promise).await.map_err(|e| format!("{what}: {}", e.as_string().unwrap_or_else(|| format!("{e:?}"))))
}

/// `fetch(url)` of the global scope: a window or a worker alike.
fn fetch_promise(url: &str) -> Result<Promise, String> {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        Ok(window.fetch_with_str(url))
    } else if let Some(worker) = global.dyn_ref::<WorkerGlobalScope>() {
        Ok(worker.fetch_with_str(url))
    } else {
        Err(format!("cannot fetch {url}: neither a page nor a worker"))
    }
}

/// The scope's Cache Storage (absent on insecure origins).
fn cache_storage() -> Option<CacheStorage> {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        window.caches().ok()
    } else {
        global.dyn_ref::<WorkerGlobalScope>().and_then(|w| w.caches().ok())
    }
}

/// The datasets' cache, when the browser offers one.
async fn data_cache() -> Option<Cache> {
    settle(cache_storage()?.open(DATA_CACHE), "caches.open").await.ok()?.dyn_into().ok()
}

/// The response at `url`, when it is a success.
async fn response(url: &str) -> Result<web_sys::Response, String> {
    let response = settle(fetch_promise(url)?, &format!("cannot fetch {url}")).await?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| format!("{url}: not a response"))?;
    if !response.ok() {
        return Err(format!("cannot fetch {url}: HTTP {}", response.status()));
    }
    Ok(response)
}

/// The body of `response`.
async fn body(response: &web_sys::Response, url: &str) -> Result<Vec<u8>, String> {
    let buffer = response.array_buffer().map_err(|e| format!("{url}: {e:?}"))?;
    let buffer = settle(buffer, url).await?;
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
    let Some(cache) = data_cache().await else { return bytes(url).await };
    if let Ok(hit) = settle(cache.match_with_str(url), "cache.match").await {
        if let Ok(hit) = hit.dyn_into::<web_sys::Response>() {
            if let Ok(data) = body(&hit, url).await {
                return Ok(data);
            }
        }
    }
    let fresh = response(url).await?;
    if let Ok(copy) = fresh.clone() {
        // A full disk only costs the next visit a download.
        let _ = settle(cache.put_with_str(url, &copy), "cache.put").await;
    }
    body(&fresh, url).await
}

/// Drops `url` from the datasets' Cache Storage (a copy found to be wrong).
pub async fn forget(url: &str) {
    if let Some(cache) = data_cache().await {
        let _ = settle(cache.delete_with_str(url), "cache.delete").await;
    }
}
