#!/usr/bin/env bash
# Release builds students download: static Linux executables (musl) for
# x86_64 and aarch64, in dist/ with their sha256 sums. Runs on a Debian or
# Ubuntu x86_64 machine with rustup:
#
#   apt-get install musl-tools gcc-aarch64-linux-gnu   # C for ring, per target
#   rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl
#   scripts/release.sh
#
# Windows: students run the Linux build inside WSL2. macOS, on a Mac with
# Xcode's command line tools (not buildable here, see the README):
#   rustup target add aarch64-apple-darwin x86_64-apple-darwin \
#       aarch64-unknown-linux-musl x86_64-unknown-linux-musl
#   cargo build --release --target aarch64-apple-darwin   # and x86_64-apple-darwin
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
mkdir -p dist
# Smaller downloads: no symbol tables.
export CARGO_PROFILE_RELEASE_STRIP=symbols

# x86_64: musl-gcc for ring's C; the default linker links statically.
CC_x86_64_unknown_linux_musl=musl-gcc \
    cargo build --release --locked --target x86_64-unknown-linux-musl --bin deploylab

# aarch64: the cross gcc for ring's C (freestanding code: glibc's cross
# compiler serves), and Rust's own lld with the musl target's start files.
CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc \
AR_aarch64_unknown_linux_musl=aarch64-linux-gnu-ar \
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld \
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C linker-flavor=ld.lld" \
    cargo build --release --locked --target aarch64-unknown-linux-musl --bin deploylab

for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    arch="${target%%-*}"
    cp "target/$target/release/deploylab" "dist/deploylab-$version-$arch-linux"
done
(cd dist && sha256sum deploylab-"$version"-* > SHA256SUMS && cat SHA256SUMS)
