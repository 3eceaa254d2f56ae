//! Fieldbook's shared crate: domain types and rules, server functions and the
//! user interface, compiled for the server (`ssr`) and the browser (`hydrate`).

#![recursion_limit = "256"]

pub mod aggregates;
pub mod approvals;
pub mod auth;
pub mod calendar;
pub mod client;
pub mod conflicts;
pub mod customers;
pub mod dedup;
pub mod error;
pub mod follow_ups;
pub mod i18n;
pub mod leads;
pub mod notifications;
pub mod photos;
pub mod policy;
pub mod records;
pub mod roles;
pub mod schema;
pub mod screen;
pub mod search;
pub mod settings;
pub mod shell;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod stored;
pub mod sync;
pub mod tickets;
pub mod ui;
pub mod validate;
pub mod visits;

pub use shell::{offline_shell, shell, App};
