//! The audit sentences: every change stores the entry it was given, in its own
//! transaction, and only then; pages are per site, newest first.

use std::sync::Arc;

use time::{Duration, macros::datetime};

use super::{NOW, add_alice, audit, endpoint, notice, registration, site, slug, with};
use crate::testkit::{FakeClock, SeededRandom, VerbatimRenderer};
use crate::{
    Actor, AdminName, AuditAction, AuditEntry, AuditImage, AuditQuery, Channel, Disposition,
    ExpirationDate, NewRegistration, NoticeKind, NotificationTemplate, RegistrationName,
    RegistrationService, SecretHasher, SiteName, SiteSlug, Store, StoreError, Subscription,
    TokenDigest, UsageUpdate, WebhookUrl,
};

/// Everything `site` has in its audit log, newest first.
fn entries(store: &impl Store, site: &str) -> Vec<AuditEntry> {
    let (entries, total) = store
        .audit_page(
            &slug(site),
            &AuditQuery {
                offset: 0,
                limit: 1000,
            },
        )
        .unwrap();
    assert_eq!(
        total,
        entries.len() as u64,
        "audit_page counts what it returns"
    );
    entries
}

/// A distinctive entry, with text a round trip could mangle.
fn entry(n: u32, site: &str, action: AuditAction) -> AuditEntry {
    AuditEntry {
        at: datetime!(2026-11-23 09:00:00.123456789 UTC) + Duration::seconds(i64::from(n)),
        actor: if n.is_multiple_of(2) {
            Actor::Admin(AdminName::parse("alice").unwrap())
        } else {
            Actor::Cli("ops user".into())
        },
        site: slug(site),
        action,
        subject: format!("subject {n} «quoted \"text\"»"),
        before: (!n.is_multiple_of(3)).then(|| {
            AuditImage::from_fields([
                ("name", format!("before {n}\nsecond line")),
                ("emoji", "🔑".to_owned()),
            ])
        }),
        after: (n % 3 != 1).then(|| AuditImage::from_fields([("name", format!("after {n}"))])),
    }
}

/// Every changing method: MUST store its entry unaltered, in the same transaction.
pub fn changes_store_their_audit_entries_unaltered(store: &impl Store) {
    let mut expected = Vec::new();
    let mut expect = |entry: AuditEntry| {
        expected.insert(0, entry.clone());
        entry
    };

    store
        .add_site(
            &site("other", "UTC"),
            &expect(entry(1, "default", AuditAction::SiteAdd)),
        )
        .unwrap();
    store
        .update_site(
            &site("other", "Asia/Tokyo"),
            &expect(entry(1, "default", AuditAction::SiteEdit)),
        )
        .unwrap();
    let billing = registration("default", "Billing", 1);
    store
        .insert(
            &billing,
            &expect(entry(2, "default", AuditAction::RegistrationCreate)),
        )
        .unwrap();
    let renamed = with(&billing, |r| {
        r.name = RegistrationName::parse("Billing sync").unwrap()
    });
    store
        .update(
            &renamed,
            &expect(entry(3, "default", AuditAction::RegistrationUpdate)),
        )
        .unwrap();
    store
        .delete(
            &slug("default"),
            billing.client_id(),
            1,
            &expect(entry(4, "default", AuditAction::RegistrationDelete)),
        )
        .unwrap();
    let alice = super::admin("alice", &["default"]);
    store
        .add_admin(
            &alice,
            &[
                expect(entry(5, "default", AuditAction::AdminAdd)),
                expect(entry(6, "default", AuditAction::AdminAdd)),
            ],
        )
        .unwrap();
    store
        .add_admin_token(
            &alice.username,
            &TokenDigest([3; 32]),
            NOW,
            &[expect(entry(7, "default", AuditAction::AdminToken))],
        )
        .unwrap();
    store
        .set_subscription(
            &slug("default"),
            &Subscription {
                username: alice.username.clone(),
                kind: NoticeKind::Expired,
                channel: Channel::InApp,
                enabled: false,
            },
            &expect(entry(8, "default", AuditAction::SubscriptionSet)),
        )
        .unwrap();
    store
        .save_template(
            &slug("default"),
            &NotificationTemplate::default_for(NoticeKind::Expired),
            &expect(entry(9, "default", AuditAction::TemplateSave)),
        )
        .unwrap();
    let hook = endpoint("https://hooks.example.com/a", 1);
    store
        .add_webhook(
            &slug("default"),
            &hook,
            &expect(entry(10, "default", AuditAction::WebhookAdd)),
        )
        .unwrap();
    store
        .remove_webhook(
            &slug("default"),
            &hook.url,
            &expect(entry(11, "default", AuditAction::WebhookRemove)),
        )
        .unwrap();
    assert_eq!(
        entries(store, "default"),
        expected,
        "every change's entry, exactly as given, newest first"
    );
}

