//! Photos of a repair, uploaded in chunks: a cut upload resumes where the
//! server stopped and the stored photo is byte-equal; an over-size or
//! damaged photo is refused with nothing of it kept; only those who may
//! change the ticket upload, only those who may read it see the photo.

use crate::common::{self, Client, TestApp};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const CHUNK: usize = app::photos::CHUNK;

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes that look like nothing in particular (a photo's are as random).
fn photo_bytes(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x2545_f491;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

fn declaration(id: Uuid, ticket: Uuid, bytes: &[u8], sha256: &str) -> Value {
    json!({"photo": {"id": id, "entity": "ticket", "record_id": ticket, "stage": "before",
                     "content_type": "image/jpeg", "size": bytes.len(), "sha256": sha256,
                     "taken_at": "2026-12-06T02:00:00Z"}})
}

async fn send(client: &Client, id: Uuid, offset: usize, bytes: &[u8]) -> (StatusCode, Value) {
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    client
        .call("photos/chunk", json!({"id": id, "offset": offset, "data": data}))
        .await
}

async fn stored(app: &TestApp, table: &str, id: Uuid) -> i64 {
    let column = if table == "photos" { "id" } else { "photo_id" };
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"))
        .bind(id.to_string())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    n
}

/// A repair ticket dispatched to the technician.
async fn dispatched_ticket(app: &TestApp) -> Uuid {
    let agent = app.signed_in("agent").await;
    let ticket = Uuid::now_v7();
    common::push_ok(
        &agent,
        vec![json!({
            "id": Uuid::now_v7(), "entity": "ticket", "record_id": ticket, "base_version": 0, "op": "upsert",
            "fields": {"customer_name": "苏州恒达精密机械", "channel": "hotline", "ticket_type": "repair",
                       "description": "主轴异响", "opened_at": "2026-12-06T01:00:00Z"},
        })],
    )
    .await;
    let dispatched = common::push_ok(&agent, vec![common::dispatch(ticket, app.users["tech"])]).await;
    assert_eq!(dispatched[0]["status"], "applied", "{dispatched:?}");
    ticket
}

on_both_databases!(
    a_cut_photo_upload_resumes_and_is_stored_byte_equal,
    |app: TestApp| async move {
        let ticket = dispatched_ticket(&app).await;
        let tech = app.signed_in("tech").await;
        let bytes = photo_bytes(2 * CHUNK + 12_345);
        let id = Uuid::now_v7();
        let declared = declaration(id, ticket, &bytes, &hex_digest(&bytes));
        let (status, progress) = tech.call("photos/begin", declared.clone()).await;
        assert_eq!(
            (status, progress.clone()),
            (StatusCode::OK, json!({"received": 0, "complete": false}))
        );

        // The first chunk arrives; the connection is cut during the second
        // (it never arrives); the phone comes back with a new connection.
        let (status, progress) = send(&tech, id, 0, &bytes[..CHUNK]).await;
        assert_eq!(status, StatusCode::OK, "{progress}");
        assert_eq!(progress["received"], CHUNK);
        let tech = app.signed_in("tech").await;
        let (_, progress) = tech.call("photos/begin", declared.clone()).await;
        assert_eq!(progress, json!({"received": CHUNK, "complete": false}));
        // Half a photo is neither listed nor served.
        let (_, listed) = tech
            .call("photos/list", json!({"entity": "ticket", "record_id": ticket}))
            .await;
        assert_eq!(listed, json!([]));
        assert_eq!(
            tech.get(&app::photos::url(id)).await.status(),
            StatusCode::NOT_FOUND
        );
        // A repeated first chunk changes nothing and says where to go on.
        let (_, progress) = send(&tech, id, 0, &bytes[..CHUNK]).await;
        assert_eq!(progress["received"], CHUNK);
        let (_, progress) = send(&tech, id, CHUNK, &bytes[CHUNK..2 * CHUNK]).await;
        assert_eq!(progress["received"], 2 * CHUNK);
        let (_, progress) = send(&tech, id, 2 * CHUNK, &bytes[2 * CHUNK..]).await;
        assert_eq!(progress, json!({"received": bytes.len(), "complete": true}));
        assert_eq!(stored(&app, "photo_chunks", id).await, 0);
        // A late duplicate of the last chunk changes nothing.
        let (_, progress) = send(&tech, id, 2 * CHUNK, &bytes[2 * CHUNK..]).await;
        assert_eq!(progress["complete"], true);

        let served = tech.get(&app::photos::url(id)).await;
        assert_eq!(served.status(), StatusCode::OK);
        assert_eq!(served.headers()["content-type"], "image/jpeg");
        assert_eq!(served.bytes().await.unwrap().to_vec(), bytes, "byte-equal");
        let (_, listed) = tech
            .call("photos/list", json!({"entity": "ticket", "record_id": ticket}))
            .await;
        assert_eq!(listed[0]["id"], json!(id));
        assert_eq!(listed[0]["stage"], "before");
        assert_eq!(listed[0]["uploader_name"], "tech");

        // The service desk sees it; a rep, who may not read the ticket,
        // gets what a missing photo gets, and cannot attach one.
        let supervisor = app.signed_in("service_sup").await;
        assert_eq!(
            supervisor.get(&app::photos::url(id)).await.status(),
            StatusCode::OK
        );
        let rep = app.signed_in("rep1").await;
        assert_eq!(
            rep.get(&app::photos::url(id)).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.anonymous().get(&app::photos::url(id)).await.status(),
            StatusCode::NOT_FOUND
        );
        let (status, _) = rep
            .call("photos/list", json!({"entity": "ticket", "record_id": ticket}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let other = Uuid::now_v7();
        let (status, _) = rep
            .call(
                "photos/begin",
                declaration(other, ticket, &bytes, &hex_digest(&bytes)),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(stored(&app, "photos", other).await, 0);
        // Nobody but its uploader sends a photo's bytes.
        let theirs = Uuid::now_v7();
        tech.call(
            "photos/begin",
            declaration(theirs, ticket, &bytes, &hex_digest(&bytes)),
        )
        .await;
        let (status, _) = supervisor
            .call("photos/chunk", json!({"id": theirs, "offset": 0, "data": "AAAA"}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(stored(&app, "photo_chunks", theirs).await, 0);
    }
);

on_both_databases!(
    an_over_size_or_damaged_photo_is_refused_and_nothing_of_it_kept,
    |app: TestApp| async move {
        let ticket = dispatched_ticket(&app).await;
        let tech = app.signed_in("tech").await;

        // Declared too large: refused in words before any byte.
        let id = Uuid::now_v7();
        let mut big = declaration(id, ticket, b"x", &hex_digest(b"x"));
        big["photo"]["size"] = json!(app::photos::MAX_PHOTO + 1);
        let (status, body) = tech.call("photos/begin", big).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "photo_too_large");
        assert_eq!(stored(&app, "photos", id).await, 0);

        // Declared small, sent larger: refused, and what came is dropped.
        let bytes = photo_bytes(CHUNK + 10);
        let id = Uuid::now_v7();
        let small = &bytes[..CHUNK - 10];
        tech.call("photos/begin", declaration(id, ticket, small, &hex_digest(small)))
            .await;
        let (status, body) = send(&tech, id, 0, &bytes[..CHUNK]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "photo_too_large");
        assert_eq!(stored(&app, "photos", id).await, 0);
        assert_eq!(stored(&app, "photo_chunks", id).await, 0);

        // Bytes that do not match the declared digest: dropped whole.
        let id = Uuid::now_v7();
        tech.call(
            "photos/begin",
            declaration(id, ticket, &bytes, &hex_digest(b"another photo")),
        )
        .await;
        send(&tech, id, 0, &bytes[..CHUNK]).await;
        assert_eq!(stored(&app, "photo_chunks", id).await, 1);
        let (status, body) = send(&tech, id, CHUNK, &bytes[CHUNK..]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "photo_damaged");
        assert_eq!(stored(&app, "photos", id).await, 0);
        assert_eq!(stored(&app, "photo_chunks", id).await, 0);
        assert_eq!(
            tech.get(&app::photos::url(id)).await.status(),
            StatusCode::NOT_FOUND
        );

        // Not an image type.
        let mut text = declaration(Uuid::now_v7(), ticket, &bytes, &hex_digest(&bytes));
        text["photo"]["content_type"] = json!("text/html");
        let (status, body) = tech.call("photos/begin", text).await;
        assert_eq!(body["code"], "photo_not_image", "{status} {body}");
    }
);
