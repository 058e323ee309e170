//! Times as the API writes them (RFC 3339 with seconds, `Z`) and ages as
//! `kubectl get` prints them ("5s", "3m2s", "4h", "2d").

use jiff::Timestamp;

/// Now, as an object's timestamps say it.
pub fn now() -> String {
    format(Timestamp::now())
}

fn format(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Seconds since `stamp` (0 when it cannot be read or is in the future).
pub fn seconds_since(stamp: &str) -> u64 {
    stamp
        .parse::<Timestamp>()
        .map(|t| {
            Timestamp::now()
                .as_second()
                .saturating_sub(t.as_second())
                .max(0) as u64
        })
        .unwrap_or(0)
}

/// kubectl's short age: the two largest units under a day's range, as
/// `duration.HumanDuration` prints them.
pub fn age(seconds: u64) -> String {
    let (m, h, d) = (seconds / 60, seconds / 3600, seconds / 86400);
    match seconds {
        s if s < 120 => format!("{s}s"),
        _ if m < 10 => match seconds % 60 {
            0 => format!("{m}m"),
            s => format!("{m}m{s}s"),
        },
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 => match m % 60 {
            0 => format!("{h}h"),
            mm => format!("{h}h{mm}m"),
        },
        _ if h < 48 => format!("{h}h"),
        _ if h < 24 * 8 => match h % 24 {
            0 => format!("{d}d"),
            hh => format!("{d}d{hh}h"),
        },
        _ => format!("{d}d"),
    }
}

/// The age of an object's `metadata.creationTimestamp`.
pub fn age_of(object: &serde_json::Value) -> String {
    match object["metadata"]["creationTimestamp"].as_str() {
        Some(stamp) => age(seconds_since(stamp)),
        None => "<unknown>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (185, "3m5s"),
            (600, "10m"),
            (3 * 3600 + 120, "3h2m"),
            (10 * 3600, "10h"),
            (50 * 3600, "2d2h"),
            (30 * 86400, "30d"),
        ];
        for (seconds, shown) in cases {
            assert_eq!(age(seconds), shown, "{seconds}");
        }
        assert!(now().ends_with('Z'));
    }
}
