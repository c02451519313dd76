//! Rendering: registration-core's [`TemplateRenderer`] on a sandboxed minijinja.

use minijinja::{Environment, UndefinedBehavior, context};
use registration_core::{Error, NoticeVariables, RenderedNotice, TemplateRenderer};

/// How much work one render may do: enough for any sensible message, far too little for a
/// loop over millions of items.
const FUEL: u64 = 50_000;
const MAX_SUBJECT_CHARS: usize = 250;
const MAX_BODY_BYTES: usize = 64 * 1024;

/// minijinja in a sandbox: no loader (so no `include`, `import` or `extends` can read a
/// file), strict undefined variables, bounded fuel, recursion and output.
pub struct SandboxedRenderer {
    environment: Environment<'static>,
}

impl std::fmt::Debug for SandboxedRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxedRenderer").finish_non_exhaustive()
    }
}

impl Default for SandboxedRenderer {
    fn default() -> Self {
        let mut environment = Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        environment.set_fuel(Some(FUEL));
        environment.set_recursion_limit(16);
        // Plain-text messages: no HTML escaping.
        environment.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        Self { environment }
    }
}

fn invalid(part: &'static str, error: &minijinja::Error) -> Error {
    let reason = match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    };
    Error::InvalidTemplate {
        part,
        line: error.line(),
        reason,
    }
}

impl SandboxedRenderer {
    fn render_part(
        &self,
        part: &'static str,
        source: &str,
        variables: &NoticeVariables,
    ) -> Result<String, Error> {
        let values = context! {
            registration => context! {
                name => &variables.registration_name,
                client_id => &variables.client_id,
                expiration_date => &variables.expiration_date,
                expires_at => &variables.expires_at,
            },
            days_left => variables.days_left,
            site => context! { name => &variables.site_name },
            console_url => &variables.console_url,
        };
        self.environment
            .render_str(source, values)
            .map_err(|error| invalid(part, &error))
    }
}

impl TemplateRenderer for SandboxedRenderer {
    fn render(
        &self,
        subject: &str,
        body: &str,
        variables: &NoticeVariables,
    ) -> Result<RenderedNotice, Error> {
        // One line: a line break in a subject would be a header injection in e-mail.
        let subject = self
            .render_part("subject", subject, variables)?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if subject.is_empty() {
            return Err(Error::InvalidTemplate {
                part: "subject",
                line: None,
                reason: "it renders to nothing".into(),
            });
        }
        if subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(Error::InvalidTemplate {
                part: "subject",
                line: None,
                reason: format!("it renders to more than {MAX_SUBJECT_CHARS} characters"),
            });
        }
        let body = self.render_part("body", body, variables)?;
        if body.len() > MAX_BODY_BYTES {
            return Err(Error::InvalidTemplate {
                part: "body",
                line: None,
                reason: format!("it renders to more than {} KiB", MAX_BODY_BYTES / 1024),
            });
        }
        Ok(RenderedNotice { subject, body })
    }
}
