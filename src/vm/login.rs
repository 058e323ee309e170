//! The real SSH login that proves the access stage (`key-authorized`),
//! remembered: a login costs about as much as the rest of a check, and what
//! it proves holds until something it depends on changes. So a login that
//! worked is kept with what it depended on, from the probe's facts: the
//! processes holding port 22 (pid and program: a program put in sshd's
//! place is another process) and the user's authorized_keys (its stat).
//! While those are the same, the next check needs no new login.

use std::path::PathBuf;
use std::process::Command;

use super::facts::Facts;

/// A login to prove: the ssh command, the user, where its proof is kept.
pub(crate) struct Login {
    pub(crate) ssh: Command,
    pub(crate) user: String,
    pub(crate) proof: PathBuf,
}

/// What the login depends on, from the facts (`None`: not known, so no
/// proof is kept or believed).
fn depends_on(facts: &Facts, user: &str) -> Option<String> {
    let mut holders: Vec<String> = (facts.tcp_listen.as_ref()?.iter())
        .filter(|l| l.port == 22)
        .flat_map(|l| l.processes.iter().map(|p| format!("{}:{}", p.pid, p.exe)))
        .collect();
    holders.sort();
    holders.dedup();
    let keys = facts.ssh_keys.get(user)?.as_ref()?;
    let stat = keys.file.stat.as_ref()?;
    (!holders.is_empty()).then(|| {
        format!(
            "{user} {} {} {} {:o} {}",
            holders.join(","),
            stat.mtime,
            stat.size,
            stat.mode,
            stat.uid
        )
    })
}

/// The user logged in as, or why not: from a kept proof when nothing it
/// depends on changed, else by logging in (and keeping the proof).
pub(crate) async fn prove(login: Login, facts: Option<&Facts>) -> Result<String, String> {
    let depends = facts.and_then(|f| depends_on(f, &login.user));
    if let Some(now) = &depends
        && std::fs::read_to_string(&login.proof).is_ok_and(|kept| kept == *now)
    {
        return Ok(login.user);
    }
    let result = super::machine::ssh_login(login.ssh, &login.user).await;
    match (&result, depends) {
        (Ok(_), Some(now)) => {
            let _ = std::fs::write(&login.proof, now);
        }
        _ => {
            let _ = std::fs::remove_file(&login.proof);
        }
    }
    result
}
