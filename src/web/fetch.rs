//! Fetching the site's own files (relative URLs, so the site works under any sub-path).

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The bytes at `url` (relative to the page, or absolute from a worker), or a message naming the
/// URL and the problem.
pub async fn bytes(url: &str) -> Result<Vec<u8>, String> {
    // `fetch` of the global scope, a window or a worker alike.
    let scope = js_sys::global();
    let fetch: js_sys::Function = js_sys::Reflect::get(&scope, &"fetch".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| format!("cannot fetch {url}: this browser has no fetch"))?;
    let promise: js_sys::Promise = fetch
        .call1(&scope, &url.into())
        .map_err(|e| format!("cannot fetch {url}: {e:?}"))?
        .dyn_into()
        .map_err(|_| format!("cannot fetch {url}: fetch returned no promise"))?;
    let response = JsFuture::from(promise).await.map_err(|e| format!("cannot fetch {url}: {e:?}"))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| format!("{url}: not a response"))?;
    if !response.ok() {
        return Err(format!("cannot fetch {url}: HTTP {}", response.status()));
    }
    let buffer = response.array_buffer().map_err(|e| format!("{url}: {e:?}"))?;
    let buffer = JsFuture::from(buffer).await.map_err(|e| format!("{url}: {e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
