//! Form pieces the panels share: a text field bound to a signal, parsing a field with its name in
//! the error, and toggling a value in a chosen set.

use leptos::prelude::*;

/// Parses the text of the field called `name`; the error names the field.
pub fn parse<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String> {
    text.trim().parse().map_err(|_| format!("{name}: `{}` is not a valid value", text.trim()))
}

/// Adds `item` to `set` when `on`, removes it otherwise.
pub fn toggle<T: PartialEq + Send + Sync + 'static>(set: RwSignal<Vec<T>>, item: T, on: bool) {
    set.update(|s| {
        s.retain(|x| *x != item);
        if on {
            s.push(item);
        }
    });
}

/// A labelled text field (`data-testid` = `testid`) bound to `value`, updated on `change`.
#[component]
pub fn TextField(
    label: &'static str,
    testid: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] hint: &'static str,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <label class="field">
            {label}
            <input data-testid=testid prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))
                placeholder=hint prop:disabled=move || disabled.get() />
        </label>
    }
}
