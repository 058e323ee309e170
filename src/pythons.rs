//! The Pythons deploylab offers. Every image comes from Debian packages, so
//! each Python is the one a Debian release ships: 3.11 is the VM's own
//! (Debian 12); the others come with a small root filesystem of their own
//! release (`images::ensure_base`). Versions no Debian release ships (3.10,
//! 3.12) are not offered: a project asking for one is told which are.

/// One Python and the Debian release it comes from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Python {
    /// major.minor, as `.python-version` and image tags name it.
    pub(crate) version: &'static str,
    /// The Debian suite its packages come from.
    pub(crate) suite: &'static str,
    /// How a person names that release.
    pub(crate) debian: &'static str,
}

/// Every Python offered, the VM's first.
pub(crate) const ALL: &[Python] = &[
    Python {
        version: "3.11",
        suite: "bookworm",
        debian: "Debian 12",
    },
    Python {
        version: "3.13",
        suite: "trixie",
        debian: "Debian 13",
    },
    Python {
        version: "3.14",
        suite: "forky",
        debian: "Debian 14 (testing)",
    },
];

/// The VM's Python: the default where a project names none.
pub(crate) const VM: &Python = &ALL[0];

impl Python {
    /// Whether this is the VM image's Python (whose images install from
    /// the VM's offline apt repository).
    pub(crate) fn is_vm(&self) -> bool {
        self == VM
    }
}

/// The offered Python a request names by major.minor (`3.13`, `3.13.2`,
/// `python-3.13`), as Heroku reads `.python-version`.
pub(crate) fn find(requested: &str) -> Option<&'static Python> {
    let requested = requested.trim().trim_start_matches("python-");
    let mut parts = requested.split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    ALL.iter()
        .find(|p| p.version.split_once('.') == Some((major, minor)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_a_python_by_major_and_minor() {
        assert_eq!(find("3.11"), Some(VM));
        assert_eq!(find("3.13.2").map(|p| p.suite), Some("trixie"));
        assert_eq!(find("python-3.14.0\n").map(|p| p.suite), Some("forky"));
        for missing in ["3.12", "3.10", "3", "3.1", "2.7", "", "3.111"] {
            assert_eq!(find(missing), None, "{missing}");
        }
        assert!(VM.is_vm() && !ALL[1].is_vm());
    }
}
