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
    store::begin(&state.db, crate::sync::entity::registered()?, &user, &photo, Utc::now()).await?
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
    let spec = crate::sync::entity::registered()?.spec(&entity).ok_or(AppError::NotFound)?;
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

/// A record's photos on its page, by stage: those the server holds, and
/// those still on this device (with how far their upload came, or why it
/// was refused). Whoever may change the record takes more with the
/// phone's camera; a photo is resized here and kept on the device before
/// anything else, so it survives no network and a closed page.
#[leptos::component]
pub fn RecordPhotos(entity: &'static str, record_id: Uuid, may_add: bool) -> impl leptos::IntoView {
    use crate::client::{self, use_sync_status};
    use crate::ui::use_locale;
    use leptos::prelude::*;
    let locale = use_locale();
    let status = use_sync_status();
    let failure = RwSignal::new(None::<AppError>);
    let kept = RwSignal::new(0u32);
    let local = LocalResource::new(move || {
        status.last_sync.track();
        kept.track();
        async move {
            client::local_photos(status, entity, record_id)
                .await
                .unwrap_or_default()
        }
    });
    let held = LocalResource::new(move || {
        status.last_sync.track();
        async move { list(entity.to_owned(), record_id).await.unwrap_or_default() }
    });
    let take = move |stage: &'static str, ev: leptos::ev::Event| {
        failure.set(None);
        #[cfg(feature = "hydrate")]
        {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            leptos::task::spawn_local(async move {
                let Some(file) = input.files().and_then(|files| files.get(0)) else {
                    return;
                };
                input.set_value("");
                let kept_photo = async {
                    let bytes = capture::resized_jpeg(&file).await?;
                    let photo = capture::local_photo(entity, record_id, stage, bytes)?;
                    client::keep_photo(status, photo).await
                };
                match kept_photo.await {
                    Ok(()) => kept.update(|n| *n += 1),
                    Err(error) => failure.set(Some(error)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (stage, ev);
    };
    let drop_local = move |id: Uuid| {
        leptos::task::spawn_local(async move {
            let _ = client::drop_photo(status, id).await;
            kept.update(|n| *n += 1);
        });
    };
    let stages = STAGES
        .iter()
        .map(|stage| {
            let stage: &'static str = stage;
            let on_server = move || {
                held.get()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| p.stage == stage)
                    .map(|p| {
                        view! {
                            <a href=url(p.id) target="_blank" class="photo" data-testid="photo-held">
                                <img src=url(p.id) alt=format!("{} · {}", locale.word(&format!("photo_{stage}")), p.uploader_name) loading="lazy" />
                            </a>
                        }
                    })
                    .collect_view()
            };
            let on_device = move || {
                local
                    .get()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| p.start.stage == stage)
                    .map(|p| {
                        let id = p.start.id;
                        let percent = p.received * 100 / p.start.size.max(1);
                        let note = match &p.refused {
                            Some(error) => view! {
                                <span class="form-error" data-testid="photo-refused">{crate::schema::error_in_words(locale, error, &[])}</span>
                                <button type="button" class="link" on:click=move |_| drop_local(id)>{locale.word("photo_drop")}</button>
                            }
                            .into_any(),
                            None => view! {
                                <span class="badge pending" data-testid="photo-waiting">
                                    {format!("{} {percent}%", locale.word("photo_waiting"))}
                                </span>
                            }
                            .into_any(),
                        };
                        view! {
                            <figure class="photo" data-testid="photo-local">
                                <img src=format!("data:{};base64,{}", p.start.content_type, p.data) alt=locale.word(&format!("photo_{stage}")) />
                                <figcaption>{note}</figcaption>
                            </figure>
                        }
                    })
                    .collect_view()
            };
            view! {
                <div class="photo-stage" data-testid=format!("photos-{stage}")>
                    <h3>{locale.word(&format!("photo_{stage}"))}</h3>
                    <div class="photo-grid">{on_server} {on_device}</div>
                    {may_add
                        .then(|| {
                            view! {
                                <label class="button secondary photo-take">
                                    {locale.word(&format!("take_photo_{stage}"))}
                                    <input
                                        type="file"
                                        accept="image/*"
                                        capture="environment"
                                        class="visually-hidden"
                                        data-testid=format!("take-photo-{stage}")
                                        on:change=move |ev| take(stage, ev)
                                    />
                                </label>
                            }
                        })}
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="photos" data-testid="photos">
            <h2>{locale.word("photos")}</h2>
            {stages}
            {move || {
                failure
                    .get()
                    .map(|e| view! { <p class="form-error" role="alert" data-testid="photo-failed">{crate::schema::error_in_words(locale, &e, &[])}</p> })
            }}
        </section>
    }
}

/// Taking a photo in the browser: the file the camera gave, drawn smaller
/// on a canvas and encoded as JPEG, then declared like the server will
/// check it.
#[cfg(feature = "hydrate")]
mod capture {
    use super::PhotoStart;
    use crate::client::LocalPhoto;
    use crate::error::AppError;
    use uuid::Uuid;
    use wasm_bindgen::JsCast;

    /// The longest side of a kept photo, in pixels: enough to read a
    /// nameplate, a few hundred kilobytes as JPEG.
    const LONGEST_SIDE: f64 = 1600.0;
    const QUALITY: f64 = 0.8;

    fn failed(error: impl std::fmt::Debug) -> AppError {
        leptos::logging::error!("photo: {error:?}");
        AppError::refused("photo_not_image")
    }

    pub async fn resized_jpeg(file: &web_sys::File) -> Result<Vec<u8>, AppError> {
        use base64::Engine;
        let window = web_sys::window().ok_or(AppError::Internal)?;
        let promise = window.create_image_bitmap_with_blob(file).map_err(failed)?;
        let bitmap: web_sys::ImageBitmap = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(failed)?
            .dyn_into()
            .map_err(failed)?;
        let (width, height) = (f64::from(bitmap.width()), f64::from(bitmap.height()));
        let scale = (LONGEST_SIDE / width.max(height)).min(1.0);
        let (to_width, to_height) = (
            (width * scale).round().max(1.0),
            (height * scale).round().max(1.0),
        );
        let canvas: web_sys::HtmlCanvasElement = window
            .document()
            .ok_or(AppError::Internal)?
            .create_element("canvas")
            .map_err(failed)?
            .dyn_into()
            .map_err(failed)?;
        canvas.set_width(to_width as u32);
        canvas.set_height(to_height as u32);
        let context: web_sys::CanvasRenderingContext2d = canvas
            .get_context("2d")
            .map_err(failed)?
            .ok_or(AppError::Internal)?
            .dyn_into()
            .map_err(failed)?;
        context
            .draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, to_width, to_height)
            .map_err(failed)?;
        bitmap.close();
        let data_url = canvas
            .to_data_url_with_type_and_encoder_options(
                "image/jpeg",
                &wasm_bindgen::JsValue::from_f64(QUALITY),
            )
            .map_err(failed)?;
        let base64 = data_url
            .split_once(',')
            .map(|(_, data)| data)
            .ok_or(AppError::Internal)?;
        base64::engine::general_purpose::STANDARD
            .decode(base64)
            .map_err(failed)
    }

    pub fn local_photo(
        entity: &str,
        record_id: Uuid,
        stage: &str,
        bytes: Vec<u8>,
    ) -> Result<LocalPhoto, AppError> {
        use base64::Engine;
        let start = PhotoStart {
            id: Uuid::now_v7(),
            entity: entity.to_owned(),
            record_id,
            stage: stage.to_owned(),
            content_type: "image/jpeg".into(),
            size: bytes.len() as u64,
            sha256: super::sha256_hex(&bytes),
            taken_at: chrono::Utc::now(),
        };
        // The same rule the server applies, before the photo is kept.
        start.check()?;
        Ok(LocalPhoto {
            start,
            data: base64::engine::general_purpose::STANDARD.encode(&bytes),
            received: 0,
            refused: None,
        })
    }
}
