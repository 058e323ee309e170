//! The words the container lab's hints say as `{{word}}`: the student's
//! own stack (its service names, where its Compose file is), so a hint
//! names `web` and `database` when those are the student's names. Before a
//! stack runs, the course's names.

use super::facts::{Facts, Role};

pub(super) const WORDS: &[&str] = &["app_service", "db_service", "compose"];

/// The course's names, for a stack that does not run yet.
mod text {
    pub(super) const APP: &str = "app";
    pub(super) const DB: &str = "db";
    pub(super) const COMPOSE: &str = "docker-compose";
}

pub(super) fn words(facts: &Facts) -> Vec<(&'static str, String)> {
    let service = |role: Role, default: &str| {
        facts
            .stack
            .with_role(role)
            .map_or_else(|| default.to_string(), |s| s.service.clone())
    };
    // From the app folder, a Compose file in a sub-folder is named.
    let compose = match facts.compose_file.as_deref() {
        Some(file) if file.contains('/') => format!("{} -f {file}", text::COMPOSE),
        _ => text::COMPOSE.to_string(),
    };
    vec![
        ("app_service", service(Role::App, text::APP)),
        ("db_service", service(Role::Db, text::DB)),
        ("compose", compose),
    ]
}
