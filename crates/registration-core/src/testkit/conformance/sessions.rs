//! `SessionStore`: console sessions and the one-time secret page's pads.

use time::{Duration, OffsetDateTime};

use crate::{ClientId, ConsoleSession, PendingReveal, RevealPad, Store, TokenDigest};

use super::{NOW, add_alice};
use crate::testkit::SeededRandom;

/// SessionStore: sessions by digest, removed on sign-out, expired ones forgotten.
pub fn sessions_round_trip_and_expire(store: &impl Store) {
    let admin = add_alice(store);
    let session = |byte: u8, created_at: OffsetDateTime| ConsoleSession {
        digest: TokenDigest([byte; 32]),
        username: admin.username.clone(),
        created_at,
        expires_at: created_at + Duration::hours(8),
    };
    let old = session(1, NOW);
    store.create_session(&old).unwrap();
    assert_eq!(store.session(&old.digest).unwrap(), Some(old.clone()));
    assert_eq!(store.session(&TokenDigest([9; 32])).unwrap(), None);
    let later = session(2, NOW + Duration::hours(9));
    store.create_session(&later).unwrap();
    assert_eq!(
        store.session(&old.digest).unwrap(),
        None,
        "sessions expired before a new one starts are forgotten"
    );
    store.delete_session(&later.digest).unwrap();
    assert_eq!(store.session(&later.digest).unwrap(), None);
    store.delete_session(&later.digest).unwrap();
}

/// keep_reveal / take_reveal: one pad per session and Client ID, taken once, never after it
/// expired, and gone with its session.
pub fn reveal_pads_are_taken_once(store: &impl Store) {
    let admin = add_alice(store);
    let session = |byte: u8| ConsoleSession {
        digest: TokenDigest([byte; 32]),
        username: admin.username.clone(),
        created_at: NOW,
        expires_at: NOW + Duration::hours(8),
    };
    let (ours, theirs) = (session(1), session(2));
    store.create_session(&ours).unwrap();
    store.create_session(&theirs).unwrap();
    let client_id = |seed| ClientId::generate(&SeededRandom::new(seed)).unwrap();
    let reveal = |session: &ConsoleSession, seed, byte: u8| PendingReveal {
        session: session.digest,
        client_id: client_id(seed),
        pad: RevealPad::from_bytes(vec![byte; 56]),
        created_at: NOW,
        expires_at: NOW + Duration::minutes(10),
    };
    let take = |session: &ConsoleSession, seed, at| {
        store
            .take_reveal(&session.digest, &client_id(seed), at)
            .unwrap()
            .map(|pad| pad.as_bytes().to_vec())
    };
    store.keep_reveal(&reveal(&ours, 1, 7)).unwrap();
    store.keep_reveal(&reveal(&ours, 2, 8)).unwrap();
    store.keep_reveal(&reveal(&ours, 3, 9)).unwrap();
    assert_eq!(take(&theirs, 1, NOW), None, "another session's pad");
    assert_eq!(take(&ours, 1, NOW), Some(vec![7; 56]));
    assert_eq!(take(&ours, 1, NOW), None, "taken once");
    assert_eq!(take(&ours, 2, NOW + Duration::minutes(10)), None, "expired");
    assert_eq!(
        take(&ours, 2, NOW),
        None,
        "an expired pad is gone, not kept"
    );
    store.delete_session(&ours.digest).unwrap();
    assert_eq!(take(&ours, 3, NOW), None, "signing out forgets the pads");
}