/// A refused change MUST NOT leave its entry behind: entry and change commit together.
pub fn refused_changes_store_no_audit_entry(store: &impl Store) {
    let refused = || entry(99, "default", AuditAction::RegistrationUpdate);
    let billing = registration("default", "Billing", 1);
    store.insert(&billing, &audit()).unwrap();
    let alice = add_alice(store);
    let hook = endpoint("https://hooks.example.com/a", 1);
    store
        .add_webhook(&slug("default"), &hook, &audit())
        .unwrap();
    let before = entries(store, "default");

    let outcomes = [
        store.add_site(&site("default", "UTC"), &refused()),
        store.update_site(&site("nowhere", "UTC"), &refused()),
        store.insert(&registration("default", "BILLING", 2), &refused()),
        store.insert(&registration("nowhere", "Lost", 3), &refused()),
        store
            .update(&with(&billing, |r| r.revision = 7), &refused())
            .map(|_| ()),
        store
            .update(&registration("default", "Never stored", 4), &refused())
            .map(|_| ()),
        store.delete(&slug("default"), billing.client_id(), 7, &refused()),
        store.delete(
            &slug("default"),
            registration("default", "Gone", 5).client_id(),
            0,
            &refused(),
        ),
        store.add_admin(&alice, &[refused()]),
        store.add_admin(&super::admin("zoe", &["nowhere"]), &[refused()]),
        store.add_admin_token(
            &AdminName::parse("nobody").unwrap(),
            &TokenDigest([4; 32]),
            NOW,
            &[refused()],
        ),
        store.set_subscription(
            &slug("default"),
            &Subscription {
                username: AdminName::parse("nobody").unwrap(),
                kind: NoticeKind::Expired,
                channel: Channel::InApp,
                enabled: false,
            },
            &refused(),
        ),
        store.save_template(
            &slug("nowhere"),
            &NotificationTemplate::default_for(NoticeKind::Expired),
            &refused(),
        ),
        store.add_webhook(&slug("default"), &hook, &refused()),
        store.remove_webhook(
            &slug("default"),
            &WebhookUrl::parse("https://hooks.example.com/never").unwrap(),
            &refused(),
        ),
    ];
    for (index, outcome) in outcomes.iter().enumerate() {
        assert!(outcome.is_err(), "change {index} was to be refused");
    }
    assert_eq!(
        store.get(&slug("default"), billing.client_id()).unwrap(),
        billing,
        "a delete at a stale revision deletes nothing"
    );
    assert_eq!(
        entries(store, "default"),
        before,
        "refused changes store no entry"
    );
}

/// Traffic, notices, deliveries, keys and sessions are not administrative changes.
pub fn traffic_and_notices_write_no_audit_entry(store: &impl Store) {
    let billing = registration("default", "Billing", 1);
    store.insert(&billing, &audit()).unwrap();
    let before = entries(store, "default");
    store
        .record_usage(&[UsageUpdate {
            registration: billing.id(),
            expiration_date: billing.expiration_date(),
            last_used: Some(NOW),
            rejections: 2,
            last_rejected: Some(NOW),
            secrets: Vec::new(),
        }])
        .unwrap();
    store
        .record(
            &[notice(&billing, NoticeKind::Expired, Disposition::Deliver)],
            NOW,
        )
        .unwrap();
    store
        .ensure_signing_key(&super::signing_key("k1", 1))
        .unwrap();
    assert_eq!(entries(store, "default"), before);
}

