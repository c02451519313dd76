//! `TemplateStore`: templates saved per site and kind.

use crate::{NoticeKind, Store, StoreError};

use super::{audit, site, slug};

/// TemplateStore: saved templates read back whole; saving again replaces; sites are checked.
pub fn templates_are_saved_per_site_and_kind(store: &impl Store) {
    store.add_site(&site("other", "UTC"), &audit()).unwrap();
    assert_eq!(
        store.templates(&slug("default")),
        Ok(Vec::new()),
        "nothing saved yet"
    );
    let mut template = crate::NotificationTemplate::default_for(NoticeKind::ExpiresIn7Days);
    template.subject = "Heads-up: {{ registration.name }}".into();
    template.enabled = false;
    template.banner = crate::BannerSetting::None;
    store
        .save_template(&slug("default"), &template, &audit())
        .unwrap();
    assert_eq!(
        store.templates(&slug("default")),
        Ok(vec![template.clone()])
    );
    assert_eq!(store.templates(&slug("other")), Ok(Vec::new()), "per site");
    template.enabled = true;
    store
        .save_template(&slug("default"), &template, &audit())
        .unwrap();
    assert_eq!(
        store.templates(&slug("default")),
        Ok(vec![template.clone()]),
        "replaced"
    );
    assert_eq!(
        store.save_template(&slug("nowhere"), &template, &audit()),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
    assert_eq!(
        store.templates(&slug("nowhere")),
        Err(StoreError::UnknownSite("nowhere".into()))
    );
}
