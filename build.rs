//! Compiles the in-VM probe (`probe/main.rs`) into a static Linux executable
//! that the deploylab binary carries inside itself (see `src/probe.rs`).
//!
//! The probe has no dependencies, so plain `rustc` builds it. On a Linux host
//! it is built for the host's own target, statically linked; on macOS or
//! Windows (Docker Desktop runs Linux containers) it is built for
//! `<arch>-unknown-linux-musl`, linked by the bundled `rust-lld`, which needs
//! `rustup target add <arch>-unknown-linux-musl` once.
//! `DEPLOYLAB_PROBE_TARGET` overrides the target triple.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=probe");
    // The built-in labs and solutions are embedded (include_dir): a new
    // file or folder there must rebuild the binary.
    println!("cargo:rerun-if-changed=labs");
    println!("cargo:rerun-if-changed=solutions");
    println!("cargo:rerun-if-env-changed=DEPLOYLAB_PROBE_TARGET");
    // The fact types are shared with the probe (`probe/facts.rs`); on the
    // host they also derive serde.
    println!("cargo:rustc-check-cfg=cfg(host_facts)");
    println!("cargo:rustc-cfg=host_facts");

    let target = env::var("TARGET").expect("cargo sets TARGET");
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let probe_target = env::var("DEPLOYLAB_PROBE_TARGET").unwrap_or_else(|_| {
        if target_os == "linux" {
            target.clone()
        } else {
            format!("{arch}-unknown-linux-musl")
        }
    });
    let out =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("deploylab-probe");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());

    let mut cmd = Command::new(rustc);
    cmd.args(["--edition", "2024", "--crate-name", "deploylab_probe"])
        .args([
            "-C",
            "opt-level=s",
            "-C",
            "panic=abort",
            "-C",
            "strip=symbols",
        ])
        .args(["-C", "target-feature=+crt-static"])
        .args(["--target", &probe_target])
        .arg("probe/main.rs")
        .arg("-o")
        .arg(&out);
    // Another target than the host's (macOS, Windows, a cross build): the
    // bundled linker, with the musl target's own start files.
    let host = env::var("HOST").unwrap_or_default();
    if probe_target.contains("-musl") && (target_os != "linux" || probe_target != host) {
        cmd.args(["-C", "linker=rust-lld", "-C", "linker-flavor=ld.lld"]);
    }
    let status = cmd.status().expect("running rustc for the probe");
    if !status.success() {
        panic!(
            "could not build the in-VM probe for {probe_target}; \
             on macOS/Windows run `rustup target add {probe_target}` first"
        );
    }
    // The probe's identity: the name of its read-only copy in each VM, so
    // a VM made by another build of deploylab never runs a probe that is
    // not this one.
    let bytes = std::fs::read(&out).expect("the probe was just built");
    let mut hasher = std::hash::DefaultHasher::new();
    std::hash::Hasher::write(&mut hasher, &bytes);
    println!(
        "cargo:rustc-env=DEPLOYLAB_PROBE_ID={:016x}",
        std::hash::Hasher::finish(&hasher)
    );
}
