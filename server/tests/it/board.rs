//! The service supervisor's board from the server (`tickets/board`, read
//! from `ticket_rows`) counts exactly as the device's pure `service_board`
//! and `service_rates` over the same tickets: open tickets by age and
//! clock state, escalations, each technician's load, the rates and the
//! ratings; for the desk (every ticket) and a technician (their own).

use crate::common::{self, command, push_ok, Client, TestApp};
use app::aggregates::ENTITIES;
use app::sync::store::raise_due;
use app::sync::Fields;
use app::tickets::board::BoardAnswer;
use app::tickets::{service_board, service_rates};
use chrono::{Duration, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// A consultation ticket opened `ago` before now, then the commands given.
fn ticket(id: Uuid, ago: Duration, name: &str) -> Value {
    let opened = (Utc::now() - ago).to_rfc3339_opts(SecondsFormat::Secs, true);
    json!({"id": Uuid::now_v7(), "entity": "ticket", "record_id": id, "base_version": 0, "op": "upsert",
           "fields": {"customer_name": name, "channel": "hotline", "ticket_type": "consultation",
                      "description": "设备保养咨询", "opened_at": opened}})
}

/// The board as the user's device counts it from what it pulls.
async fn on_device(client: &Client) -> BoardAnswer {
    let tickets: Vec<Fields> = common::pull_all(client)
        .await
        .into_iter()
        .filter(|c| c["entity"] == "ticket" && c["kind"] == "upsert")
        .map(|c| c["fields"].as_object().unwrap().clone())
        .collect();
    let refs: Vec<&Fields> = tickets.iter().collect();
    let now = Utc::now();
    let rates = service_rates(&refs, now, SHANGHAI);
    BoardAnswer {
        board: service_board(&refs, now, SHANGHAI),
        contact: (rates[0].met, rates[0].decided),
        handling: (rates[1].met, rates[1].decided),
    }
}

async fn on_server(client: &Client) -> BoardAnswer {
    let (status, body) = client.call("tickets/board", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

on_both_databases!(
    the_servers_board_counts_as_the_device_does,
    |app: TestApp| async move {
        let agent = app.signed_in("agent").await;
        let ids: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
        let minutes = Duration::minutes;
        let ages = [
            minutes(30),
            minutes(180),
            minutes(30 * 60),
            minutes(5 * 24 * 60),
            minutes(30),
            minutes(180),
            minutes(30),
            minutes(30 * 60),
            minutes(60),
            minutes(45),
        ];
        let opened: Vec<Value> = ids
            .iter()
            .zip(ages)
            .enumerate()
            .map(|(n, (id, ago))| ticket(*id, ago, &format!("看板客户{n}")))
            .collect();
        push_ok(&agent, opened).await;
        let contact = |id| command("ticket", id, "contact", json!({"contact_method": "phone"}));
        let results = push_ok(
            &agent,
            vec![
                contact(ids[4]),
                contact(ids[5]),
                common::dispatch(ids[5], app.users["tech"]),
                contact(ids[6]),
                command("ticket", ids[6], "resolve", json!({})),
                contact(ids[7]),
                command("ticket", ids[7], "resolve", json!({})),
                command("ticket", ids[7], "close", json!({"rating": "4"})),
                contact(ids[8]),
                command("ticket", ids[8], "resolve", json!({})),
                command("ticket", ids[8], "close", json!({"rating": "5"})),
                json!({"id": Uuid::now_v7(), "entity": "ticket", "record_id": ids[9],
                       "base_version": 1, "op": "delete"}),
            ],
        )
        .await;
        for result in &results {
            assert_eq!(result["status"], "applied", "{results:?}");
        }
        // The clocks escalate what ran out.
        raise_due(&app.db, ENTITIES, Utc::now(), SHANGHAI).await.unwrap();

        let supervisor = app.signed_in("service_sup").await;
        let served = on_server(&supervisor).await;
        assert_eq!(served, on_device(&supervisor).await);
        // What the tickets above make, counted by hand: six open (four
        // untouched, one contacted, one dispatched), one resolved, two
        // closed with ratings 4 and 5, one deleted.
        let board = &served.board;
        assert_eq!(board.open, 6, "{board:?}");
        assert_eq!(board.by_age, [2, 2, 1, 1], "{board:?}");
        assert_eq!((board.contact_running, board.contact_overdue), (1, 3));
        assert_eq!((board.handling_running, board.handling_overdue), (4, 2));
        assert_eq!(board.escalated, 3);
        assert_eq!(board.workload, vec![(Some("tech".to_owned()), 1), (None, 5)]);
        let this_month = board.ratings.last().unwrap();
        assert_eq!((this_month.1, this_month.2), (2, 9));
        // Contacts: three in time, two late, three overdue unmet; handling:
        // two in time, one late, two overdue.
        assert_eq!(served.contact, (3, 8), "{served:?}");
        assert_eq!(served.handling, (2, 5), "{served:?}");

        // A technician's board holds their own tickets only.
        let tech = app.signed_in("tech").await;
        let theirs = on_server(&tech).await;
        assert_eq!(theirs, on_device(&tech).await);
        assert_eq!(theirs.board.open, 1);
        // Finance has no business with tickets.
        let (status, _) = app
            .signed_in("finance")
            .await
            .call("tickets/board", json!({}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
);
