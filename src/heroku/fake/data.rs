//! Heroku's data API (`api.data.heroku.com`), which the CLI's `pg:*`
//! commands ask instead of the Platform API: `heroku env` points it at the
//! fake (`HEROKU_DATA_HOST=localhost`: the CLI keeps the API's port and
//! token). It answers `pg:info` (`heroku pg`) with what the add-on's real
//! server says of itself, against the plan's limits, and `pg:reset` by
//! emptying the database. Other `pg:*` commands get Heroku's 404, which the
//! CLI reports as an error.

use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Fake;
use super::addons::{Addon, in_server, server_name};
use super::api::{Answer, error};

/// Messages of the data API, kept together for translation.
mod text {
    pub(super) const NOT_FOUND: &str = "Couldn't find that database.";
    pub(super) const UNSUPPORTED: &str = "deploylab's Heroku Postgres answers pg:info and pg:reset; other pg commands are not offered.";
    pub(super) fn unavailable(why: &str) -> String {
        format!("The database did not answer: {}", why.trim())
    }
}

/// A plan's limits, as Heroku states them: storage in GB, connections,
/// tables (none: no limit).
fn limits(plan: &str) -> (u64, u64, Option<u64>) {
    match plan {
        "essential-0" => (1, 20, Some(4000)),
        "essential-1" => (10, 20, Some(4000)),
        "essential-2" => (32, 40, Some(4000)),
        _ => (64, 120, None),
    }
}

