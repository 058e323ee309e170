//! A stand-in for the official `nginx` image: Debian 12's nginx with the
//! official image's layout, as Compose files rely on it: the server in
//! `/etc/nginx/conf.d/default.conf` (any `*.conf` there is read), pages
//! in `/usr/share/nginx/html`, logs to stdout and stderr (`docker logs`),
//! nginx in the foreground, scripts in `/docker-entrypoint.d` run first.
//! Not provided: the official image's `/etc/nginx/templates` (envsubst).

use bollard::Docker;
use bollard::models::ContainerConfig;

use crate::error::Result;
use crate::images::VmImage;
use crate::progress::Progress;

pub(crate) const REPO: &str = "deploylab/nginx";
/// The `deploylab.image` label of the stand-in.
pub(crate) const KIND: &str = "nginx-standin";
/// The official names it answers to where no such image exists (Debian
/// 12's nginx is 1.22).
pub(crate) const OFFICIAL: &[&str] = &["nginx:latest", "nginx:stable", "nginx:1.22"];

const SETUP: &str = r#"set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends nginx >/dev/null
rm -rf /var/lib/apt/lists/*
# The official image runs its workers as the user nginx.
useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nginx
rm -rf /etc/nginx/sites-enabled /etc/nginx/sites-available /var/www/html
mkdir -p /etc/nginx/conf.d /usr/share/nginx/html /docker-entrypoint.d /var/cache/nginx
ln -sf /dev/stdout /var/log/nginx/access.log
ln -sf /dev/stderr /var/log/nginx/error.log
cat > /etc/nginx/nginx.conf <<'CONF'
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    keepalive_timeout  65;

    include /etc/nginx/conf.d/*.conf;
}
CONF
cat > /etc/nginx/conf.d/default.conf <<'CONF'
server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
CONF
cat > /usr/share/nginx/html/index.html <<'HTML'
<!DOCTYPE html>
<html><head><title>Welcome to nginx!</title></head>
<body><h1>Welcome to nginx!</h1>
<p>deploylab's offline stand-in for the official nginx image (Debian's nginx).</p>
</body></html>
HTML
cp /usr/share/nginx/html/index.html /usr/share/nginx/html/50x.html
cat > /docker-entrypoint.sh <<'SCRIPT'
#!/bin/sh
# deploylab's stand-in for the official image's entrypoint.
set -e
if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
    for f in /docker-entrypoint.d/*.sh; do
        [ -x "$f" ] && { echo "$0: running $f"; "$f"; }
    done
    echo "$0: Configuration complete; ready for start up"
fi
exec "$@"
SCRIPT
chmod 0755 /docker-entrypoint.sh"#;

/// The stand-in's tag for a VM image.
pub(crate) fn tag_for(vm: &VmImage) -> String {
    super::tag_for(REPO, &vm.tag, SETUP)
}

/// The stand-in, built if missing, under its official names where free:
/// its tag and those names.
pub(crate) async fn ensure(
    docker: &Docker,
    vm: &VmImage,
    progress: &Progress,
) -> Result<(String, Vec<String>)> {
    let tag = tag_for(vm);
    let recipe = super::Derived {
        tag: &tag,
        kind: KIND,
        setup: SETUP,
        config: ContainerConfig {
            entrypoint: Some(vec!["/docker-entrypoint.sh".into()]),
            cmd: Some(vec!["nginx".into(), "-g".into(), "daemon off;".into()]),
            env: Some(vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                "NGINX_VERSION=1.22.1".into(),
            ]),
            exposed_ports: Some(vec!["80/tcp".into()]),
            stop_signal: Some("SIGQUIT".into()),
            working_dir: Some("/".into()),
            ..Default::default()
        },
        binds: Vec::new(),
    };
    super::derive(docker, &vm.base(), &recipe, progress).await?;
    let names = super::name_as_official(docker, &tag, KIND, OFFICIAL).await?;
    Ok((tag, names))
}