/// audit_page: per site, newest first, paged and counted; UnknownSite for no such site.
pub fn audit_pages_are_per_site_newest_first_and_counted(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    let ours: Vec<AuditEntry> = (1..=5)
        .map(|n| entry(n, "default", AuditAction::TemplateSave))
        .collect();
    for (n, written) in ours.iter().enumerate() {
        let mut template = NotificationTemplate::default_for(NoticeKind::Expired);
        template.subject = format!("Subject {n}");
        store
            .save_template(&slug("default"), &template, written)
            .unwrap();
        store
            .save_template(
                &slug("other"),
                &template,
                &entry(10, "other", AuditAction::TemplateSave),
            )
            .unwrap();
    }
    let page = |offset, limit| {
        store
            .audit_page(&slug("default"), &AuditQuery { offset, limit })
            .unwrap()
    };
    let newest_first: Vec<AuditEntry> = ours.iter().rev().cloned().collect();
    // `audit()`'s entry of adding site "other" belongs to site default too.
    assert_eq!(page(0, 2), (newest_first[..2].to_vec(), 6));
    assert_eq!(page(2, 2), (newest_first[2..4].to_vec(), 6));
    assert_eq!(page(4, 5).0[..1], newest_first[4..]);
    assert_eq!(page(9, 5), (Vec::new(), 6));
    let theirs = entries(store, "other");
    assert_eq!(theirs.len(), 5);
    assert!(
        theirs.iter().all(|entry| entry.site == slug("other")),
        "never another site's entries"
    );
    assert_eq!(
        store.audit_page(
            &slug("nowhere"),
            &AuditQuery {
                offset: 0,
                limit: 10
            }
        ),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
}

/// Through the service: every change is audited, by whom, and no entry holds a secret, a
/// password, a token or any hash of them.
pub fn service_audits_every_change_without_secrets<S: Store + 'static>(store: Arc<S>) {
    let clock = Arc::new(FakeClock::at(NOW));
    let service = RegistrationService::new(
        store.clone(),
        clock.clone(),
        Arc::new(SeededRandom::new(7)),
        SecretHasher::recommended().unwrap(),
        Arc::new(VerbatimRenderer),
        "https://appreg.example.com",
    );
    let ops = Actor::Cli("ops".into());
    let eu = service
        .add_site(
            SiteSlug::parse("acme-eu").unwrap(),
            Some(SiteName::parse("ACME Europe").unwrap()),
            None,
            &ops,
        )
        .unwrap();
    service
        .edit_site(
            &eu.slug,
            None,
            Some(crate::SiteZone::parse("Europe/Berlin").unwrap()),
            &ops,
        )
        .unwrap();
    let (created, secret) = service
        .create(
            &eu.slug,
            NewRegistration {
                name: RegistrationName::parse("Billing").unwrap(),
                expiration_date: ExpirationDate::parse("2027-03-31").unwrap(),
                enabled: true,
            },
            &ops,
        )
        .unwrap();
    let client_id = created.registration.client_id().clone();
    let hash = created.registration.secret_hash().as_phc().to_owned();
    clock.advance(Duration::minutes(1));
    service
        .renew(
            &eu.slug,
            &client_id,
            ExpirationDate::parse("2027-06-30").unwrap(),
            &ops,
        )
        .unwrap();
    let (rotated, new_secret) = service
        .rotate_secret(&eu.slug, &client_id, crate::SecretOverlap::DEFAULT, &ops)
        .unwrap();
    let new_hash = rotated.registration.secret_hash().as_phc().to_owned();
    service
        .retire_previous_secret(&eu.slug, &client_id, &ops)
        .unwrap();
    let (alice, password) = service
        .add_admin(
            AdminName::parse("alice").unwrap(),
            vec![eu.slug.clone(), SiteSlug::default_site()],
            Some("alice@example.com".into()),
            None,
            &ops,
        )
        .unwrap();
    let password = password.unwrap();
    let as_alice = Actor::admin(&alice);
    let token = service.issue_admin_token(&alice.username, &ops).unwrap();
    service
        .subscribe(
            &eu.slug,
            &alice.username,
            NoticeKind::Expired,
            Channel::Email,
            true,
            &as_alice,
        )
        .unwrap();
    service
        .edit_template(
            &eu.slug,
            NoticeKind::Expired,
            crate::TemplateEdit {
                subject: Some("Expired: {{ registration.name }}".into()),
                ..crate::TemplateEdit::default()
            },
            &as_alice,
        )
        .unwrap();
    let hook = service
        .add_webhook(
            &eu.slug,
            WebhookUrl::parse("https://hooks.example.com/appreg").unwrap(),
            crate::WebhookNetworks::PublicOnly,
            &as_alice,
        )
        .unwrap();
    service
        .remove_webhook(&eu.slug, &hook.url, &as_alice)
        .unwrap();
    service
        .set_enabled(&eu.slug, &client_id, false, &as_alice)
        .unwrap();
    service.delete(&eu.slug, &client_id, &as_alice).unwrap();

    let log = entries(store.as_ref(), "acme-eu");
    let actions: Vec<(AuditAction, String)> = log
        .iter()
        .rev()
        .map(|entry| (entry.action, entry.actor.label()))
        .collect();
    let by = |action, actor: &str| (action, actor.to_owned());
    assert_eq!(
        actions,
        [
            by(AuditAction::SiteAdd, "cli:ops"),
            by(AuditAction::SiteEdit, "cli:ops"),
            by(AuditAction::RegistrationCreate, "cli:ops"),
            by(AuditAction::RegistrationUpdate, "cli:ops"),
            by(AuditAction::SecretRotate, "cli:ops"),
            by(AuditAction::SecretRetire, "cli:ops"),
            by(AuditAction::AdminAdd, "cli:ops"),
            by(AuditAction::AdminToken, "cli:ops"),
            by(AuditAction::SubscriptionSet, "admin:alice"),
            by(AuditAction::TemplateSave, "admin:alice"),
            by(AuditAction::WebhookAdd, "admin:alice"),
            by(AuditAction::WebhookRemove, "admin:alice"),
            by(AuditAction::RegistrationUpdate, "admin:alice"),
            by(AuditAction::RegistrationDelete, "admin:alice"),
        ],
        "every change of the site, in order, by whom"
    );
    let renewal = &log[log.len() - 4];
    let rotation = &log[log.len() - 5];
    assert_eq!(
        rotation
            .changes()
            .into_iter()
            .map(|change| (change.field, change.before, change.after))
            .collect::<Vec<_>>(),
        [
            (
                "previous_secret_expires_at",
                None,
                Some("2026-11-30T09:01:00Z")
            ),
            ("previous_secret_hint", None, Some(secret.hint().as_str())),
            ("revision", Some("1"), Some("2")),
            (
                "secret_hint",
                Some(secret.hint().as_str()),
                Some(new_secret.hint().as_str())
            ),
        ],
        "a rotation records both hints and when the old secret stops, never a secret"
    );
    assert_eq!(renewal.at, NOW + Duration::minutes(1));
    assert_eq!(renewal.subject, client_id.as_str());
    let changed: Vec<(&str, Option<&str>, Option<&str>)> = renewal
        .changes()
        .into_iter()
        .map(|change| (change.field, change.before, change.after))
        .collect();
    assert_eq!(
        changed,
        [
            ("expiration_date", Some("2027-03-31"), Some("2027-06-30")),
            ("revision", Some("0"), Some("1")),
        ]
    );
    assert_eq!(
        entries(store.as_ref(), "default")
            .iter()
            .map(|entry| entry.action)
            .collect::<Vec<_>>(),
        [AuditAction::AdminToken, AuditAction::AdminAdd],
        "an administrator of two sites is audited in both"
    );

    let secrets = [
        secret.expose_secret().to_owned(),
        hash,
        new_secret.expose_secret().to_owned(),
        new_hash,
        password.expose_secret().to_owned(),
        alice.password_hash.as_phc().to_owned(),
        token.expose_secret().to_owned(),
        hook.secret.expose().to_owned(),
    ];
    for entry in log.iter().chain(&entries(store.as_ref(), "default")) {
        let texts = std::iter::once(entry.subject.as_str()).chain(
            entry
                .before
                .iter()
                .chain(entry.after.iter())
                .flat_map(|image| image.fields().flat_map(|(name, value)| [name, value])),
        );
        for text in texts {
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{:?} entry holds secret material",
                    entry.action
                );
            }
        }
    }
}
