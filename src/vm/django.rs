//! What Django itself said about the deployed app (`probe/ask_django.py`,
//! relayed by the probe as text): read strictly here, once per check, so
//! the checks work with typed settings whatever their source (a TOML file,
//! `Environment=`, an environment file, the project's own settings module).

use serde::Deserialize;

use super::facts::{Deploy, DjangoRun, DjangoWay, Facts};
use super::http::Site;

/// `ask_django.py`'s answer; every field is always present (`null` when
/// unknown), so a renamed field fails the reading, not a check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Answer {
    /// What was imported: `blog.wsgi:application`, or the settings module.
    pub(crate) target: Option<String>,
    /// Why importing the app failed (the exception's first line).
    pub(crate) error: Option<String>,
    pub(crate) django_version: Option<String>,
    pub(crate) django_path: Option<String>,
    pub(crate) module_file: Option<String>,
    /// The distribution that provides the app's top-level package.
    pub(crate) distribution: Option<String>,
    pub(crate) settings_module: Option<String>,
    pub(crate) debug: Option<bool>,
    pub(crate) allowed_hosts: Option<Vec<String>>,
    pub(crate) secret_key: Option<SecretKey>,
    pub(crate) static_root: Option<String>,
    pub(crate) static_url: Option<String>,
    pub(crate) database: Option<Database>,
    pub(crate) migrations: Option<Migrations>,
    pub(crate) superusers: Option<Vec<String>>,
    pub(crate) database_error: Option<String>,
    pub(crate) migrations_error: Option<String>,
    pub(crate) superusers_error: Option<String>,
}

/// What can be said of SECRET_KEY without ever showing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SecretKey {
    Missing,
    /// Django's `django-insecure-` prefix: the key `startproject` wrote
    /// into the code, public wherever the code is.
    Insecure,
    /// Shorter than 50 characters or fewer than 5 distinct ones.
    Weak,
    Ok,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Database {
    /// Django's vendor name: `sqlite`, `postgresql`, …
    pub(crate) engine: String,
    pub(crate) name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Migrations {
    pub(crate) applied: u64,
    /// `app.name`, in the order migrate would apply them.
    pub(crate) unapplied: Vec<String>,
}

/// Django's answer for the app, or why there is none, for messages.
pub(crate) fn ask(d: &Deploy) -> Result<(&DjangoRun, Answer), String> {
    let Some(run) = &d.django else {
        return Err(text::not_asked());
    };
    if let Some(why) = &run.failure {
        return Err(text::no_answer(&run.python, why));
    }
    let answer: Answer = serde_json::from_str(&run.answer).map_err(|e| text::unreadable(&e))?;
    match &answer.error {
        Some(why) => Err(text::import_failed(run, answer.target.as_deref(), why)),
        None => Ok((run, answer)),
    }
}

/// The site as the app serves it, when Django said (any user's app: the
/// probe asks about one).
pub(crate) fn site(facts: &Facts) -> Option<Site> {
    let d = facts.deploy.values().next()?;
    let (run, answer) = ask(d).ok()?;
    Some(Site {
        host: run.host.clone(),
        static_url: answer
            .static_url
            .filter(|url| url.starts_with('/'))
            .unwrap_or_else(|| Site::default().static_url),
    })
}

/// How the question was asked, for messages: "as gunicorn.service runs it".
pub(crate) fn how(run: &DjangoRun) -> String {
    match run.way {
        DjangoWay::Service => text::as_service(&run.user, &run.cwd),
        DjangoWay::Manage => text::as_manage(&run.user, &run.cwd),
    }
}

/// A list of strings as Python writes it: `['*', 'shop.test']`.
pub(crate) fn python_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", items.join(", "))
}

/// Messages of this module, in one place for translation.
mod text {
    use super::super::facts::DjangoRun;
    use crate::i18n::tr;

    pub(super) fn not_asked() -> String {
        tr!("vm-django-not-asked")
    }

    pub(super) fn no_answer(python: &str, why: &str) -> String {
        tr!("vm-django-no-answer", python = python, why = why)
    }

    pub(super) fn unreadable(e: &serde_json::Error) -> String {
        tr!("vm-django-unreadable", error = e)
    }

    pub(super) fn import_failed(run: &DjangoRun, target: Option<&str>, why: &str) -> String {
        let the_app = tr!("vm-the-app");
        let target = target.unwrap_or(&the_app);
        tr!("vm-django-import-failed", target = target, how = super::how(run), why = why)
    }

    pub(super) fn as_service(user: &str, cwd: &str) -> String {
        tr!("vm-django-as-service", user = user, cwd = cwd)
    }

    pub(super) fn as_manage(user: &str, cwd: &str) -> String {
        tr!("vm-django-as-manage", user = user, cwd = cwd)
    }
}
