//! `KeyStore`: the first signing key created once, rotation keeping the newest.

use crate::{SigningKeyRecord, Store};

use super::signing_key;

/// KeyStore: the first key is created once; rotation keeps the newest `keep`.
pub fn signing_keys_are_created_once_and_rotated(store: &impl Store) {
    assert!(store.signing_keys().unwrap().is_empty());
    let kids = |keys: Vec<SigningKeyRecord>| keys.into_iter().map(|k| k.kid).collect::<Vec<_>>();
    assert_eq!(
        kids(store.ensure_signing_key(&signing_key("k1", 1)).unwrap()),
        ["k1"]
    );
    assert_eq!(
        kids(store.ensure_signing_key(&signing_key("k2", 2)).unwrap()),
        ["k1"],
        "a second first start keeps the existing key"
    );
    assert_eq!(
        kids(store.rotate_signing_key(&signing_key("k3", 3), 2).unwrap()),
        ["k3", "k1"]
    );
    assert_eq!(
        kids(store.rotate_signing_key(&signing_key("a4", 4), 2).unwrap()),
        ["a4", "k3"]
    );
    let keys = store.signing_keys().unwrap();
    assert_eq!(keys[0], signing_key("a4", 4), "keys read back as written");
    assert_eq!(keys[1], signing_key("k3", 3));
}
