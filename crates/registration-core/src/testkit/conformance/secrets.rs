//! A registration's two secrets (SPEC 12) as the registration store keeps them.

use time::{Duration, macros::datetime};

use crate::{
    ClientSecret, PreviousSecret, Registration, Rejections, SecretUsage, Store, StoredSecret,
    UsageUpdate,
};

use super::{NOW, audit, registration, slug, with};

/// `registration` after a rotation: a new current secret (seeded by `seed`), the old one
/// kept until `expires_at`.
fn rotated(
    registration: &Registration,
    seed: u64,
    expires_at: time::OffsetDateTime,
) -> Registration {
    let new_secret = ClientSecret::generate(&crate::testkit::SeededRandom::new(seed)).unwrap();
    with(registration, |record| {
        let replaced = std::mem::replace(
            &mut record.secret,
            StoredSecret {
                hash: crate::testkit::shared_secret_hash(),
                hint: new_secret.hint(),
                created_at: NOW + Duration::minutes(5),
                last_used: None,
            },
        );
        record.previous_secret = Some(PreviousSecret {
            secret: replaced,
            expires_at,
            rejections: Rejections::default(),
        });
    })
}

/// insert and update keep both secrets, each with its hint, creation instant, Last used,
/// and the previous one's end and rejections; an update can drop or replace the previous.
pub fn rotated_secrets_round_trip(store: &impl Store) {
    let original = registration("default", "Billing sync", 1);
    let mut used = rotated(&original, 41, datetime!(2026-11-30 09:05:00.25 UTC));
    {
        let record = used.record().clone();
        let mut record = record;
        record.secret.last_used = Some(datetime!(2026-11-24 10:00:00.5 UTC));
        let previous = record.previous_secret.as_mut().unwrap();
        previous.secret.last_used = Some(datetime!(2026-11-23 08:00 UTC));
        previous.rejections = Rejections {
            count: 9,
            last: Some(datetime!(2026-12-01 07:00 UTC)),
        };
        used = Registration::from_record(record);
    }
    store.insert(&used, &audit()).unwrap();
    let read = store.get(&slug("default"), original.client_id()).unwrap();
    assert_eq!(read, used, "both secrets read back as inserted");

    let again = rotated(&read, 42, datetime!(2026-12-07 09:05 UTC));
    assert_eq!(store.update(&again, &audit()), Ok(1));
    let read = store.get(&slug("default"), original.client_id()).unwrap();
    assert_eq!(
        read,
        with(&again, |record| record.revision = 1),
        "a second rotation replaces the previous secret, its counts start over"
    );
    let (_, through_token_path) = store
        .site_and_registration(&slug("default"), Some(original.client_id()))
        .unwrap();
    assert_eq!(through_token_path.as_ref(), Some(&read));

    let single = with(&read, |record| record.previous_secret = None);
    store.update(&single, &audit()).unwrap();
    assert_eq!(
        store
            .get(&slug("default"), original.client_id())
            .unwrap()
            .previous_secret(),
        None
    );
}

/// record_usage: a secret's traffic lands on the stored secret with that hint, whichever
/// slot it is in; only forward; a hint that is neither is ignored.
pub fn secret_usage_lands_on_the_secret_it_names(store: &impl Store) {
    let original = registration("default", "Busy", 1);
    let two = rotated(&original, 43, NOW + Duration::days(7));
    store.insert(&two, &audit()).unwrap();
    let current_hint = two.secret().hint.clone();
    let previous_hint = two.previous_secret().unwrap().secret.hint.clone();
    let later = NOW + Duration::hours(2);
    let secret = |hint: &crate::SecretHint, last_used, count, last| SecretUsage {
        hint: hint.clone(),
        last_used,
        rejections: Rejections { count, last },
    };
    let usage = |secrets| UsageUpdate {
        registration: two.id(),
        expiration_date: two.expiration_date(),
        last_used: Some(later),
        rejections: 0,
        last_rejected: None,
        secrets,
    };
    let stranger = ClientSecret::generate(&crate::testkit::SeededRandom::new(44))
        .unwrap()
        .hint();
    store
        .record_usage(&[
            usage(vec![
                secret(&current_hint, Some(later), 0, None),
                secret(&previous_hint, Some(NOW), 2, Some(later)),
            ]),
            usage(vec![
                secret(&current_hint, Some(NOW), 0, None),
                secret(&previous_hint, Some(later), 3, Some(NOW)),
                secret(&stranger, Some(later + Duration::hours(1)), 7, Some(later)),
            ]),
        ])
        .unwrap();
    let read = store.get(&slug("default"), original.client_id()).unwrap();
    assert_eq!(read.revision(), 0, "usage is not an administrative change");
    assert_eq!(read.record().last_used, Some(later));
    assert_eq!(
        read.secret().last_used,
        Some(later),
        "the current secret's Last used only moves forward"
    );
    let previous = read.previous_secret().unwrap();
    assert_eq!(previous.secret.last_used, Some(later));
    assert_eq!(
        previous.rejections,
        Rejections {
            count: 5,
            last: Some(later)
        },
        "presentations of the retired secret add up, the last only moves forward"
    );
    assert_eq!(read.secret().created_at, two.secret().created_at);
}
