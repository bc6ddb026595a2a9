//! `Keyed<V>`: a map from names to values, kept as a vector sorted by name.
//!
//! The run's state holds three such maps (ticks, measurements, check
//! results). As `BTreeMap`s their node-handling code cost the app's wasm
//! 4.5 KB gzip, measured; a sorted vector costs a fraction, and these maps
//! hold a few dozen entries at most. It serializes as a JSON object, like a map.

use std::collections::BTreeMap;

use nanoserde::{DeBin, DeBinErr, SerBin};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyed<V>(Vec<(String, V)>);

impl<V> Default for Keyed<V> {
    fn default() -> Self {
        Keyed(Vec::new())
    }
}

impl<V> Keyed<V> {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().map(|at| &self.0[at].1)
    }

    pub fn insert(&mut self, key: &str, value: V) {
        match self.find(key) {
            Ok(at) => self.0[at].1 = value,
            Err(at) => self.0.insert(at, (key.to_owned(), value)),
        }
    }

    pub fn remove(&mut self, key: &str) {
        if let Ok(at) = self.find(key) {
            self.0.remove(at);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Names and values, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

/// The last value given for a name wins, as in a map.
impl<V> FromIterator<(String, V)> for Keyed<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(pairs: I) -> Self {
        let mut keyed = Keyed::default();
        for (key, value) in pairs {
            keyed.insert(&key, value);
        }
        keyed
    }
}

impl<V, const N: usize> From<[(String, V); N]> for Keyed<V> {
    fn from(pairs: [(String, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl<V: SerBin> SerBin for Keyed<V> {
    fn ser_bin(&self, output: &mut Vec<u8>) {
        self.0.ser_bin(output);
    }
}

/// Sorted again on the way in: the binary form is trusted for its layout, not its order.
impl<V: DeBin> DeBin for Keyed<V> {
    fn de_bin(offset: &mut usize, bytes: &[u8]) -> Result<Self, DeBinErr> {
        Ok(Vec::<(String, V)>::de_bin(offset, bytes)?
            .into_iter()
            .collect())
    }
}

impl<V: Serialize> Serialize for Keyed<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Keyed<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, V>::deserialize(deserializer)?;
        Ok(Keyed(map.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_sorted_map_and_serializes_as_one() {
        let mut keyed = Keyed::default();
        let mut map = BTreeMap::new();
        for (key, value) in [("b", 1), ("a", 2), ("c", 3), ("a", 4), ("b", 5)] {
            keyed.insert(key, value);
            map.insert(key.to_owned(), value);
        }
        keyed.remove("c");
        keyed.remove("nothing");
        map.remove("c");
        assert_eq!(keyed.get("a"), Some(&4));
        assert_eq!(keyed.get("b"), Some(&5));
        assert_eq!(keyed.get("c"), None);
        assert_eq!(keyed.iter().count(), 2);
        let json = serde_json::to_string(&keyed).unwrap_or_default();
        assert_eq!(json, serde_json::to_string(&map).unwrap_or_default());
        let back: Keyed<i32> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, keyed);
        let back = Keyed::<i32>::deserialize_bin(&keyed.serialize_bin()).ok();
        assert_eq!(back, Some(keyed));
        let unsorted: Keyed<i32> = [("z".to_owned(), 1), ("a".to_owned(), 2)]
            .into_iter()
            .collect();
        assert_eq!(unsorted.keys().collect::<Vec<_>>(), ["a", "z"]);
    }
}
