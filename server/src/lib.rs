//! The `fieldbook` server: wires the database, the Leptos app, server
//! functions and the HTTP middleware together. Domain logic lives in `app`.

pub mod accounts;
pub mod backup;
pub mod config;
pub mod demo;
pub mod http;
pub mod pages;

pub use http::router;

/// Raises the clocks whose time has come, at start and every `interval`
/// after: what a stopped server missed is raised when it starts again,
/// since clocks are stored times, not timers.
pub async fn clock_job(
    db: app::ssr::Db,
    entities: app::sync::entity::Entities,
    tz: chrono_tz::Tz,
    interval: std::time::Duration,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match app::sync::store::raise_due(&db, entities, chrono::Utc::now(), tz).await {
            Ok(0) => {}
            Ok(raised) => tracing::info!(raised, "clocks raised"),
            Err(error) => tracing::warn!(%error, "the clock job failed; it tries again"),
        }
    }
}
