//! The server's integration tests, in one test binary: a real server on a
//! real database (SQLite in a temporary folder, or a fresh PostgreSQL
//! database) per test, spoken to over HTTP. One binary, not one per file:
//! each links the whole server, so one link (and one copy on disk) instead
//! of eight. The sync simulation (`../sync_simulation.rs`) is its own binary:
//! its thousand cases each open a database, and beside the other tests on a
//! loaded machine they waited past the pool's timeout.

#[macro_use]
mod common;

mod backup;
mod board;
mod cli;
mod clocks;
mod commands;
mod crash;
mod customers;
mod hardening;
mod leads_and_access;
mod look_alikes;
mod pages;
mod photos;
mod pool;
mod settings;
mod sync;
