//! Where an SQL92 filter reads message properties from.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::marker::PhantomData;

/// Read access to a message's properties by name.
pub trait PropertySource {
    /// The value of property `name`, or `None` when the message lacks it.
    ///
    fn property(&self, name: &str) -> Option<&str>;
}

impl<S: BuildHasher> PropertySource for HashMap<String, String, S> {
    fn property(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl<S: BuildHasher> PropertySource for HashMap<&str, &str, S> {
    fn property(&self, name: &str) -> Option<&str> {
        self.get(name).copied()
    }
}

impl PropertySource for BTreeMap<String, String> {
    fn property(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl PropertySource for BTreeMap<&str, &str> {
    fn property(&self, name: &str) -> Option<&str> {
        self.get(name).copied()
    }
}

/// A list of `(name, value)` pairs; the first pair with the name wins.
impl PropertySource for [(&str, &str)] {
    fn property(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
    }
}

impl PropertySource for ferric_common::Properties {
    fn property(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
}

/// Adapts a lookup function, e.g.
/// `PropertyFn::new(|name: &str| map.get(name).map(String::as_str))`.
pub struct PropertyFn<'v, F> {
    lookup: F,
    values: PhantomData<&'v str>,
}

impl<'v, F> PropertyFn<'v, F>
where
    F: Fn(&str) -> Option<&'v str>,
{
    /// Wraps `lookup`, whose results live for `'v`.
    pub fn new(lookup: F) -> Self {
        PropertyFn {
            lookup,
            values: PhantomData,
        }
    }
}

impl<F> std::fmt::Debug for PropertyFn<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PropertyFn")
    }
}

impl<'v, F> PropertySource for PropertyFn<'v, F>
where
    F: Fn(&str) -> Option<&'v str>,
{
    fn property(&self, name: &str) -> Option<&str> {
        (self.lookup)(name)
    }
}
