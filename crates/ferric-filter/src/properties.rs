//! Where an SQL92 filter reads message properties from.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// Read access to a message's properties by name.
pub trait PropertySource {
    /// The value of property `name`, or `None` when the message lacks it.
    ///
    /// The result may borrow from `self` or from `name`, which lets a plain
    /// function or closure be a source (see [`PropertyFn`]).
    fn property<'a>(&'a self, name: &'a str) -> Option<&'a str>;
}

impl<S: BuildHasher> PropertySource for HashMap<String, String, S> {
    fn property<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.get(name).map(String::as_str)
    }
}

impl<S: BuildHasher> PropertySource for HashMap<&str, &str, S> {
    fn property<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.get(name).copied()
    }
}

impl PropertySource for BTreeMap<String, String> {
    fn property<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.get(name).map(String::as_str)
    }
}

impl PropertySource for BTreeMap<&str, &str> {
    fn property<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.get(name).copied()
    }
}

/// A list of `(name, value)` pairs; the first pair with the name wins.
impl PropertySource for [(&str, &str)] {
    fn property<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
    }
}

impl PropertySource for ferric_common::Properties {
    fn property<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.get(name)
    }
}

/// Adapts a lookup function, e.g. `PropertyFn(|name| map.get(name).map(String::as_str))`.
pub struct PropertyFn<F>(pub F);

impl<F> PropertyFn<F>
where
    F: Fn(&str) -> Option<&str>,
{
    /// Wraps `lookup`; going through `new` lets the compiler infer a closure's
    /// signature.
    pub fn new(lookup: F) -> Self {
        PropertyFn(lookup)
    }
}

impl<F> std::fmt::Debug for PropertyFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PropertyFn")
    }
}

impl<F> PropertySource for PropertyFn<F>
where
    F: Fn(&str) -> Option<&str>,
{
    fn property<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        (self.0)(name)
    }
}