/// `essential-0` → `Essential 0`, as `pg:info` shows plans.
fn plan_title(plan: &str) -> String {
    plan.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the server says of the database, read in one `psql` call.
#[derive(Debug, PartialEq)]
pub(crate) struct Usage {
    pub(crate) version: String,
    pub(crate) bytes: u64,
    pub(crate) tables: u64,
    pub(crate) connections: u64,
}

const USAGE_SQL: &str = "SELECT current_setting('server_version'), \
     pg_database_size(current_database()), \
     (SELECT count(*) FROM pg_stat_user_tables), \
     (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid())";

/// `15.14 (Debian 15.14-0+deb12u1)|7631663|3|1` → Usage.
pub(crate) fn parse_usage(line: &str) -> Option<Usage> {
    let mut fields = line.trim().split('|');
    let version = fields.next()?.split_whitespace().next()?.to_string();
    let mut number = || fields.next()?.trim().parse::<u64>().ok();
    Some(Usage {
        version,
        bytes: number()?,
        tables: number()?,
        connections: number()?,
    })
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

/// The body of `GET /client/v11/databases/{id}`: `pg:info` prints `info`
/// as name-value lines and matches `resource_url` to the config vars.
pub(crate) fn info_json(addon: &Addon, usage: &Usage) -> Value {
    let (gigabytes, connections, tables) = limits(&addon.plan);
    let share = usage.bytes as f64 * 100.0 / (gigabytes as f64 * 1_073_741_824.0);
    let tables_line = match tables {
        Some(max) => format!("{}/{max} (In compliance)", usage.tables),
        None => usage.tables.to_string(),
    };
    let created = addon.created_at.replace('T', " ");
    let created = created.get(..16).unwrap_or(&created).to_string();
    let line = |name: &str, value: String| json!({ "name": name, "values": [value] });
    json!({
        "addon_id": addon.id,
        "name": addon.name,
        "plan": addon.plan,
        "resource_url": addon.url(),
        "postgres_version": usage.version,
        "num_bytes": usage.bytes,
        "num_tables": usage.tables,
        "num_connections": usage.connections,
        "following": null,
        "leader": null,
        "info": [
            line("Plan", plan_title(&addon.plan)),
            line("Status", "Available".into()),
            line("Connections", format!("{}/{connections}", usage.connections)),
            line("PG Version", usage.version.clone()),
            line("Created", created),
            line("Data Size", format!(
                "{} / {gigabytes} GB ({share:.2}%) (In compliance)",
                megabytes(usage.bytes)
            )),
            line("Tables", tables_line),
            line("Fork/Follow", "Unsupported".into()),
            line("Rollback", "Unsupported".into()),
            line("Continuous Protection", "Off".into()),
        ],
    })
}

/// The data API's requests; None for any other path.
pub(crate) async fn answer(
    fake: &Fake,
    method: &Method,
    path: &str,
    body: &[u8],
) -> Option<Answer> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let ["client", "v11", "databases", id, rest @ ..] = segments.as_slice() else {
        return None;
    };
    let found = {
        let platform = fake.platform.lock().await;
        platform.state.apps.values().find_map(|app| {
            app.addons
                .iter()
                .find(|a| a.id == *id || a.name == *id)
                .map(|a| (app.name.clone(), a.clone()))
        })
    };
    let Some((app, addon)) = found else {
        return Some(error(StatusCode::NOT_FOUND, "not_found", text::NOT_FOUND));
    };
    let Some(docker) = fake.docker() else {
        return Some(error(StatusCode::NOT_FOUND, "not_found", text::NOT_FOUND));
    };
    let server = server_name(&fake.instance, &app);
    let sql = |statement: String| {
        let server = server.clone();
        let (user, database) = (addon.user.clone(), addon.database.clone());
        async move {
            let cmd = [
                "psql",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-U",
                &user,
                "-d",
                &database,
                "-c",
                &statement,
            ];
            in_server(docker, &server, &cmd).await
        }
    };
    let unavailable = |e: crate::error::Error| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &text::unavailable(&e.to_string()),
        )
    };
    Some(match (method, rest) {
        (&Method::GET, []) => match sql(USAGE_SQL.to_string()).await {
            Ok(out) => match parse_usage(&out) {
                Some(usage) => (StatusCode::OK, info_json(&addon, &usage)),
                None => unavailable(crate::error::Error::Capture { why: out }),
            },
            Err(e) => unavailable(e),
        },
        (&Method::PUT, ["reset"]) => {
            #[derive(Deserialize, Default)]
            struct Reset {
                #[serde(default)]
                extensions: Option<Vec<String>>,
            }
            let asked: Reset = serde_json::from_slice(body).unwrap_or_default();
            // What Heroku's reset leaves: an empty public schema, with the
            // extensions asked for.
            let mut statement = format!(
                "DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION \"{}\";",
                addon.user
            );
            for extension in asked.extensions.unwrap_or_default() {
                let name: String = extension
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                statement.push_str(&format!(" CREATE EXTENSION IF NOT EXISTS \"{name}\";"));
            }
            match sql(statement).await {
                Ok(_) => (StatusCode::OK, json!({ "message": "Reset" })),
                Err(e) => unavailable(e),
            }
        }
        _ => error(StatusCode::NOT_FOUND, "not_found", text::UNSUPPORTED),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addon(plan: &str) -> Addon {
        Addon {
            id: "01234567-89ab-cdef-0123-456789abcdef".into(),
            name: "postgresql-quiet-12345".into(),
            plan: plan.into(),
            created_at: "2026-11-29T18:25:32Z".into(),
            attachment_id: "a".into(),
            user: "u".into(),
            password: "p".into(),
            database: "d".into(),
        }
    }

    #[test]
    fn the_servers_answer_is_read_strictly() {
        let usage = parse_usage("15.14 (Debian 15.14-0+deb12u1)|7631663|3|1\n").unwrap();
        assert_eq!(
            usage,
            Usage {
                version: "15.14".into(),
                bytes: 7_631_663,
                tables: 3,
                connections: 1
            }
        );
        assert_eq!(parse_usage("15.14|x|3|1"), None);
        assert_eq!(parse_usage(""), None);
    }

    #[test]
    fn pg_info_lines_read_like_herokus() {
        let usage = parse_usage("15.14|7631663|3|2").unwrap();
        let info = info_json(&addon("essential-0"), &usage);
        let lines: Vec<String> = info["info"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                format!(
                    "{}: {}",
                    l["name"].as_str().unwrap(),
                    l["values"][0].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                "Plan: Essential 0",
                "Status: Available",
                "Connections: 2/20",
                "PG Version: 15.14",
                "Created: 2026-11-29 18:25",
                "Data Size: 7.3 MB / 1 GB (0.71%) (In compliance)",
                "Tables: 3/4000 (In compliance)",
                "Fork/Follow: Unsupported",
                "Rollback: Unsupported",
                "Continuous Protection: Off",
            ]
        );
        assert_eq!(info["resource_url"], addon("essential-0").url());
        let standard = info_json(&addon("standard-0"), &usage);
        assert_eq!(standard["info"][0]["values"][0], "Standard 0");
        assert_eq!(standard["info"][6]["values"][0], "3");
    }
}
