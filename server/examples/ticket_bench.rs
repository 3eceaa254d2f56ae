//! Benchmark of the service supervisor's board (`tickets/board`) among
//! 100,000 tickets, on a fresh SQLite or PostgreSQL database. Results:
//! `docs/benchmarks.md`.
//!
//! ```sh
//! cargo run --release -p fieldbook --example ticket_bench -- --database sqlite
//! cargo run --release -p fieldbook --example ticket_bench -- --database postgres
//! ```
//!
//! The tickets are written through the sync engine (`store::push`, in
//! batches of 1,000 mutations, as the desk's devices push them), opened
//! over the last two years; nineteen of twenty are then contacted,
//! resolved and closed with a rating by commands, the rest stay open, a
//! fifth of those dispatched to one of ten technicians. The board is
//! timed `--repetitions` times for the service supervisor (every ticket)
//! and for one technician (their own); the median and the slowest are
//! printed.

use app::roles::{CurrentUser, Role};
use app::ssr::Db;
use app::sync::{Mutation, Op, PushBatch};
use clap::Parser;
use serde_json::json;
use std::time::Instant;
use uuid::Uuid;

#[path = "shared/mod.rs"]
mod shared;

use shared::{median_and_max, Error};

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    db: shared::DatabaseArgs,
    #[arg(long, default_value_t = 100_000)]
    tickets: usize,
    #[arg(long, default_value_t = 50)]
    repetitions: usize,
}

async fn person(db: &Db, username: &str, role: Role) -> Result<CurrentUser, Error> {
    let id = fieldbook::accounts::add_user(
        db,
        fieldbook::accounts::NewUser {
            username,
            display_name: username,
            role,
            team_id: None,
            region_id: None,
            password: "benchpass1",
        },
    )
    .await?;
    Ok(CurrentUser {
        id,
        username: username.to_owned(),
        display_name: username.to_owned(),
        role,
        team_id: None,
        time_zone: "Asia/Shanghai".into(),
    })
}

fn mutation(record_id: Uuid, op: Op, command: Option<&str>, fields: serde_json::Value) -> Mutation {
    Mutation {
        id: Uuid::now_v7(),
        entity: "ticket".into(),
        record_id,
        base_version: if command.is_some() { 1 } else { 0 },
        op,
        fields: fields.as_object().cloned().unwrap_or_default(),
        command: command.map(str::to_owned),
        base: Default::default(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let db = shared::fresh_database(&args.db, &dir).await?;
    let agent = person(&db, "agent", Role::ServiceAgent).await?;
    let supervisor = person(&db, "service_sup", Role::ServiceSupervisor).await?;
    let mut technicians = Vec::new();
    for n in 0..10 {
        technicians.push(person(&db, &format!("tech{n}"), Role::Technician).await?);
    }
    let now = chrono::Utc::now();
    let started = Instant::now();
    let mut mutations = Vec::new();
    for n in 0..args.tickets {
        let id = Uuid::now_v7();
        // Spread over two years, the newest a few minutes old.
        let opened = now - chrono::Duration::minutes(5 + (n as i64 * 10_513) % (2 * 365 * 24 * 60));
        mutations.push(mutation(
            id,
            Op::Upsert,
            None,
            json!({"customer_name": format!("客户{n}"), "channel": "hotline", "ticket_type": "consultation",
                   "description": "设备保养咨询",
                   "opened_at": opened.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}),
        ));
        if n % 20 != 0 {
            mutations.push(mutation(
                id,
                Op::Command,
                Some("contact"),
                json!({"contact_method": "phone"}),
            ));
            mutations.push(mutation(id, Op::Command, Some("resolve"), json!({})));
            mutations.push(mutation(
                id,
                Op::Command,
                Some("close"),
                json!({"rating": (1 + n % 5).to_string()}),
            ));
        } else if n % 100 == 0 {
            let technician = &technicians[(n / 100) % technicians.len()];
            mutations.push(mutation(
                id,
                Op::Command,
                Some("dispatch"),
                json!({"technician": technician.id}),
            ));
        }
        if mutations.len() >= 1_000 || n + 1 == args.tickets {
            let batch = PushBatch {
                client_id: Uuid::nil(),
                epoch: None,
                mutations: std::mem::take(&mut mutations),
            };
            let result =
                app::sync::store::push(&db, app::aggregates::ENTITIES, &agent, batch, chrono::Utc::now())
                    .await?;
            if let Some(bad) = result
                .results
                .iter()
                .find(|r| !matches!(r.status, app::sync::MutationStatus::Applied { .. }))
            {
                return Err(format!("a bench mutation was not applied: {bad:?}").into());
            }
        }
    }
    println!(
        "{}: pushed {} tickets (with their commands) in {:.1} s",
        args.db.database,
        args.tickets,
        started.elapsed().as_secs_f64()
    );
    if args.db.database == "postgres" {
        sqlx::query("ANALYZE").execute(&db.pool).await?;
    }

    for (who, user) in [
        ("service supervisor", &supervisor),
        ("technician", &technicians[3]),
    ] {
        let scope = app::policy::scope(user, app::policy::Kind::Ticket).ok_or("no ticket scope")?;
        let mut times = Vec::new();
        let mut answer = None;
        for _ in 0..args.repetitions {
            let at = Instant::now();
            answer =
                Some(app::tickets::board::store::board(&db, scope, chrono::Utc::now(), user.tz()).await?);
            times.push(at.elapsed());
        }
        let (median, max) = median_and_max(times);
        let answer = answer.ok_or("no repetitions")?;
        println!(
            "board for the {who} among {}: median {median:.2?}, slowest {max:.2?} \
             ({} open, contact rate {}/{})",
            args.tickets, answer.board.open, answer.contact.0, answer.contact.1
        );
    }
    Ok(())
}
