//! notify's tests: the sandboxed renderer (default messages, every way a template is
//! refused), and delivery to a real SMTP sink and a real webhook receiver on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod delivery;

use notify::SandboxedRenderer;
use registration_core::{
    Error, NoticeKind, NoticeVariables, NotificationTemplate, TemplateRenderer, check_template,
};

fn variables(days_left: i64) -> NoticeVariables {
    NoticeVariables {
        registration_name: "Billing sync".into(),
        client_id: "k3j5xq7m2abcdefgh4rz".into(),
        expiration_date: "2027-01-31".into(),
        expires_at: "2027-02-01 00:00 Europe/Berlin".into(),
        days_left,
        site_name: "Berlin office".into(),
        console_url: "https://appreg.example/sites/berlin/app-registrations/k3j5xq7m2abcdefgh4rz"
            .into(),
    }
}

fn render(kind: NoticeKind, days_left: i64) -> String {
    let template = NotificationTemplate::default_for(kind);
    let rendered = SandboxedRenderer::default()
        .render(&template.subject, &template.body, &variables(days_left))
        .unwrap();
    format!("Subject: {}\n\n{}", rendered.subject, rendered.body)
}

#[test]
fn default_messages() {
    insta::assert_snapshot!(
        "expires_in_30_days",
        render(NoticeKind::ExpiresIn30Days, 30)
    );
    insta::assert_snapshot!("expires_in_7_days", render(NoticeKind::ExpiresIn7Days, 7));
    insta::assert_snapshot!("expired", render(NoticeKind::Expired, -1));
}

#[test]
fn the_subject_says_how_close_the_date_is() {
    let subject = |days_left| {
        let template = NotificationTemplate::default_for(NoticeKind::ExpiresIn7Days);
        SandboxedRenderer::default()
            .render(&template.subject, "", &variables(days_left))
            .unwrap()
            .subject
    };
    assert_eq!(
        subject(3),
        r#"App registration "Billing sync" expires in 3 days"#
    );
    assert_eq!(
        subject(1),
        r#"App registration "Billing sync" expires tomorrow"#
    );
    assert_eq!(
        subject(0),
        r#"App registration "Billing sync" expires today"#
    );
    assert_eq!(
        subject(-1),
        r#"App registration "Billing sync" has expired"#,
        "a superseded notice logged after the date"
    );
}

#[test]
fn an_expires_in_body_rendered_after_the_date_speaks_of_the_past() {
    let template = NotificationTemplate::default_for(NoticeKind::ExpiresIn30Days);
    let rendered = SandboxedRenderer::default()
        .render(&template.subject, &template.body, &variables(-1))
        .unwrap();
    assert!(rendered.body.starts_with(
        "The App registration \"Billing sync\" of site Berlin office expired on 2027-01-31"
    ));
    assert!(
        rendered
            .body
            .contains("Any service still using it is failing now.")
    );
}

#[test]
fn default_templates_pass_the_check_on_save() {
    let renderer = SandboxedRenderer::default();
    for kind in NoticeKind::ALL {
        let template = NotificationTemplate::default_for(kind);
        assert_eq!(
            check_template(&renderer, &template.subject, &template.body),
            Ok(()),
            "{kind}"
        );
    }
}

/// The refusal as an operator reads it.
fn refusal(subject: &str, body: &str) -> String {
    check_template(&SandboxedRenderer::default(), subject, body)
        .unwrap_err()
        .to_string()
}

#[test]
fn broken_templates_are_refused_with_the_line_and_the_reason() {
    assert_eq!(
        refusal("Expiring: {{ registration.name", "ok"),
        "the subject template is invalid at line 1: syntax error: unexpected end of input, expected end of variable block"
    );
    // The line of the block that is never closed.
    assert_eq!(
        refusal("ok", "Dear admin,\n\n{% if days_left %}\nsoon\n"),
        "the body template is invalid at line 3: syntax error: unexpected end of input, expected end of block"
    );
    assert_eq!(
        refusal("ok", "line one\n{{ registration.secret }}"),
        "the body template is invalid at line 2: undefined value"
    );
}

#[test]
fn endless_and_huge_templates_are_stopped() {
    let nested =
        "{% for a in range(1000) %}{% for b in range(1000) %}{{ b }}{% endfor %}{% endfor %}";
    assert!(
        refusal("ok", nested).contains("engine ran out of fuel"),
        "{}",
        refusal("ok", nested)
    );
    let recursive = "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}";
    let reason = refusal("ok", recursive);
    assert!(
        reason.starts_with("the body template is invalid"),
        "{reason}"
    );
    assert_eq!(
        refusal("ok", r#"{{ "0123456789" * 10000 }}"#),
        "the body template is invalid: it renders to more than 64 KiB"
    );
    assert_eq!(
        refusal(&"x".repeat(251), "ok"),
        "the subject template is invalid: it renders to more than 250 characters"
    );
}

/// minijinja is built without `multi_template`: the statements that could load another
/// template do not exist, so no file can ever be read.
#[test]
fn templates_cannot_read_files() {
    for (source, statement) in [
        ("{% include '/etc/passwd' %}", "include"),
        ("{% import 'Cargo.toml' as x %}", "import"),
        ("{% extends '../../Cargo.toml' %}", "extends"),
    ] {
        assert_eq!(
            refusal("ok", source),
            format!(
                "the body template is invalid at line 1: syntax error: unknown statement {statement}"
            )
        );
    }
}

#[test]
fn subjects_are_folded_onto_one_line() {
    let rendered = SandboxedRenderer::default()
        .render(
            "Re:\r\n  {{ registration.name }}\nBcc: x@example.com",
            "",
            &variables(7),
        )
        .unwrap();
    assert_eq!(rendered.subject, "Re: Billing sync Bcc: x@example.com");
    assert!(matches!(
        SandboxedRenderer::default().render("{{ '' }}", "", &variables(7)),
        Err(Error::InvalidTemplate {
            part: "subject",
            ..
        })
    ));
}
