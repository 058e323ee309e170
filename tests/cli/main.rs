//! End-to-end tests: the real `deploylab` binary, with a clean environment
//! and a throwaway home, against the real Docker engine, real systemd, sshd,
//! apt and the real `ssh` client. The VM image is built once (shared cache)
//! and reused by every test.
//!
//! One test binary, by topic; `support` is the small builder they share.

#[macro_use]
mod support;

mod ansible;
mod basics;
mod book;
mod container;
mod grading;
mod heroku;
mod k8s;
mod lifecycle;
mod machines;
mod packages;
mod portability;
mod projects;
mod spare;
mod vm_nginx;
