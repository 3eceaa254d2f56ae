//! Photos a technician takes on site and attaches to a record (a repair's
//! condition before and after). The phone resizes a photo, keeps it in its
//! store until uploaded, and sends it in chunks that resume after a cut:
//!
//! 1. `photos/begin` declares the photo (its id, the record, its size and
//!    SHA-256) and answers how many bytes the server already has;
//! 2. `photos/chunk` sends the bytes from there on, one chunk at a time;
//!    a chunk at another offset changes nothing and answers where to go on;
//! 3. with the last byte in, the server checks the whole against the
//!    declared digest and only then keeps it (`complete`); a photo whose
//!    bytes do not match is dropped whole.
//!
//! Nothing half-uploaded is ever listed or served. A photo past
//! `MAX_PHOTO` is refused at its declaration, before any byte is kept.
//! The record's access policy decides: uploading needs the right to change
//! the record, viewing the right to read it; out of scope answers like
//! missing. Photos live in the database, so a backup holds them.

use crate::error::AppError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod view;

pub use crate::validate::MAX_PHOTO;
/// The bytes of one chunk: a slow connection sends one in a few seconds,
/// and a cut loses at most one.
pub const CHUNK: usize = 128 * 1024;
/// What a photo shows of the record's work.
pub const STAGES: &[&str] = &["before", "after"];
pub const CONTENT_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];

/// A photo as the device declares it before sending its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoStart {
    /// Made by the device (v7), so a retried declaration is the same photo.
    pub id: Uuid,
    pub entity: String,
    pub record_id: Uuid,
    pub stage: String,
    pub content_type: String,
    pub size: u64,
    /// The SHA-256 of the whole photo, 64 lowercase hex digits.
    pub sha256: String,
    pub taken_at: DateTime<Utc>,
}

impl PhotoStart {
    /// The declaration's own rules, the same on the phone (before it keeps
    /// a photo) and on the server.
    pub fn check(&self) -> Result<(), AppError> {
        if self.size > MAX_PHOTO {
            return Err(AppError::refused("photo_too_large"));
        }
        if self.size == 0 || !CONTENT_TYPES.contains(&self.content_type.as_str()) {
            return Err(AppError::refused("photo_not_image"));
        }
        if !STAGES.contains(&self.stage.as_str()) {
            return Err(AppError::BadRequest {
                detail: format!("unknown photo stage {:?}", self.stage),
            });
        }
        let hex = self.sha256.len() == 64
            && self
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            return Err(AppError::BadRequest {
                detail: "sha256 must be 64 lowercase hex digits".into(),
            });
        }
        Ok(())
    }
}

/// How far an upload has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Bytes the server holds: send from here.
    pub received: u64,
    /// All of it arrived and matched its digest.
    pub complete: bool,
}

/// A complete photo of a record, as its page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoInfo {
    pub id: Uuid,
    pub stage: String,
    pub size: u64,
    pub taken_at: DateTime<Utc>,
    pub uploader_name: String,
}

/// A photo's SHA-256 as its declaration carries it: 64 lowercase hex
/// digits. The phone makes it; the server checks the bytes against it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The URL a complete photo is served at (GET, signed in, policy-checked).
pub fn url(id: Uuid) -> String {
    format!("/api/photos/{id}")
}

/// `POST /api/photos/begin`: declares a photo; answers what the server has
/// of it (a retried declaration of the same photo resumes it).
#[leptos::server(endpoint = "photos/begin", input = leptos::server_fn::codec::Json)]
pub async fn begin(photo: PhotoStart) -> Result<Progress, AppError> {
    let user = crate::ssr::require_user().await?;
    let state = crate::ssr::state()?;
    photo.check()?;
    store::begin(
        &state.db,
        crate::sync::entity::registered()?,
        &user,
        &photo,
        Utc::now(),
    )
    .await?
}

