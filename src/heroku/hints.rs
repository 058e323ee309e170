//! The words the heroku lab's hints say as `{{word}}`: the student's own
//! app name (the one the check run is about), else `<app>`.

use super::facts::Facts;

pub(super) const WORDS: &[&str] = &["app"];

mod text {
    pub(super) const NO_APP: &str = "<app>";
}

pub(super) fn words(facts: &Facts) -> Vec<(&'static str, String)> {
    let app = facts
        .app
        .as_ref()
        .map_or_else(|| text::NO_APP.to_string(), |a| a.name.clone());
    vec![("app", app)]
}
