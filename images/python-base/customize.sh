#!/bin/sh
# Runs once per Python base image build as an mmdebstrap customize hook: $1
# is the root of the new filesystem. Images made from it never reach an
# archive: everything they need is installed now (packages.txt).
#
# Environment (set by deploylab):
#   DEPLOYLAB_PIP_CONF  /etc/pip.conf: the wheel cache, never the network
set -eu
root="$1"

# No package sources: nothing in these images installs from the network.
rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin

# pip as in the VM: the host's wheel cache, never the network (the images
# made from this one point pip at the package proxy where there is one).
printf '%s\n' "$DEPLOYLAB_PIP_CONF" > "$root/etc/pip.conf"