/// `POST /api/photos/chunk`: bytes of a declared photo from `offset`
/// (base64, at most `CHUNK` bytes decoded). Only the photo's uploader sends.
#[leptos::server(endpoint = "photos/chunk", input = leptos::server_fn::codec::Json)]
pub async fn chunk(id: Uuid, offset: u64, data: String) -> Result<Progress, AppError> {
    use base64::Engine;
    let user = crate::ssr::require_user().await?;
    let state = crate::ssr::state()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|_| AppError::BadRequest {
            detail: "data must be base64".into(),
        })?;
    if bytes.is_empty() || bytes.len() > CHUNK {
        return Err(AppError::BadRequest {
            detail: format!("a chunk holds 1 to {CHUNK} bytes"),
        });
    }
    store::chunk(&state.db, &user, id, offset, &bytes).await?
}

/// `POST /api/photos/list`: the complete photos of a record the user may read.
#[leptos::server(endpoint = "photos/list", input = leptos::server_fn::codec::Json)]
pub async fn list(entity: String, record_id: Uuid) -> Result<Vec<PhotoInfo>, AppError> {
    let user = crate::ssr::require_user().await?;
    let state = crate::ssr::state()?;
    let spec = crate::sync::entity::registered()?
        .spec(&entity)
        .ok_or(AppError::NotFound)?;
    store::list(&state.db, spec, &user, record_id).await?
}

#[cfg(feature = "ssr")]
pub mod store {
    //! The photos' tables (`photos`, `photo_chunks`), policy-checked.

