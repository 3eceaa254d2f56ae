//! A record's photos on its page: those the server holds, those still on
//! this device, and the camera that takes more (resized in the browser).

use super::{list, url, STAGES};
use crate::error::AppError;
use uuid::Uuid;

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
    use crate::client::LocalPhoto;
    use crate::error::AppError;
    use crate::photos::PhotoStart;
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
            sha256: crate::photos::sha256_hex(&bytes),
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
