//! The `fieldbook` server: wires the database, the Leptos app, server
//! functions and the HTTP middleware together. Domain logic lives in `app`.

pub mod accounts;
pub mod config;
pub mod demo;
pub mod http;

pub use http::router;
