//! The model zoo: models a user trained or uploaded, next to the pretrained ones. They live in
//! IndexedDB (so they survive a reload) and are served to the workers as `blob:` URLs.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::model::weights::Metadata;
pub use crate::page::zoo::{describe, model_id};
use crate::web::store::{self, MODELS, Record};

/// A model of the zoo.
#[derive(Clone, Debug, PartialEq)]
pub struct ZooModel {
    /// Its id (the `model-select` value): lowercase letters, digits, `-`, `_` and `.`.
    pub id: String,
    /// What its file says about it.
    pub metadata: Metadata,
    /// A `blob:` URL of its safetensors file.
    pub url: String,
    /// Size of the file in bytes.
    pub size: usize,
}

/// The zoo's models, shared by the page's panels (a leptos context).
#[derive(Clone, Copy)]
pub struct Zoo {
    /// The models, oldest first.
    pub models: RwSignal<Vec<ZooModel>>,
    /// True once [`Zoo::load`] has read IndexedDB (the `zoo-list` hook's `data-loaded`).
    pub loaded: RwSignal<bool>,
    /// Tells the site's other tabs that the stored models changed (they read them again).
    channel: StoredValue<Option<web_sys::BroadcastChannel>, LocalStorage>,
}

/// The BroadcastChannel the site's tabs announce zoo changes on.
const ZOO_CHANNEL: &str = "advlab-zoo";

/// A `blob:` URL holding `bytes`, for the workers to fetch and for downloads.
pub fn blob_url(bytes: &[u8]) -> Result<String, String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(|e| format!("{e:?}"))?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))
}

impl Zoo {
    /// An empty zoo; [`Zoo::load`] fills it from IndexedDB.
    pub fn new() -> Self {
        let channel = web_sys::BroadcastChannel::new(ZOO_CHANNEL).ok();
        let zoo = Zoo { models: RwSignal::new(Vec::new()), loaded: RwSignal::new(false), channel: StoredValue::new_local(channel.clone()) };
        if let Some(channel) = channel {
            // Another tab added, renamed or deleted a model: read the store again.
            let on_message = Closure::<dyn Fn()>::new(move || {
                spawn_local(async move {
                    let _ = zoo.load().await;
                });
            });
            channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
        }
        zoo
    }

    /// Tells the other tabs that the stored models changed.
    fn announce(self) {
        self.channel.with_value(|c| {
            if let Some(c) = c {
                let _ = c.post_message(&JsValue::from_str("changed"));
            }
        });
    }

    /// Reads the stored models (records that are not models are skipped). A model already
    /// listed keeps its `blob:` URL (the model in use is not reloaded); the URLs of models that
    /// went are released.
    pub async fn load(self) -> Result<(), String> {
        let records = store::list(MODELS).await?;
        let before = self.models.get_untracked();
        let models: Vec<ZooModel> = records
            .into_iter()
            .filter_map(|r| {
                let metadata = r.info().ok()?;
                match before.iter().find(|m| m.id == r.id && m.size == r.bytes.len() && m.metadata == metadata) {
                    Some(kept) => Some(kept.clone()),
                    None => Some(ZooModel { url: blob_url(&r.bytes).ok()?, size: r.bytes.len(), id: r.id, metadata }),
                }
            })
            .collect();
        for gone in before.iter().filter(|b| !models.iter().any(|m| m.url == b.url)) {
            let _ = web_sys::Url::revoke_object_url(&gone.url);
        }
        self.models.set(models);
        self.loaded.set(true);
        Ok(())
    }

    /// Every model id, pretrained first, then the zoo's (tracked).
    pub fn ids(self) -> Vec<String> {
        let mut ids: Vec<String> = crate::web::PRETRAINED.iter().map(|s| s.to_string()).collect();
        self.models.with(|m| ids.extend(m.iter().map(|m| m.id.clone())));
        ids
    }

    /// The zoo model `id`, if there is one.
    pub fn get(self, id: &str) -> Option<ZooModel> {
        self.models.with_untracked(|m| m.iter().find(|m| m.id == id).cloned())
    }

