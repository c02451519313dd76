//! Client IDs, Client secrets and their argon2id hashes.

use proptest::prelude::*;
use registration_core::testkit::{FailingRandom, SeededRandom};
use registration_core::{
    ClientId, ClientSecret, Error, RevealPad, SecretDefect, SecretHash, SecretHasher,
};

use crate::hasher;

const BASE62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

proptest! {
    #[test]
    fn generated_secrets_have_the_documented_format_and_parse(seed: u64) {
        let secret = ClientSecret::generate(&SeededRandom::new(seed)).unwrap();
        let text = secret.expose_secret();
        prop_assert_eq!(text.len(), 56);
        prop_assert!(text.starts_with("appreg_"));
        prop_assert!(text[7..].chars().all(|c| BASE62.contains(c)));
        let parsed = ClientSecret::parse(text).unwrap();
        prop_assert_eq!(parsed.expose_secret(), text);
        prop_assert_eq!(secret.hint().to_string(), &text[52..]);
    }

    #[test]
    fn generated_client_ids_have_the_documented_format(seed: u64) {
        let id = ClientId::generate(&SeededRandom::new(seed)).unwrap();
        prop_assert_eq!(id.as_str().len(), 20);
        prop_assert!(id.as_str().chars().all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)));
        prop_assert_eq!(ClientId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn any_changed_character_fails_the_checksum(seed: u64, position in 7usize..56, shift in 1usize..62) {
        let secret = ClientSecret::generate(&SeededRandom::new(seed)).unwrap();
        let mut bytes = secret.expose_secret().as_bytes().to_vec();
        let index = BASE62.find(char::from(bytes[position])).unwrap();
        bytes[position] = BASE62.as_bytes()[(index + shift) % 62];
        let typo = String::from_utf8(bytes).unwrap();
        prop_assert_eq!(
            ClientSecret::parse(&typo).unwrap_err(),
            Error::MalformedSecret(SecretDefect::ChecksumMismatch)
        );
    }

    #[test]
    fn parsing_arbitrary_text_never_panics_and_never_echoes_it(text in ".{0,80}") {
        if let Err(error) = ClientSecret::parse(&text) {
            let shown = format!("{error} {error:?}");
            prop_assert!(text.len() < 4 || !shown.contains(&text), "{}", shown);
        }
    }
}

#[test]
fn malformed_secrets_say_what_is_wrong() {
    let secret = ClientSecret::generate(&SeededRandom::new(7)).unwrap();
    let text = secret.expose_secret();
    let defect = |presented: &str| match ClientSecret::parse(presented) {
        Err(Error::MalformedSecret(defect)) => defect,
        other => panic!("expected a defect, got {other:?}"),
    };
    assert_eq!(
        defect(&text.replacen("appreg_", "ghp_", 1)),
        SecretDefect::WrongPrefix
    );
    assert_eq!(defect(&text[..55]), SecretDefect::WrongLength);
    assert_eq!(defect(&format!("{text}0")), SecretDefect::WrongLength);
    assert_eq!(
        defect(&format!("{}-{}", &text[..20], &text[21..])),
        SecretDefect::InvalidCharacter
    );
    // Multi-byte characters must not slice a string mid-character.
    assert_eq!(
        defect(&format!("{}é{}", &text[..20], &text[22..])),
        SecretDefect::InvalidCharacter
    );
}

#[test]
fn debug_and_display_never_show_a_secret() {
    let secret = ClientSecret::generate(&SeededRandom::new(1)).unwrap();
    let text = secret.expose_secret().to_owned();
    let random_part = &text[7..50];
    for shown in [
        format!("{secret:?}"),
        format!("{secret}"),
        format!("{:#?}", Some(&secret)),
    ] {
        assert!(!shown.contains(random_part), "{shown}");
    }
    assert_eq!(format!("{secret:?}"), "ClientSecret(<redacted>)");

    // The create result holds the secret beside the registration; its Debug must not leak it.
    let created = crate::created_with_secret(&crate::site("UTC"), "2027-01-01");
    let shown = format!("{created:?}");
    assert!(shown.contains("ClientSecret(<redacted>)"), "{shown}");
    assert!(
        !shown.contains(&created.client_secret.expose_secret()[7..50]),
        "{shown}"
    );

    let hash = hasher().hash(&secret, &SeededRandom::new(2)).unwrap();
    let shown = format!("{hash:?}");
    assert_eq!(shown, "SecretHash(argon2id m=19456,t=2,p=1)");
    assert!(!hash.as_phc().contains(random_part));
}

