//! The page's logic that is not tied to the browser, so that it is tested natively: the text of
//! a form field as a typed value, the share link, and the model zoo's names. (The page itself, wasm32 only, is
//! [`crate::web`].)

pub mod field;
pub mod share;
pub mod zoo;