    /// `base`, or `base-2`, `base-3`, … : the first id no model has.
    pub fn free_id(self, base: &str) -> String {
        let taken = |id: &str| crate::web::PRETRAINED.contains(&id) || self.get(id).is_some();
        if !taken(base) {
            return base.to_string();
        }
        (2..).map(|k| format!("{base}-{k}")).find(|id| !taken(id)).expect("an unused id exists")
    }

    /// Stores a model (replacing one with the same id) and lists it.
    pub async fn add(self, id: String, bytes: Vec<u8>, metadata: Metadata) -> Result<(), String> {
        self.add_from(id, bytes, metadata, None).await
    }

    /// Stores a model and, in the same transaction, deletes the records `ids` of store `from`
    /// (a finished training run becomes a model: never both, never neither); then lists it.
    pub async fn add_from(self, id: String, bytes: Vec<u8>, metadata: Metadata, from: Option<(&str, &[&str])>) -> Result<(), String> {
        let record = Record::new(&id, &metadata, bytes.clone())?;
        match from {
            Some((store, ids)) => store::write_and_delete(MODELS, &record, store, ids).await?,
            None => store::write(MODELS, &record).await?,
        }
        let model = ZooModel { url: blob_url(&bytes)?, size: bytes.len(), id: id.clone(), metadata };
        self.models.update(|m| match m.iter_mut().find(|m| m.id == id) {
            Some(slot) => {
                let _ = web_sys::Url::revoke_object_url(&slot.url);
                *slot = model;
            }
            None => m.push(model),
        });
        self.announce();
        Ok(())
    }

    /// Deletes model `id`.
    pub async fn remove(self, id: String) -> Result<(), String> {
        store::delete(MODELS, &id).await?;
        if let Some(model) = self.get(&id) {
            let _ = web_sys::Url::revoke_object_url(&model.url);
        }
        self.models.update(|m| m.retain(|m| m.id != id));
        self.announce();
        Ok(())
    }

    /// Renames model `id` to `name` (made into an id); returns the new id.
    pub async fn rename(self, id: String, name: &str) -> Result<String, String> {
        let new_id = model_id(name)?;
        if new_id == id {
            return Ok(new_id);
        }
        if self.get(&new_id).is_some() || crate::web::PRETRAINED.contains(&new_id.as_str()) {
            return Err(format!("a model named `{new_id}` exists already: choose another name"));
        }
        let record = store::read(MODELS, &id).await?.ok_or_else(|| format!("model `{id}` is not stored"))?;
        // One transaction: a reload at any moment finds the model under one name, never two.
        store::write_and_delete(MODELS, &Record { id: new_id.clone(), ..record }, MODELS, &[&id]).await?;
        self.models.update(|m| {
            if let Some(model) = m.iter_mut().find(|m| m.id == id) {
                model.id = new_id.clone();
            }
        });
        self.announce();
        Ok(new_id)
    }
}

/// The largest weights file an upload may be, in bytes: far above any model advlab trains (the
/// CNN is 0.8 MB), far below what would strain the tab's memory.
pub const MAX_UPLOAD_BYTES: f64 = 64.0 * 1024.0 * 1024.0;

/// The file chosen in a file input: its name and bytes (`None`: nothing chosen), or why it cannot
/// be used. Its size is checked before a byte is read.
async fn chosen_file(input: &web_sys::HtmlInputElement) -> Result<Option<(String, Vec<u8>)>, String> {
    let Some(file) = input.files().and_then(|files| files.get(0)) else { return Ok(None) };
    let name = file.name();
    if file.size() > MAX_UPLOAD_BYTES {
        return Err(format!(
            "`{name}` is {:.0} MB: uploads are limited to {:.0} MB (advlab's models are about 1 MB); nothing was read",
            file.size() / 1048576.0,
            MAX_UPLOAD_BYTES / 1048576.0
        ));
    }
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await.map_err(|_| format!("`{name}` could not be read"))?;
    Ok(Some((name, js_sys::Uint8Array::new(&buffer).to_vec())))
}

