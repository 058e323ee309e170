//! The heroku lab (course section 3): the lab's side of the seam
//! (`lab.rs`: start, stop, facts, checks, submissions) over a local fake
//! Heroku, the service in `fake/` that the real heroku CLI and git talk to.
//! The lab starts the service as a process of its own (`deploylab
//! heroku-serve`) and reads its records; the service knows nothing of labs.

pub(crate) mod checks;
pub(crate) mod cli;
pub(crate) mod facts;
pub(crate) mod fake;
mod hints;
#[cfg(test)]
mod fixtures;
pub(crate) mod lab;
pub(crate) mod stack;
mod submission;

pub(crate) use fake::{
    Ports, ServeArgs, addons, api, build, dynos, git, router, serve, slug, tls,
};
pub(crate) use lab::Heroku;
