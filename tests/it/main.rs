//! The integration tests, as one test binary (one link of the crate, not nine): each
//! suite is a module, and what they share is in `support/`. Regression tests are
//! named after what broke.
//!
//! One suite runs as a process of its own, `tests/web_storage.rs`: it installs a
//! process-wide fault injector on the service's syncer thread, which must not reach
//! the other suites' services.

#![allow(clippy::unwrap_used)]

mod support;

mod accounts;
mod beside;
mod browser;
mod cli;
mod connections;
mod crash;
mod damage;
mod disk_full;
mod fuzz_inputs;
mod hostile;
mod hostile_office;
mod live;
mod model;
mod pages;
mod payloads;
mod records;
mod restore;
mod summaries;
mod tiles;
mod web;
mod witness;
