//! The page's state that is not tied to the browser, so that it is tested natively: the text of
//! a form field as a typed value. (The page itself, wasm32 only, is [`crate::web`].)

pub mod field;