    use super::{PhotoInfo, PhotoStart, Progress, MAX_PHOTO};
    use crate::error::AppError;
    use crate::policy;
    use crate::roles::CurrentUser;
    use crate::ssr::session::parse_uuid;
    use crate::ssr::{from_millis, to_millis, Db, DbError};
    use crate::sync::entity::{Entities, EntitySpec};
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    /// Declares a photo of a record the user may change.
    pub async fn begin(
        db: &Db,
        entities: Entities,
        user: &CurrentUser,
        photo: &PhotoStart,
        now: DateTime<Utc>,
    ) -> Result<Result<Progress, AppError>, DbError> {
        let Some(spec) = entities.spec(&photo.entity) else {
            return Ok(Err(AppError::NotFound));
        };
        match crate::sync::store::ownership(db, spec, photo.record_id).await? {
            Some(record) if policy::can_write(user, spec.kind, record) => {}
            _ => return Ok(Err(AppError::NotFound)),
        }
        let mut tx = db.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO photos (id, entity, record_id, stage, uploader_id, content_type, size, sha256, \
             taken_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
        )
        .bind(photo.id.to_string())
        .bind(&photo.entity)
        .bind(photo.record_id.to_string())
        .bind(&photo.stage)
        .bind(user.id.to_string())
        .bind(&photo.content_type)
        .bind(photo.size as i64)
        .bind(&photo.sha256)
        .bind(to_millis(photo.taken_at))
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            // A retry: the same photo, declared alike by the same user.
            type Row = (String, String, String, String, i64, String, i64, i64);
            let (uploader, entity, record, stage, size, sha256, received, complete): Row = sqlx::query_as(
                "SELECT uploader_id, entity, record_id, stage, size, sha256, received, complete \
                 FROM photos WHERE id = $1",
            )
            .bind(photo.id.to_string())
            .fetch_one(&mut *tx)
            .await?;
            let same = uploader == user.id.to_string()
                && entity == photo.entity
                && record == photo.record_id.to_string()
                && stage == photo.stage
                && size == photo.size as i64
                && sha256 == photo.sha256;
            if !same {
                return Ok(Err(AppError::NotFound));
            }
            tx.commit().await?;
            return Ok(Ok(Progress {
                received: received as u64,
                complete: complete != 0,
            }));
        }
        tx.commit().await?;
        Ok(Ok(Progress {
            received: 0,
            complete: false,
        }))
    }

    /// Adds the bytes at `offset` of the user's own photo; with the last
    /// one, checks the whole and keeps it, or drops it all.
    pub async fn chunk(
        db: &Db,
        user: &CurrentUser,
        id: Uuid,
        offset: u64,
        bytes: &[u8],
    ) -> Result<Result<Progress, AppError>, DbError> {
        let mut tx = db.pool.begin().await?;
        // Holding the photo's row: two deliveries of one chunk take turns.
        let row: Option<(String, i64, String, i64, i64)> = sqlx::query_as(
            "UPDATE photos SET received = received WHERE id = $1 \
             RETURNING uploader_id, size, sha256, received, complete",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((uploader, size, sha256, received, complete)) = row else {
            return Ok(Err(AppError::NotFound));
        };
        if uploader != user.id.to_string() {
            return Ok(Err(AppError::NotFound));
        }
        let (size, received) = (size as u64, received as u64);
        if complete != 0 || offset != received {
            // Already there, or a repeated or early chunk: go on from here.
            return Ok(Ok(Progress {
                received,
                complete: complete != 0,
            }));
        }
        let end = received + bytes.len() as u64;
        if end > size || end > MAX_PHOTO {
            // More than declared: nothing of it is kept.
            sqlx::query("DELETE FROM photos WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Err(AppError::refused("photo_too_large")));
        }
        sqlx::query("INSERT INTO photo_chunks (photo_id, position, data) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(received as i64)
            .bind(bytes.to_vec())
            .execute(&mut *tx)
            .await?;
        if end < size {
            sqlx::query("UPDATE photos SET received = $2 WHERE id = $1")
                .bind(id.to_string())
                .bind(end as i64)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Ok(Progress {
                received: end,
                complete: false,
            }));
        }
        let chunks: Vec<(Vec<u8>,)> =
            sqlx::query_as("SELECT data FROM photo_chunks WHERE photo_id = $1 ORDER BY position")
                .bind(id.to_string())
                .fetch_all(&mut *tx)
                .await?;
        let whole: Vec<u8> = chunks.into_iter().flat_map(|(data,)| data).collect();
        let digest = super::sha256_hex(&whole);
        sqlx::query("DELETE FROM photo_chunks WHERE photo_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if whole.len() as u64 != size || digest != sha256 {
            sqlx::query("DELETE FROM photos WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Err(AppError::refused("photo_damaged")));
        }
        sqlx::query("UPDATE photos SET received = $2, complete = 1, data = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(size as i64)
            .bind(whole)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(Progress {
            received: size,
            complete: true,
        }))
    }

    /// The complete photos of a record the user may read, oldest first.
    pub async fn list(
        db: &Db,
        spec: &EntitySpec,
        user: &CurrentUser,
        record_id: Uuid,
    ) -> Result<Result<Vec<PhotoInfo>, AppError>, DbError> {
        match crate::sync::store::ownership(db, spec, record_id).await? {
            Some(record) if policy::can_read(user, spec.kind, record) => {}
            _ => return Ok(Err(AppError::NotFound)),
        }
        let rows: Vec<(String, String, i64, i64, String)> = sqlx::query_as(
            "SELECT p.id, p.stage, p.size, p.taken_at, u.display_name FROM photos p \
             JOIN users u ON u.id = p.uploader_id \
             WHERE p.entity = $1 AND p.record_id = $2 AND p.complete = 1 ORDER BY p.taken_at, p.id",
        )
        .bind(spec.name)
        .bind(record_id.to_string())
        .fetch_all(&db.pool)
        .await?;
        let mut photos = Vec::with_capacity(rows.len());
        for (id, stage, size, taken_at, uploader_name) in rows {
            photos.push(PhotoInfo {
                id: parse_uuid(&id)?,
                stage,
                size: size as u64,
                taken_at: from_millis(taken_at),
                uploader_name,
            });
        }
        Ok(Ok(photos))
    }

    /// A complete photo's type and bytes, if the user may read its record.
    pub async fn content(
        db: &Db,
        entities: Entities,
        user: &CurrentUser,
        id: Uuid,
    ) -> Result<Option<(String, Vec<u8>)>, DbError> {
        let row: Option<(String, String, String, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT entity, record_id, content_type, data FROM photos WHERE id = $1 AND complete = 1",
        )
        .bind(id.to_string())
        .fetch_optional(&db.pool)
        .await?;
        let Some((entity, record_id, content_type, Some(data))) = row else {
            return Ok(None);
        };
        let Some(spec) = entities.spec(&entity) else {
            return Ok(None);
        };
        let readable = match crate::sync::store::ownership(db, spec, parse_uuid(&record_id)?).await? {
            Some(record) => policy::can_read(user, spec.kind, record),
            None => false,
        };
        Ok(readable.then_some((content_type, data)))
    }
}
