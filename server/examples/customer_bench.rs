//! Benchmark of the customer projection: a 查重 duplicate check and a page
//! of the customer list among 200,000 customers, `projections rebuild` of
//! them, and the admin's save of the company settings, which plans every
//! running clock again in its push; on a fresh SQLite or PostgreSQL
//! database. Results: `docs/benchmarks.md`.
//!
//! ```sh
//! cargo run --release -p fieldbook --example customer_bench -- --database sqlite
//! cargo run --release -p fieldbook --example customer_bench -- --database postgres
//! ```
//!
//! The customers are written through the sync engine (`store::push`, in
//! batches of 1,000, as devices push them), so the projection rows are the
//! ones the engine writes. Each query is timed `--repetitions` times with
//! different keys; the median and the slowest are printed.

use app::roles::{CurrentUser, Role};
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
    #[arg(long, default_value_t = 200_000)]
    customers: usize,
    #[arg(long, default_value_t = 200)]
    repetitions: usize,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let db = shared::fresh_database(&args.db, &dir).await?;
    let team = fieldbook::accounts::ensure_team(&db, "A 组", None).await?;
    let mut reps = Vec::new();
    for n in 0..20 {
        let username = format!("rep{n}");
        let id = fieldbook::accounts::add_user(
            &db,
            fieldbook::accounts::NewUser {
                username: &username,
                display_name: &username,
                role: Role::Rep,
                team_id: Some(team),
                region_id: None,
                password: "benchpass1",
            },
        )
        .await?;
        reps.push(CurrentUser {
            id,
            username,
            display_name: format!("代表{n}"),
            role: Role::Rep,
            team_id: Some(team),
            time_zone: "Asia/Shanghai".into(),
        });
    }
    let started = Instant::now();
    for start in (0..args.customers).step_by(1_000) {
        let rep = &reps[(start / 1_000) % reps.len()];
        let mutations = (start..(start + 1_000).min(args.customers))
            .map(|n| {
                let id = Uuid::now_v7();
                let fields = json!({
                    "company": format!("客户{n}精密机械有限公司"),
                    "phone": format!("139{n:08}"),
                    "payment_method": "transfer",
                    "credit_rating": "credit_good",
                    "credit_limit": format!("{}.00", 10_000 + n),
                });
                Mutation {
                    id: Uuid::now_v7(),
                    entity: "customer".into(),
                    record_id: id,
                    base_version: 0,
                    op: Op::Upsert,
                    fields: fields.as_object().cloned().unwrap_or_default(),
                    command: None,
                    base: Default::default(),
                }
            })
            .collect();
        let batch = PushBatch {
            client_id: Uuid::nil(),
            epoch: None,
            mutations,
        };
        app::sync::store::push(&db, app::aggregates::ENTITIES, rep, batch, chrono::Utc::now()).await?;
    }
    let pushed = started.elapsed();
    println!(
        "{}: pushed {} customers with their projection rows in {:.1} s ({:.0} records/s)",
        args.db.database,
        args.customers,
        pushed.as_secs_f64(),
        args.customers as f64 / pushed.as_secs_f64()
    );
    if args.db.database == "postgres" {
        sqlx::query("ANALYZE").execute(&db.pool).await?;
    }

    // 查重: a name typed another way (full-width, another suffix), and a phone.
    let mut times = Vec::new();
    let checker = &reps[1];
    for r in 0..args.repetitions {
        let n = (r * 7_919) % args.customers;
        let typed = format!("客户{n}精密机械股份有限公司").replace('0', "０");
        let keys = app::dedup::Keys::new(&typed, &format!("+86 139{n:08}"), "");
        let at = Instant::now();
        let found = app::customers::store::duplicates(&db, checker, &keys).await?;
        times.push(at.elapsed());
        assert_eq!(found.len(), 1, "{typed}: {found:?}");
    }
    let (median, max) = median_and_max(times);
    println!(
        "duplicate check among {}: median {median:.2?}, slowest {max:.2?}",
        args.customers
    );

    // A page of one rep's customer list (50, by company), from the projection.
    let mut times = Vec::new();
    for r in 0..args.repetitions {
        let rep = &reps[r % reps.len()];
        let at = Instant::now();
        let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, company, code FROM customer_rows WHERE owner_id = $1 AND deleted = 0 \
             ORDER BY company LIMIT 50 OFFSET $2",
        )
        .bind(rep.id.to_string())
        .bind(((r * 50) % 5_000) as i64)
        .fetch_all(&db.pool)
        .await?;
        times.push(at.elapsed());
        assert_eq!(rows.len(), 50);
    }
    let (median, max) = median_and_max(times);
    println!(
        "customer list page (50 of a rep's 10,000) among {}: median {median:.2?}, slowest {max:.2?}",
        args.customers
    );

    let at = Instant::now();
    let rows = app::sync::store::rebuild_projections(&db, app::aggregates::ENTITIES).await?;
    println!(
        "projections rebuild: {rows} rows in {:.1} s",
        at.elapsed().as_secs_f64()
    );

    // The admin saves the company's settings: the push reads every record
    // of the entities with clocks and plans their clocks again.
    let admin_id = fieldbook::accounts::add_user(
        &db,
        fieldbook::accounts::NewUser {
            username: "admin",
            display_name: "admin",
            role: Role::Admin,
            team_id: None,
            region_id: None,
            password: "benchpass1",
        },
    )
    .await?;
    let admin = CurrentUser {
        id: admin_id,
        username: "admin".into(),
        display_name: "管理员".into(),
        role: Role::Admin,
        team_id: None,
        time_zone: "Asia/Shanghai".into(),
    };
    let settings = json!({"company_name": "华东机电", "pool_days_class_c": "20"});
    let batch = PushBatch {
        client_id: Uuid::nil(),
        epoch: None,
        mutations: vec![Mutation {
            id: Uuid::now_v7(),
            entity: app::settings::SETTINGS.name.into(),
            record_id: app::settings::SETTINGS_ID,
            base_version: 0,
            op: Op::Upsert,
            fields: settings.as_object().cloned().unwrap_or_default(),
            command: None,
            base: Default::default(),
        }],
    };
    let at = Instant::now();
    let saved =
        app::sync::store::push(&db, app::aggregates::ENTITIES, &admin, batch, chrono::Utc::now()).await?;
    assert!(
        matches!(saved.results[0].status, app::sync::MutationStatus::Applied { .. }),
        "{saved:?}"
    );
    println!(
        "settings saved, every clock planned again over {} customers: {:.1} s",
        args.customers,
        at.elapsed().as_secs_f64()
    );
    Ok(())
}