#[test]
fn hashing_uses_argon2id_with_at_least_the_minimum_cost_and_round_trips() {
    let random = SeededRandom::new(3);
    let secret = ClientSecret::generate(&random).unwrap();
    let hash = hasher().hash(&secret, &random).unwrap();
    assert!(
        hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        hash.as_phc()
    );
    assert!(hasher().verify(&secret, &hash));
    assert!(hasher().verify(&ClientSecret::parse(secret.expose_secret()).unwrap(), &hash));

    let other = ClientSecret::generate(&random).unwrap();
    assert!(!hasher().verify(&other, &hash));
    assert!(!hasher().verify_unknown_client(&secret));

    // Same secret, new salt: a different PHC string that still verifies.
    let again = hasher().hash(&secret, &random).unwrap();
    assert_ne!(again, hash);
    assert!(hasher().verify(&secret, &again));
    assert_eq!(SecretHash::parse(hash.as_phc()).unwrap(), hash);
}

#[test]
fn weak_or_foreign_hashes_are_refused() {
    assert!(matches!(
        SecretHasher::new(4096, 2, 1),
        Err(Error::WeakHashParameters { .. })
    ));
    assert!(matches!(
        SecretHasher::new(19_456, 1, 1),
        Err(Error::WeakHashParameters { .. })
    ));
    let weak = "$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$\
                RdescudvJCsgt3ub+b+dWRWJTmaaJObG8ynF2IOFXA4";
    assert!(matches!(
        SecretHash::parse(weak),
        Err(Error::WeakHashParameters { .. })
    ));
    let argon2i = "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                   RdescudvJCsgt3ub+b+dWRWJTmaaJObG8ynF2IOFXA4";
    assert_eq!(SecretHash::parse(argon2i), Err(Error::MalformedSecretHash));
    assert_eq!(
        SecretHash::parse("plaintext"),
        Err(Error::MalformedSecretHash)
    );
}

#[test]
fn a_failing_random_source_is_an_error_not_a_weak_secret() {
    assert_eq!(
        ClientSecret::generate(&FailingRandom).unwrap_err(),
        Error::EntropyUnavailable
    );
    assert_eq!(
        ClientId::generate(&FailingRandom).unwrap_err(),
        Error::EntropyUnavailable
    );
    let secret = ClientSecret::generate(&SeededRandom::new(4)).unwrap();
    assert_eq!(
        hasher().hash(&secret, &FailingRandom).unwrap_err(),
        Error::EntropyUnavailable
    );
}

proptest! {
    /// The console's one-time reveal: the pad opens what it sealed and nothing else, and the
    /// browser's half shows nothing of the secret.
    #[test]
    fn a_reveal_pad_opens_only_what_it_sealed(seed: u64, flip in 0usize..112) {
        let random = SeededRandom::new(seed);
        let secret = ClientSecret::generate(&random).unwrap();
        let (pad, masked) = RevealPad::seal(&secret, &random).unwrap();
        prop_assert_eq!(masked.len(), 112);
        prop_assert!(!masked.contains(&secret.expose_secret()[7..15]));
        prop_assert_eq!(
            pad.open(&masked).map(|s| s.expose_secret().to_owned()),
            Some(secret.expose_secret().to_owned())
        );
        let (other_pad, _) = RevealPad::seal(&secret, &random).unwrap();
        prop_assert!(other_pad.open(&masked).is_none(), "another pad");
        // Any one changed hex digit breaks the secret's format or checksum.
        let mut tampered = masked.clone().into_bytes();
        tampered[flip] = if tampered[flip] == b'0' { b'1' } else { b'0' };
        prop_assert!(pad.open(std::str::from_utf8(&tampered).unwrap()).is_none());
        prop_assert!(pad.open(&masked[..110]).is_none(), "truncated");
        prop_assert!(pad.open("not hex at all").is_none());
        prop_assert_eq!(format!("{pad:?}"), "RevealPad(<redacted>)");
    }
}
