//! The `assure` application: the command line and the web service over the ledger
//! and projections crates. A library as well as a binary so that benchmarks and
//! tests drive the same code paths in-process; only this crate knows clap, tokio and
//! HTTP.
//!
//! Layers, top to bottom: the front ends (`cli.rs` + `commands/` for the command
//! line, `web/` for the service) → the application layer (`app/`: one builder per
//! kind of change, the access rules, reading user input, keys and export) and the
//! import (`import/`: a plan file to the events that record it) → `projections` →
//! `ledger`. A front end never imports the other, except that the `serve` family of
//! commands (`commands/serve.rs`) starts the service and manages its accounts.

pub mod app;
pub mod cli;
pub mod commands;
pub mod dates;
pub mod demo;
pub mod exit;
pub mod import;
pub mod output;
pub mod table;
pub mod web;

#[cfg(test)]
mod architecture;
