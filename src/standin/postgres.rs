//! A stand-in for the official `postgres:15` image: Debian 12's
//! PostgreSQL 15 with the official image's contract, as far as apps and
//! Compose files rely on it: `POSTGRES_PASSWORD` (required unless
//! `POSTGRES_HOST_AUTH_METHOD=trust`), `POSTGRES_USER`, `POSTGRES_DB`,
//! `PGDATA` (default `/var/lib/postgresql/data`), scripts and SQL in
//! `/docker-entrypoint-initdb.d` run once on a new data folder, password
//! logins from any address, logs on stderr, `postgres` in the foreground
//! as the `postgres` user. SSL is on (Debian's snakeoil certificate), so
//! `sslmode=require` works, as Heroku Postgres asks of apps.

use bollard::Docker;
use bollard::models::ContainerConfig;

use crate::error::Result;
use crate::images::VmImage;
use crate::progress::Progress;

pub(crate) const REPO: &str = "deploylab/postgres";
/// The `deploylab.image` label of the stand-in.
pub(crate) const KIND: &str = "postgres-standin";
/// Where the data lives (the official image's `PGDATA`).
pub(crate) const DATA_DIR: &str = "/var/lib/postgresql/data";
pub(crate) const PORT: u16 = 5432;
/// The official names it answers to where no such image exists (the
/// container lab; the heroku lab uses it by its own tag).
pub(crate) const OFFICIAL: &[&str] = &["postgres:15", "postgres:15-bookworm"];

const SETUP: &str = r#"set -e
export DEBIAN_FRONTEND=noninteractive
# Debian makes a cluster at install; the entrypoint makes one where PGDATA says.
mkdir -p /etc/postgresql-common
echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql-15 ssl-cert >/dev/null
rm -rf /var/lib/apt/lists/*
install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data
install -d -o postgres -g postgres /var/run/postgresql /docker-entrypoint-initdb.d
cat > /usr/local/bin/docker-entrypoint.sh <<'SCRIPT'
#!/bin/bash
# deploylab's stand-in for the official image's entrypoint.
set -euo pipefail
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
BIN=/usr/lib/postgresql/15/bin
export PATH="$BIN:$PATH"
if [ "${1:-postgres}" != postgres ]; then exec "$@"; fi
[ $# -gt 0 ] && shift
if [ "$(id -u)" = 0 ]; then
    install -d -o postgres -g postgres -m 0700 "$PGDATA"
    install -d -o postgres -g postgres /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" postgres "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$method" != trust ]; then
        echo "Error: Database is uninitialized and superuser password is not specified." >&2
        echo "       You must specify POSTGRES_PASSWORD to a non-empty value for the" >&2
        echo "       superuser. For example, \"-e POSTGRES_PASSWORD=password\" on \"docker run\"." >&2
        exit 1
    fi
    user="${POSTGRES_USER:-postgres}"
    db="${POSTGRES_DB:-$user}"
    pwfile="$(mktemp)"
    printf '%s' "${POSTGRES_PASSWORD:-}" > "$pwfile"
    initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host="$method" >/dev/null
    rm -f "$pwfile"
    echo "host all all all $method" >> "$PGDATA/pg_hba.conf"
    cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '*'
ssl = on
ssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'
ssl_key_file = '/etc/ssl/private/ssl-cert-snakeoil.key'
CONF
    # A server on the socket only while the database and init scripts are made.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "$db" != postgres ]; then
        psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -q -c "CREATE DATABASE \"$db\""
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) echo "running $f"; . "$f" ;;
            *.sql) echo "running $f"; psql -v ON_ERROR_STOP=1 -U "$user" -d "$db" -q -f "$f" ;;
            *) ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "PostgreSQL init process complete; ready for start up."
fi
exec postgres -D "$PGDATA" "$@"
SCRIPT
chmod 0755 /usr/local/bin/docker-entrypoint.sh"#;

/// The stand-in's tag for a VM image.
pub(crate) fn tag_for(vm: &VmImage) -> String {
    super::tag_for(REPO, &vm.tag, SETUP)
}

/// The stand-in for a VM image: its tag, built if missing.
pub(crate) async fn ensure(docker: &Docker, vm: &VmImage, progress: &Progress) -> Result<String> {
    let tag = tag_for(vm);
    let recipe = super::Derived {
        tag: &tag,
        kind: KIND,
        setup: SETUP,
        config: ContainerConfig {
            entrypoint: Some(vec!["docker-entrypoint.sh".into()]),
            cmd: Some(vec!["postgres".into()]),
            env: Some(vec![
                format!("PGDATA={DATA_DIR}"),
                "PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                "LANG=C.UTF-8".into(),
            ]),
            exposed_ports: Some(vec![format!("{PORT}/tcp")]),
            stop_signal: Some("SIGINT".into()),
            ..Default::default()
        },
        binds: Vec::new(),
    };
    super::derive(docker, &vm.base(), &recipe, progress).await?;
    Ok(tag)
}
