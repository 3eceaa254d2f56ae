//! The server's integration tests, in one test binary: a real server on a
//! real database (SQLite in a temporary folder, or a fresh PostgreSQL
//! database) per test, spoken to over HTTP. One binary, not one per file:
//! each links the whole server, so one link (and one copy on disk) instead
//! of nine.

#[macro_use]
mod common;

mod backup;
mod cli;
mod clocks;
mod commands;
mod crash;
mod customers;
mod hardening;
mod leads_and_access;
mod sync;
mod sync_simulation;
