//! Form pieces the panels share: fields that edit one value of a typed config (the text becomes
//! a value once, here, and every edit is checked by the config's own validation, its message
//! shown next to the field), and toggling a value in a chosen set.

use std::fmt::Display;
use std::str::FromStr;

use leptos::prelude::*;

use crate::page::field::FieldValue;

/// Adds `item` to `set` when `on`, removes it otherwise.
pub fn toggle<T: PartialEq + Send + Sync + 'static>(set: RwSignal<Vec<T>>, item: T, on: bool) {
    set.update(|s| {
        s.retain(|x| *x != item);
        if on {
            s.push(item);
        }
    });
}

/// How a field reaches its value in a config `C`: read it, write it, and check a whole config
/// (the config's `validate`, its message as text).
pub struct Binding<C, T> {
    /// The value in the config.
    pub get: fn(&C) -> T,
    /// Writes the value into the config.
    pub set: fn(&mut C, T),
    /// The config's validation.
    pub check: fn(&C) -> Result<(), String>,
}

impl<C, T> Clone for Binding<C, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C, T> Copy for Binding<C, T> {}

/// Applies `value` to a copy of `config`; the copy replaces it when `check` accepts it,
/// otherwise the message is returned and `config` is left as it was.
fn apply<C: Clone + Send + Sync + 'static, T>(config: RwSignal<C>, binding: &Binding<C, T>, value: T) -> Result<(), String> {
    let mut next = config.get_untracked();
    (binding.set)(&mut next, value);
    (binding.check)(&next)?;
    config.set(next);
    Ok(())
}

/// A labelled text field (`data-testid` = `testid`) editing one value of `config`, read when the
/// field changes (Enter or leaving it). Text that does not read as a value, or a value the
/// config refuses, is shown next to the field (`{testid}-error`) and changes nothing; the field
/// keeps the text so it can be corrected.
pub fn config_field<C, T>(label: &'static str, testid: &'static str, config: RwSignal<C>, binding: Binding<C, T>, hint: &'static str, disabled: Signal<bool>) -> impl IntoView
where
    C: Clone + Send + Sync + 'static,
    T: FieldValue + 'static,
{
    field(label.into(), testid, config, binding, hint, disabled, false)
}

/// Like [`config_field`], read on every keystroke (a value that drives live work, like ε).
pub fn config_field_live<C, T>(label: Signal<String>, testid: &'static str, config: RwSignal<C>, binding: Binding<C, T>, hint: &'static str, disabled: Signal<bool>) -> impl IntoView
where
    C: Clone + Send + Sync + 'static,
    T: FieldValue + 'static,
{
    field(label, testid, config, binding, hint, disabled, true)
}

fn field<C, T>(label: Signal<String>, testid: &'static str, config: RwSignal<C>, binding: Binding<C, T>, hint: &'static str, disabled: Signal<bool>, live: bool) -> impl IntoView
where
    C: Clone + Send + Sync + 'static,
    T: FieldValue + 'static,
{
    let problem = RwSignal::new(None::<String>);
    let get = binding.get;
    let read = move |ev: leptos::ev::Event| {
        let outcome = T::read(&event_target_value(&ev)).and_then(|value| apply(config, &binding, value));
        problem.set(outcome.err());
    };
    view! {
        <label class="field">
            {move || label.get()}
            <input data-testid=testid prop:value=move || config.with(|c| get(c).show()) placeholder=hint
                on:input=move |ev| if live { read(ev) } on:change=move |ev| if !live { read(ev) }
                prop:disabled=move || disabled.get() aria-invalid=move || problem.with(Option::is_some).to_string() />
            {move || problem.get().map(|p| view! { <span class="field-error small" role="alert" data-testid=format!("{testid}-error")>{p}</span> })}
        </label>
    }
}

/// A labelled select (`data-testid` = `testid`) choosing one of `options` for a value of
/// `config`; option values are the names (`Display`/`FromStr`) of the options.
pub fn config_choice<C, T>(label: &'static str, testid: &'static str, config: RwSignal<C>, options: &'static [T], binding: Binding<C, T>, disabled: Signal<bool>) -> impl IntoView
where
    C: Clone + Send + Sync + 'static,
    T: Copy + Display + FromStr + 'static,
{
    let problem = RwSignal::new(None::<String>);
    let get = binding.get;
    let on_change = move |ev| {
        let name = event_target_value(&ev);
        let outcome = name.parse::<T>().map_err(|_| format!("`{name}` is not a choice here")).and_then(|value| apply(config, &binding, value));
        problem.set(outcome.err());
    };
    view! {
        <label class="field">
            {label}
            <select data-testid=testid prop:value=move || config.with(|c| get(c).to_string()) on:change=on_change prop:disabled=move || disabled.get()>
                {options.iter().map(|o| view! { <option value=o.to_string()>{o.to_string()}</option> }).collect_view()}
            </select>
            {move || problem.get().map(|p| view! { <span class="field-error small" role="alert" data-testid=format!("{testid}-error")>{p}</span> })}
        </label>
    }
}
