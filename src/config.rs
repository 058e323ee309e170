//! The home's settings: `config.yaml` in the deploylab home, for what a
//! machine decides rather than a command (today: whether to keep a spare
//! VM booted ahead). `DEPLOYLAB_SPARE` overrides it for one shell.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::state::Home;

/// `config.yaml`; every key optional, an unknown one an error (a typo must
/// not silently keep the default).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Keep a VM lab's next VM booted in the background (about 30 MiB while
    /// it waits), so `start` claims it instead of booting. Off for machines
    /// short of memory.
    #[serde(default = "on")]
    pub(crate) spare: bool,
}

fn on() -> bool {
    true
}

impl Default for Config {
    fn default() -> Self {
        Config { spare: on() }
    }
}

impl Config {
    /// The home's config.yaml (none: the defaults); a broken one is an
    /// error naming file:line:col.
    pub(crate) fn load(home: &Home) -> Result<Config> {
        let path = home.dir.join("config.yaml");
        match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().is_empty() => Ok(Config::default()),
            Ok(text) => crate::lab::from_yaml(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(Error::io(format!("reading {}", path.display()))(e)),
        }
    }

    /// Whether spare VMs are kept: `DEPLOYLAB_SPARE` (`on`/`off`) if set,
    /// else the file's `spare:`.
    pub(crate) fn spares(home: &Home) -> Result<bool> {
        match std::env::var("DEPLOYLAB_SPARE")
            .ok()
            .as_deref()
            .map(str::trim)
        {
            Some("off" | "0" | "false" | "no") => Ok(false),
            Some("on" | "1" | "true" | "yes") => Ok(true),
            Some(other) if !other.is_empty() => Err(Error::BadSetting {
                name: "DEPLOYLAB_SPARE",
                value: other.to_string(),
                why: "expected on or off",
            }),
            _ => Ok(Config::load(home)?.spare),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home_with(config: Option<&str>) -> (tempfile::TempDir, Home) {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = config {
            std::fs::write(dir.path().join("config.yaml"), text).unwrap();
        }
        let home = Home {
            dir: dir.path().to_path_buf(),
            cache: dir.path().join("cache"),
        };
        (dir, home)
    }

    #[test]
    fn spares_are_on_unless_the_file_says_otherwise() {
        let (_d, home) = home_with(None);
        assert!(Config::load(&home).unwrap().spare);
        let (_d, home) = home_with(Some("spare: false\n"));
        assert!(!Config::load(&home).unwrap().spare);
        let (_d, home) = home_with(Some("# nothing set\n"));
        assert!(Config::load(&home).unwrap().spare);
    }

    #[test]
    fn a_broken_config_names_file_line_and_column() {
        let (_d, home) = home_with(Some("spare: false\nspares: true\n"));
        let e = Config::load(&home).unwrap_err().to_string();
        assert!(e.contains("config.yaml:2:1"), "{e}");
        let (_d, home) = home_with(Some("spare: maybe\n"));
        let e = Config::load(&home).unwrap_err().to_string();
        assert!(e.contains("config.yaml:1:"), "{e}");
    }
}
