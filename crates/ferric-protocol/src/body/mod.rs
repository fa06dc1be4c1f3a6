//! JSON bodies (§3) as serde types, read with the tolerant [`crate::fastjson`] reader and written
//! in fastjson's shapes. Read any of them with [`crate::fastjson::from_slice`]; write with
//! [`crate::fastjson::to_vec`] (wire) or [`crate::fastjson::to_vec_pretty`] (config files).
//! Field names follow the Java getters; unknown keys are ignored and missing keys take defaults.

#![allow(missing_docs)]

pub mod config;
pub mod lenient;
pub mod lists;
pub mod register;
pub mod route;
pub mod stats;

pub use config::*;
pub use lists::*;
pub use register::*;
pub use route::*;
pub use stats::*;
