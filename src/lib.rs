//! The `assure` application: the command line over the ledger and projections
//! crates. A library as well as a binary so that benchmarks and tests can drive the
//! same code paths in-process; only this crate knows clap (and, later, HTTP).

pub mod app;
pub mod cli;
pub mod commands;
pub mod dates;
pub mod demo;
pub mod exit;
pub mod import;
pub mod table;
pub mod web;