/// The zoo panel: each stored model with rename, delete and download (`zoo-item`, `zoo-rename`,
/// `zoo-delete`, `zoo-download`), and the upload of a weights file (`model-upload`), which
/// `on_upload` validates. `on_use` selects a model in the attack lab; `on_removed` and
/// `on_renamed` (old, new id) tell the page a model went or moved.
#[component]
pub fn ZooPanel(
    zoo: Zoo,
    on_upload: Callback<(String, Vec<u8>)>,
    on_use: Callback<String>,
    on_removed: Callback<String>,
    on_renamed: Callback<(String, String)>,
) -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<String>);
    let upload = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        spawn_local(async move {
            match chosen_file(&input).await {
                Ok(Some((name, bytes))) => on_upload.run((name, bytes)),
                Ok(None) => {}
                Err(e) => problem.set(Some(e)),
            }
            input.set_value("");
        });
    };
    let rename = move |id: String, name: String| {
        spawn_local(async move {
            match zoo.rename(id.clone(), &name).await {
                Ok(new_id) => {
                    problem.set(None);
                    editing.set(None);
                    if new_id != id {
                        on_renamed.run((id, new_id));
                    }
                }
                Err(e) => problem.set(Some(e)),
            }
        });
    };
    let remove = move |id: String| {
        spawn_local(async move {
            match zoo.remove(id.clone()).await {
                Ok(()) => on_removed.run(id),
                Err(e) => problem.set(Some(e)),
            }
        });
    };
    let rows = move || {
        zoo.models
            .get()
            .into_iter()
            .map(|m| {
                // The row's model id, shared by its buttons.
                let id = StoredValue::new(m.id.clone());
                let is_editing = move || editing.with(|e| e.as_deref() == Some(id.read_value().as_str()));
                view! {
                    <li class="zoo-item" data-testid="zoo-item" data-id=m.id.clone() data-epochs=m.metadata.epochs.to_string()>
                        <div class="stack">
                            <Show when=is_editing fallback=move || view! { <strong class="mono">{id.get_value()}</strong> }>
                                <input class="mono" data-testid="zoo-name" prop:value=id.get_value() aria-label="New name"
                                    on:change=move |ev| rename(id.get_value(), event_target_value(&ev)) />
                            </Show>
                            <span class="muted small">{describe(&m.metadata)} {format!(" · {} kB", m.size / 1000)}</span>
                        </div>
                        <span class="spacer"></span>
                        <button class="ghost" data-testid="zoo-use" on:click=move |_| on_use.run(id.get_value())>"Use"</button>
                        <button class="ghost" data-testid="zoo-rename" on:click=move |_| editing.set(Some(id.get_value()))>"Rename"</button>
                        <a class="button ghost" data-testid="zoo-download" href=m.url.clone() download=format!("{}.safetensors", m.id)>"Download"</a>
                        <button class="danger" data-testid="zoo-delete" on:click=move |_| remove(id.get_value())>"Delete"</button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card">
            <h2 class="card-title">"Your models"</h2>
            <p class="muted small">"Models you trained here or uploaded. They are kept in this browser (IndexedDB) and appear in every model picker. Files are safetensors in PyTorch's layout: "<code>"torch.nn"</code>" loads them unchanged."</p>
            <Show when=move || zoo.models.with(|m| m.is_empty())>
                <p class="muted small" data-testid="zoo-empty">"None yet: train one below or upload a file."</p>
            </Show>
            <ul class="zoo-list" data-testid="zoo-list" data-loaded=move || zoo.loaded.get().to_string()>{rows}</ul>
            <label class="field">
                "Upload a weights file (.safetensors)"
                <input type="file" accept=".safetensors,application/octet-stream" data-testid="model-upload" on:change=upload />
            </label>
            {move || problem.get().map(|p| view! { <div class="alert alert-warn small" role="status">{p}</div> })}
        </section>
    }
}
