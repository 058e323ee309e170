#!/bin/sh
# Runs once per image build as an mmdebstrap customize hook: $1 is the root of
# the new Debian 12 filesystem. Everything here must work with no network inside
# the VM later, so the offline package repository is filled now, from the same
# archive snapshot that the root filesystem came from.
#
# Environment (set by deploylab):
#   DEPLOYLAB_APT_PACKAGES  packages students install in labs (space separated)
#   DEPLOYLAB_REPO_OUT      host folder that receives the offline apt repository
#   DEPLOYLAB_PIP_CONF      /etc/pip.conf: the wheel cache, never the network
set -eu
root="$1"

# --- the user a student logs in as --------------------------------------------
chroot "$root" useradd --create-home --shell /bin/bash --uid 1000 --groups sudo student
echo 'student:student' | chroot "$root" chpasswd
# Like a cloud image's default user: sudo without a password prompt.
echo 'student ALL=(ALL:ALL) NOPASSWD: ALL' > "$root/etc/sudoers.d/90-deploylab-student"
chmod 0440 "$root/etc/sudoers.d/90-deploylab-student"
install -d -m 0700 -o 1000 -g 1000 "$root/home/student/.ssh"

# --- sshd: keys only, quick logins, a host key of its own per VM ----------------
cat > "$root/etc/ssh/sshd_config.d/deploylab.conf" <<'CONF'
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintLastLog no
HostKey /etc/ssh/ssh_host_ed25519_key
CONF
# The keys made while building would be shared by every VM: each VM makes its
# own on first boot, before sshd starts (deploylab then pins it for `ssh`).
rm -f "$root"/etc/ssh/ssh_host_*
cat > "$root/etc/systemd/system/deploylab-ssh-host-key.service" <<'UNIT'
[Unit]
Description=Make this VM's SSH host key
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key

[Install]
RequiredBy=ssh.service
UNIT
mkdir -p "$root/etc/systemd/system/ssh.service.requires"
ln -sf /etc/systemd/system/deploylab-ssh-host-key.service \
    "$root/etc/systemd/system/ssh.service.requires/deploylab-ssh-host-key.service"

# --- systemd as PID 1 in a container: drop units that need real hardware -------
for unit in getty.target console-getty.service systemd-udevd.service \
            systemd-udev-trigger.service systemd-remount-fs.service \
            systemd-firstboot.service sys-kernel-debug.mount \
            sys-kernel-tracing.mount dev-hugepages.mount \
            systemd-modules-load.service apt-daily.timer apt-daily-upgrade.timer \
            e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# A fresh machine-id per container, made by systemd at boot.
: > "$root/etc/machine-id"

# --- the offline package repository ---------------------------------------------
# Download (not install) what the labs need, resolved by the VM's own apt against
# the VM's own package database, recommends included as on a real install.
if [ -n "${DEPLOYLAB_APT_PACKAGES:-}" ]; then
    mkdir -p "$root/tmp/deploylab-repo/partial"
    # shellcheck disable=SC2086 # word splitting of the package list is wanted
    chroot "$root" apt-get install --download-only --yes \
        -o APT::Install-Recommends=true \
        -o Dir::Cache::archives=/tmp/deploylab-repo $DEPLOYLAB_APT_PACKAGES
    rmdir "$root/tmp/deploylab-repo/partial"
    chroot "$root" sh -c 'cd /tmp/deploylab-repo && apt-ftparchive packages . > Packages && apt-ftparchive release . > Release'
    mkdir -p "$DEPLOYLAB_REPO_OUT"
    cp -a "$root/tmp/deploylab-repo/." "$DEPLOYLAB_REPO_OUT/"
    rm -rf "$root/tmp/deploylab-repo"
fi

# The VM's only package source is that repository, mounted read-only at
# /srv/deploylab/apt: `apt-get update` and `apt-get install` work offline.
# (Debian's own images list their archive in sources.list.d: that goes too.)
rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
cat > "$root/etc/apt/sources.list.d/deploylab.sources" <<'CONF'
# deploylab: offline package repository served from the host
Types: deb
URIs: file:/srv/deploylab/apt
Suites: ./
Trusted: yes
CONF

# pip: Python packages come from the host's wheel cache, never from the network
# (an unreachable index would make every `pip install` wait through retries).
printf '%s\n' "$DEPLOYLAB_PIP_CONF" > "$root/etc/pip.conf"
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin
