//! The browser's side of sync: the local store and outbox in IndexedDB, and
//! the engine that pushes the outbox and pulls changes.
//!
//! Every change is written, with its outbox entry, in one IndexedDB
//! transaction before the UI says "saved"; a refresh, a closed tab or a crash
//! after that loses nothing. Each user has their own database
//! (`fieldbook-<user id>`), so another user on the same device never sees or
//! sends the previous user's data; the outbox survives sign-out and syncs
//! when the same user signs in again. Small synchronous state (sync cursor,
//! last sync time) lives in localStorage through gloo-storage.
//!
//! Only the browser build has the real engine; on the server the status
//! renders with its defaults, which is also the browser's first render, so
//! hydration matches.

use crate::error::AppError;
use crate::roles::CurrentUser;
use crate::sync::Mutation;
use leptos::prelude::*;
use uuid::Uuid;

/// What the status bar shows. Provided once by `App`.
#[derive(Clone, Copy)]
pub struct SyncStatus {
    pub user: RwSignal<Option<Uuid>>,
    pub online: RwSignal<bool>,
    /// Changes waiting in the outbox; `None` until the outbox has been read.
    pub pending: RwSignal<Option<usize>>,
    pub syncing: RwSignal<bool>,
    /// Milliseconds since the epoch of the last complete sync.
    pub last_sync: RwSignal<Option<i64>>,
    pub error: RwSignal<Option<AppError>>,
    /// Edit conflicts the user may settle, as of the last sync.
    pub conflicts: RwSignal<Option<usize>>,
    /// Records received so far by the sync under way (progress of a large one).
    pub received: RwSignal<usize>,
    /// Changes the server refused to records that then left this device
    /// (a pooled customer a teammate claimed first): the record cannot
    /// show why, so the sync bar does until the user has read it.
    pub refused_away: RwSignal<Vec<RefusedAway>>,
}

/// A refused change whose record is no longer on the device: which record
/// (its kind and title as the device held it) and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RefusedAway {
    pub entity: String,
    pub title: String,
    pub reason: AppError,
}

/// The refusals `status` shows for records gone from the device, read.
pub fn dismiss_refused_away(status: SyncStatus) {
    status.refused_away.set(Vec::new());
    #[cfg(feature = "hydrate")]
    if let Some(user) = status.user.get_untracked() {
        engine::keep_refused_away(user, &[]);
    }
}

impl SyncStatus {
    pub fn new() -> Self {
        Self {
            user: RwSignal::new(None),
            online: RwSignal::new(true),
            pending: RwSignal::new(None),
            syncing: RwSignal::new(false),
            last_sync: RwSignal::new(None),
            error: RwSignal::new(None),
            conflicts: RwSignal::new(None),
            received: RwSignal::new(0),
            refused_away: RwSignal::new(Vec::new()),
        }
    }
}

impl Default for SyncStatus {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_sync_status() -> SyncStatus {
    use_context::<SyncStatus>().unwrap_or_default()
}

/// Saves a mutation locally (record and outbox, one transaction) and asks
/// for a sync. `Ok` means it is committed on this device.
pub async fn save(status: SyncStatus, mutation: Mutation) -> Result<(), AppError> {
    #[cfg(feature = "hydrate")]
    {
        let user = status.user.get_untracked().ok_or(AppError::Unauthenticated)?;
        engine::save(user, &mutation, &mutation.fields).await?;
        status.pending.update(|n| *n = Some(n.unwrap_or(0) + 1));
        request_sync(status);
        Ok(())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (status, mutation);
        Err(AppError::Internal)
    }
}

/// A photo kept on this device until the server has all of it
/// (`crate::photos`): its declaration, its bytes (base64), how far the
/// upload came, and why the server refused it, if it did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LocalPhoto {
    pub start: crate::photos::PhotoStart,
    pub data: String,
    pub received: u64,
    pub refused: Option<AppError>,
}

/// Keeps a photo on the device (it is safe once this returns) and asks
/// for a sync, which uploads it.
pub async fn keep_photo(status: SyncStatus, photo: LocalPhoto) -> Result<(), AppError> {
    #[cfg(feature = "hydrate")]
    {
        let user = status.user.get_untracked().ok_or(AppError::Unauthenticated)?;
        engine::keep_photo(user, &photo).await?;
        status.pending.update(|n| *n = Some(n.unwrap_or(0) + 1));
        request_sync(status);
        Ok(())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (status, photo);
        Err(AppError::Internal)
    }
}

/// The photos of a record still on this device (not yet wholly uploaded,
/// or refused), oldest first.
pub async fn local_photos(
    status: SyncStatus,
    entity: &str,
    record_id: Uuid,
) -> Result<Vec<LocalPhoto>, AppError> {
    #[cfg(feature = "hydrate")]
    {
        let user = status.user.get_untracked().ok_or(AppError::Unauthenticated)?;
        Ok(engine::photos(user)
            .await?
            .into_iter()
            .filter(|p| p.start.entity == entity && p.start.record_id == record_id)
            .collect())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (status, entity, record_id);
        Ok(Vec::new())
    }
}

/// Forgets a photo the server refused (the user takes another).
pub async fn drop_photo(status: SyncStatus, id: Uuid) -> Result<(), AppError> {
    #[cfg(feature = "hydrate")]
    {
        let user = status.user.get_untracked().ok_or(AppError::Unauthenticated)?;
        engine::drop_photo(user, id).await?;
        status.last_sync.update(|_| {});
        Ok(())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (status, id);
        Ok(())
    }
}

/// Gives one of an entity's commands on a record held here: the entity's
/// own `decide` answers at once (a refusal comes back as the error, and
/// nothing is queued); what it allows is applied to the local copy and
/// queued in the outbox like any change. The server decides again when it
/// arrives, and its answer stands: a refusal then returns the local copy to
/// the server's state, marked with the reason.
pub async fn command(
    status: SyncStatus,
    me: &CurrentUser,
    spec: &'static crate::sync::entity::EntitySpec,
    record: &LocalView,
    name: &'static str,
    args: crate::sync::Fields,
) -> Result<(), AppError> {
    let context = crate::sync::entity::Context::default();
    command_with(status, me, spec, record, name, args, &context).await
}

/// `command`, for a rule that needs to know more than the record: the
/// people its arguments name, as this device knows them.
pub async fn command_with(
    status: SyncStatus,
    me: &CurrentUser,
    spec: &'static crate::sync::entity::EntitySpec,
    record: &LocalView,
    name: &'static str,
    args: crate::sync::Fields,
    context: &crate::sync::entity::Context,
) -> Result<(), AppError> {
    let call = crate::sync::entity::CommandCall {
        name,
        args: &args,
        record: &record.fields,
        ownership: record.ownership(me, spec.kind),
        actor: me,
        now: chrono::Utc::now(),
        context,
    };
    // A number (a code) the server gives arrives with the next sync.
    let changes = (spec.decide)(&call).map_err(AppError::from)?.changes;
    let mutation = Mutation {
        id: Uuid::now_v7(),
        entity: spec.name.to_owned(),
        record_id: record.id,
        base_version: record.version,
        op: crate::sync::Op::Command,
        fields: args,
        command: Some(name.to_owned()),
        base: Default::default(),
    };
    #[cfg(feature = "hydrate")]
    {
        let user = status.user.get_untracked().ok_or(AppError::Unauthenticated)?;
        engine::save(user, &mutation, &changes).await?;
        status.pending.update(|n| *n = Some(n.unwrap_or(0) + 1));
        request_sync(status);
        Ok(())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (status, mutation, changes);
        Err(AppError::Internal)
    }
}

/// A record as this device holds it, for lists rendered from the local store.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LocalView {
    pub id: Uuid,
    pub fields: crate::sync::Fields,
    /// The server's version of the record; 0 until it has one.
    pub version: i64,
    /// Whose it is, as last pulled; `None` for a record made on this device
    /// and not yet pulled back (the signed-in user's own).
    pub owner: Option<(Uuid, String)>,
    /// Saved here, not yet acknowledged by the server.
    pub pending: bool,
    /// Why the server refused its last change, if it did.
    pub rejected: Option<AppError>,
}

impl LocalView {
    /// Whose it is: as last pulled, or, for a record made on this device and
    /// not yet pulled back, the signed-in user's.
    /// Whose it is, as the access policy asks.
    pub fn ownership(
        &self,
        me: &crate::roles::CurrentUser,
        kind: crate::policy::Kind,
    ) -> crate::policy::Ownership {
        let (owner_id, _) = self.owner_or(me);
        crate::policy::Ownership {
            owner_id,
            // Sync keeps exactly the user's scope on the device: a record of
            // someone else here is of the user's team when that is the scope.
            owner_team_id: match crate::policy::scope(me, kind) {
                Some(crate::policy::Scope::Team(team)) => Some(team),
                // One's own, or one's team's public pool.
                _ => me
                    .team_id
                    .filter(|team| owner_id == me.id || owner_id == crate::policy::pool_owner(*team)),
            },
        }
    }

    pub fn owner_or(&self, me: &crate::roles::CurrentUser) -> (Uuid, String) {
        self.owner
            .clone()
            .unwrap_or_else(|| (me.id, me.display_name.clone()))
    }
}

/// The records of `entity` on this device, each turned by `prepare` as it is
/// read (`None` leaves it out), newest first.
pub async fn local_records<T>(
    status: SyncStatus,
    entity: &str,
    prepare: &dyn Fn(LocalView) -> Option<T>,
) -> Result<Vec<T>, AppError> {
    #[cfg(feature = "hydrate")]
    {
        let user = status.user.get_untracked().ok_or(AppError::Unauthenticated)?;
        engine::local_records(user, entity, prepare).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (status, entity, prepare);
        Ok(Vec::new())
    }
}

/// The single entities' records on this device (the company's settings),
/// as the rules read them: read after mount and after every sync and save,
/// empty (the seeds' numbers) until then, on the server's render too.
#[derive(Clone, Copy)]
pub struct DeviceSingles(Memo<crate::sync::entity::Singles>);

/// Reads the single entities' records once for the whole app; the pages
/// take them with `use_singles`.
pub fn provide_singles(entities: crate::sync::entity::Entities) {
    let read: Vec<_> = entities
        .singles()
        .map(|(spec, id)| (spec.name, use_local_record(spec.name, Signal::stored(Some(id)))))
        .collect();
    // Read once per change of a record, not once per reader.
    let singles = Memo::new(move |_| {
        let mut singles = crate::sync::entity::Singles::default();
        for (name, record) in &read {
            if let Some(Ok(Some(view))) = record.get() {
                singles.0.insert(*name, view.fields);
            }
        }
        singles
    });
    provide_context(DeviceSingles(singles));
}

pub fn use_singles() -> Signal<crate::sync::entity::Singles> {
    use_context::<DeviceSingles>().map_or_else(|| Signal::stored(Default::default()), |d| d.0.into())
}

/// The most items a list shows at once: a phone stays quick with a
/// supervisor's thousands of records (the first ones in work order).
pub const LIST_LIMIT: usize = 200;

/// The records of `entity` on this device, read after mount and again after
/// every sync and save, each turned once by `prepare` (parsed, made
/// searchable) as it is read, then sorted by `order` (ties stay newest
/// first). Typing in a search box re-renders from the prepared list instead
/// of redoing that work. The server and the browser's first render both have
/// `None` ("loading"), so hydration matches; the list fills in once the
/// store answers. Only the latest read is kept: an older one finishing later
/// is dropped.
pub fn use_prepared_records<T: Send + Sync + 'static>(
    entity: &'static str,
    prepare: impl Fn(LocalView) -> Option<T> + 'static,
    order: impl Fn(&T, &T) -> std::cmp::Ordering + 'static,
) -> RwSignal<Option<Result<Vec<T>, AppError>>> {
    let status = use_sync_status();
    let prepared = RwSignal::new(None);
    let work = std::rc::Rc::new((prepare, order));
    let latest = std::rc::Rc::new(std::cell::Cell::new(0u64));
    Effect::new(move |_| {
        status.last_sync.track();
        status.pending.track();
        status.user.track();
        let (work, latest) = (work.clone(), latest.clone());
        let read = latest.get() + 1;
        latest.set(read);
        leptos::task::spawn_local(async move {
            if status.user.get_untracked().is_none() {
                return;
            }
            let (prepare, order) = &*work;
            let list = local_records(status, entity, prepare).await.map(|mut list| {
                list.sort_by(order);
                list
            });
            if latest.get() == read {
                prepared.set(Some(list));
            }
        });
    });
    prepared
}

/// One record of `entity` on this device, read after mount and again after
/// every sync and save: `None` while reading, then the record or `Ok(None)`
/// when this device does not hold it (never synced here, or out of scope).
pub fn use_local_record(
    entity: &'static str,
    id: Signal<Option<Uuid>>,
) -> RwSignal<Option<Result<Option<LocalView>, AppError>>> {
    let status = use_sync_status();
    let record = RwSignal::new(None);
    let latest = std::rc::Rc::new(std::cell::Cell::new(0u64));
    Effect::new(move |_| {
        status.last_sync.track();
        status.pending.track();
        status.user.track();
        let wanted = id.get();
        let latest = latest.clone();
        let read = latest.get() + 1;
        latest.set(read);
        leptos::task::spawn_local(async move {
            let Some(user) = status.user.get_untracked() else {
                return;
            };
            let Some(wanted) = wanted else {
                record.set(Some(Ok(None)));
                return;
            };
            #[cfg(feature = "hydrate")]
            let found = engine::local_record(user, entity, wanted).await;
            #[cfg(not(feature = "hydrate"))]
            let found: Result<Option<LocalView>, AppError> = {
                let _ = (user, wanted, entity);
                Ok(None)
            };
            if latest.get() == read {
                record.set(Some(found));
            }
        });
    });
    record
}

/// How much this site stores on the device, and how much it may.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoreSize {
    pub used_bytes: f64,
    pub quota_bytes: f64,
}

impl StoreSize {
    /// Warn well before the browser's quota: at 80 %.
    pub fn near_quota(&self) -> bool {
        self.quota_bytes > 0.0 && self.used_bytes >= 0.8 * self.quota_bytes
    }
}

/// The browser's estimate (`navigator.storage.estimate()`), if it gives one.
pub async fn store_size() -> Option<StoreSize> {
    #[cfg(feature = "hydrate")]
    {
        let promise = web_sys::window()?.navigator().storage().estimate().ok()?;
        let estimate = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
        let number = |key: &str| {
            js_sys::Reflect::get(&estimate, &key.into())
                .ok()
                .and_then(|v| v.as_f64())
        };
        Some(StoreSize {
            used_bytes: number("usage")?,
            quota_bytes: number("quota")?,
        })
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Keeps who the server says is signed in, so that with no network the app
/// opens for the same user (`remembered_user`). A "nobody" answer forgets.
pub fn remember_user(answer: &Result<Option<CurrentUser>, AppError>) {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::{LocalStorage, Storage};
        match answer {
            Ok(Some(user)) => {
                let _ = LocalStorage::set(SIGNED_IN_KEY, user);
            }
            Ok(None) | Err(AppError::Unauthenticated) => LocalStorage::delete(SIGNED_IN_KEY),
            Err(_) => {}
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = answer;
}

/// The user last signed in on this device, kept by `remember_user`.
pub fn remembered_user() -> Option<CurrentUser> {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::{LocalStorage, Storage};
        LocalStorage::get(SIGNED_IN_KEY).ok()
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// After signing out: the next person on this phone starts signed out.
pub fn forget_user() {
    remember_user(&Ok(None));
}

#[cfg(feature = "hydrate")]
const SIGNED_IN_KEY: &str = "fieldbook.signed_in_user";

/// Starts a sync now unless one runs already.
pub fn request_sync(status: SyncStatus) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(engine::sync(status));
    #[cfg(not(feature = "hydrate"))]
    let _ = status;
}

/// Starts the engine for the signed-in user: status from the store, sync
/// on reconnect, every 30 seconds, and once now.
/// `entities` are the synced aggregates the app registered (the engine
/// names none of them).
pub fn start(status: SyncStatus, user: Uuid, entities: crate::sync::entity::Entities) {
    #[cfg(feature = "hydrate")]
    engine::start(status, user, entities);
    #[cfg(not(feature = "hydrate"))]
    let _ = (status, user, entities);
}

#[cfg(feature = "hydrate")]
mod engine {
    use super::SyncStatus;
    use crate::error::AppError;
    use crate::sync::api::{pull, push};
    use crate::sync::{Mutation, MutationStatus, PullRequest, PulledChange, PushBatch};
    use gloo_storage::{LocalStorage, Storage};
    use leptos::prelude::*;
    use rexie::{Index, KeyRange, ObjectStore, Rexie, TransactionMode};
    use std::time::Duration;
    use uuid::Uuid;
    use wasm_bindgen::JsValue;

    /// Version 1 kept records as JSON text under `entity:id`; `migrate`
    /// moves them to `RECORDS`. Kept declared so an upgrade never drops it
    /// before its records have moved.
    const RECORDS_V1: &str = "records";
    /// Records as objects, keyed by `key` (`entity:id`), so a list reads
    /// only its own entity's key range (the `entity` index is no longer
    /// read, and is kept to spare a schema change).
    const RECORDS: &str = "records_v2";
    const OUTBOX: &str = "outbox";
    /// The mutations the server acknowledged in the last `RESEND_DAYS`,
    /// keyed by their v7 id like the outbox: sent again if the server's
    /// database is restored from a backup that lacks them (`rejoin`).
    const SENT: &str = "sent";
    /// Photos waiting for upload (`super::LocalPhoto`), keyed by their id.
    const PHOTOS: &str = "photos";
    /// The IndexedDB version: bumped whenever the stores change, with a step
    /// in `migrate` when data must move.
    const SCHEMA_VERSION: u32 = 3;
    const SYNC_EVERY: Duration = Duration::from_secs(30);

    fn storage_error(error: impl std::fmt::Debug) -> AppError {
        leptos::logging::error!("local store: {error:?}");
        AppError::Internal
    }

    async fn open(user: Uuid) -> Result<Rexie, AppError> {
        let db = Rexie::builder(&format!("fieldbook-{user}"))
            .version(SCHEMA_VERSION)
            .add_object_store(ObjectStore::new(RECORDS_V1))
            .add_object_store(
                ObjectStore::new(RECORDS)
                    .key_path("key")
                    .add_index(Index::new("entity", "entity")),
            )
            .add_object_store(ObjectStore::new(OUTBOX))
            .add_object_store(ObjectStore::new(SENT))
            .add_object_store(ObjectStore::new(PHOTOS))
            .build()
            .await
            .map_err(storage_error)?;
        migrate(&db, user).await?;
        Ok(db)
    }

    fn schema_key(user: Uuid) -> String {
        format!("fieldbook.{user}.schema")
    }

    /// Moves this user's data up to `SCHEMA_VERSION`, one step per version,
    /// each in one IndexedDB transaction: a tab closed midway leaves the
    /// data as it was, and the step runs again on the next open.
    async fn migrate(db: &Rexie, user: Uuid) -> Result<(), AppError> {
        let at: u32 = LocalStorage::get(schema_key(user)).unwrap_or(1);
        if at < 2 {
            // 1 → 2: records from JSON text to objects with an entity index.
            let tx = db
                .transaction(&[RECORDS_V1, RECORDS], TransactionMode::ReadWrite)
                .map_err(storage_error)?;
            let old = tx.store(RECORDS_V1).map_err(storage_error)?;
            let new = tx.store(RECORDS).map_err(storage_error)?;
            for value in old.get_all(None, None).await.map_err(storage_error)? {
                let Some(mut record) = value
                    .as_string()
                    .and_then(|s| serde_json::from_str::<LocalRecord>(&s).ok())
                else {
                    continue;
                };
                record.key = record_id(&record.entity, record.id);
                new.put(&record_value(&record)?, None)
                    .await
                    .map_err(storage_error)?;
            }
            old.clear().await.map_err(storage_error)?;
            tx.done().await.map_err(storage_error)?;
        }
        if at < SCHEMA_VERSION {
            let _ = LocalStorage::set(schema_key(user), SCHEMA_VERSION);
        }
        Ok(())
    }

    fn record_id(entity: &str, id: Uuid) -> String {
        format!("{entity}:{id}")
    }

    fn record_key(entity: &str, id: Uuid) -> JsValue {
        JsValue::from_str(&record_id(entity, id))
    }

    /// A record as an IndexedDB object (JSON-shaped, so the index sees `entity`).
    fn record_value(record: &LocalRecord) -> Result<JsValue, AppError> {
        let text = serde_json::to_string(record).map_err(storage_error)?;
        js_sys::JSON::parse(&text).map_err(storage_error)
    }

    fn record_from(value: JsValue) -> Option<LocalRecord> {
        js_sys::JSON::stringify(&value)
            .ok()
            .and_then(|s| s.as_string())
            .and_then(|s| serde_json::from_str(&s).ok())
    }

    /// The local copy of a record: what the user sees until the server answers.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct LocalRecord {
        /// `entity:id`, the key in `RECORDS` (absent in version 1).
        #[serde(default)]
        key: String,
        entity: String,
        id: Uuid,
        version: i64,
        fields: crate::sync::Fields,
        deleted: bool,
        /// Why the server refused the last change, shown on the record.
        rejected: Option<AppError>,
        /// Owner id and name as last pulled.
        #[serde(default)]
        owner: Option<(Uuid, String)>,
    }

    fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, AppError> {
        serde_json::to_string(value)
            .map(|s| JsValue::from_str(&s))
            .map_err(storage_error)
    }

    fn from_js<T: serde::de::DeserializeOwned>(value: JsValue) -> Option<T> {
        value.as_string().and_then(|s| serde_json::from_str(&s).ok())
    }

    /// Writes the local copy (with `changes`: a patch's fields, or what a
    /// command decided here) and the mutation to the outbox, in one
    /// transaction.
    pub async fn save(
        user: Uuid,
        mutation: &Mutation,
        changes: &crate::sync::Fields,
    ) -> Result<(), AppError> {
        let db = open(user).await?;
        let tx = db
            .transaction(&[RECORDS, OUTBOX], TransactionMode::ReadWrite)
            .map_err(storage_error)?;
        let records = tx.store(RECORDS).map_err(storage_error)?;
        let key = record_key(&mutation.entity, mutation.record_id);
        let mut record = match records
            .get(key.clone())
            .await
            .map_err(storage_error)?
            .and_then(record_from)
        {
            Some(record) => record,
            None => LocalRecord {
                key: record_id(&mutation.entity, mutation.record_id),
                entity: mutation.entity.clone(),
                id: mutation.record_id,
                version: 0,
                fields: Default::default(),
                deleted: false,
                rejected: None,
                owner: None,
            },
        };
        record.fields.extend(changes.clone());
        record.deleted = mutation.op == crate::sync::Op::Delete;
        records
            .put(&record_value(&record)?, None)
            .await
            .map_err(storage_error)?;
        // Keys are v7 mutation ids: the outbox reads back in the order written.
        let outbox = tx.store(OUTBOX).map_err(storage_error)?;
        outbox
            .put(
                &to_js(mutation)?,
                Some(&JsValue::from_str(&mutation.id.to_string())),
            )
            .await
            .map_err(storage_error)?;
        match tx.done().await.map_err(storage_error)? {
            rexie::TransactionResult::Committed => Ok(()),
            rexie::TransactionResult::Aborted => Err(AppError::Internal),
        }
    }

    /// Records read per IndexedDB request when a list loads: each chunk is
    /// its own short task, so thousands of records never freeze the page.
    const READ_CHUNK: u32 = 500;

    pub async fn local_records<T>(
        user: Uuid,
        entity: &str,
        prepare: &dyn Fn(super::LocalView) -> Option<T>,
    ) -> Result<Vec<T>, AppError> {
        let db = open(user).await?;
        let waiting: std::collections::HashSet<Uuid> =
            outbox(&db).await?.into_iter().map(|m| m.record_id).collect();
        // Keys are `entity:id`, so the entity's records lie between
        // `entity:` and `entity;` (';' follows ':'), in id order.
        let (mut after, mut first) = (format!("{entity}:"), true);
        let upper = JsValue::from_str(&format!("{entity};"));
        let mut prepared = Vec::new();
        loop {
            let range = KeyRange::bound(&JsValue::from_str(&after), &upper, Some(!first), Some(true))
                .map_err(storage_error)?;
            let tx = db
                .transaction(&[RECORDS], TransactionMode::ReadOnly)
                .map_err(storage_error)?;
            let values = tx
                .store(RECORDS)
                .map_err(storage_error)?
                .get_all(Some(range), Some(READ_CHUNK))
                .await
                .map_err(storage_error)?;
            let full = values.len() == READ_CHUNK as usize;
            let last_key = values
                .last()
                .and_then(|last| js_sys::Reflect::get(last, &JsValue::from_str("key")).ok())
                .and_then(|key| key.as_string());
            for record in values.into_iter().filter_map(record_from) {
                if record.deleted {
                    continue;
                }
                prepared.extend(prepare(super::LocalView {
                    id: record.id,
                    version: record.version,
                    owner: record.owner,
                    pending: waiting.contains(&record.id),
                    rejected: record.rejected,
                    fields: record.fields,
                }));
            }
            match last_key {
                Some(key) if full => (after, first) = (key, false),
                _ => break,
            }
        }
        // v7 ids sort by creation time: newest first.
        prepared.reverse();
        Ok(prepared)
    }

    pub async fn local_record(
        user: Uuid,
        entity: &str,
        id: Uuid,
    ) -> Result<Option<super::LocalView>, AppError> {
        let db = open(user).await?;
        let pending = outbox(&db).await?.iter().any(|m| m.record_id == id);
        let tx = db
            .transaction(&[RECORDS], TransactionMode::ReadOnly)
            .map_err(storage_error)?;
        let found = tx
            .store(RECORDS)
            .map_err(storage_error)?
            .get(record_key(entity, id))
            .await
            .map_err(storage_error)?
            .and_then(record_from)
            .filter(|record| !record.deleted);
        Ok(found.map(|record| super::LocalView {
            id: record.id,
            version: record.version,
            owner: record.owner,
            pending,
            rejected: record.rejected,
            fields: record.fields,
        }))
    }

    async fn outbox(db: &Rexie) -> Result<Vec<Mutation>, AppError> {
        let tx = db
            .transaction(&[OUTBOX], TransactionMode::ReadOnly)
            .map_err(storage_error)?;
        let values = tx
            .store(OUTBOX)
            .map_err(storage_error)?
            .get_all(None, None)
            .await
            .map_err(storage_error)?;
        Ok(values.into_iter().filter_map(from_js).collect())
    }

    /// The server's copies of the records whose commands it refused: the
    /// device's copy returns to them (asked before settling, so a failure
    /// here leaves the outbox for the next sync, which gets the same answer).
    async fn refused_records(answered: &[(Mutation, MutationStatus)]) -> Result<Vec<PulledChange>, AppError> {
        let mut by_entity: std::collections::BTreeMap<&str, Vec<Uuid>> = Default::default();
        for (mutation, status) in answered {
            if mutation.op == crate::sync::Op::Command && refusal(status).is_some() {
                by_entity
                    .entry(&mutation.entity)
                    .or_default()
                    .push(mutation.record_id);
            }
        }
        let mut fresh = Vec::new();
        for (entity, ids) in by_entity {
            for chunk in ids.chunks(crate::sync::api::MAX_RECORDS) {
                fresh.extend(crate::sync::api::records(entity.to_owned(), chunk.to_vec()).await?);
            }
        }
        Ok(fresh)
    }

    /// Why the server refused a mutation, then or on its first delivery.
    fn refusal(status: &MutationStatus) -> Option<&AppError> {
        match status {
            MutationStatus::Rejected { reason } => Some(reason),
            MutationStatus::Duplicate { original } => refusal(original),
            _ => None,
        }
    }

    /// The most refusals of records gone from the device kept to show.
    const MAX_REFUSED_AWAY: usize = 20;

    fn refused_away_key(user: Uuid) -> String {
        format!("fieldbook.{user}.refused_away")
    }

    /// Keeps the refusals shown for records gone, across reloads.
    pub fn keep_refused_away(user: Uuid, kept: &[super::RefusedAway]) {
        let _ = LocalStorage::set(refused_away_key(user), kept);
    }

    /// The refused mutations whose records the server now answers as
    /// removed (gone, or out of this user's sight), with their titles as
    /// the device holds them, read before settling deletes them.
    async fn refused_away(
        db: &Rexie,
        answered: &[(Mutation, MutationStatus)],
        fresh: &[PulledChange],
    ) -> Result<Vec<super::RefusedAway>, AppError> {
        let gone: Vec<(&str, Uuid)> = fresh
            .iter()
            .filter_map(|change| match change {
                PulledChange::Removed { entity, id } | PulledChange::Deleted { entity, id, .. } => {
                    Some((entity.as_str(), *id))
                }
                PulledChange::Upsert { .. } => None,
            })
            .collect();
        if gone.is_empty() {
            return Ok(Vec::new());
        }
        let tx = db
            .transaction(&[RECORDS], TransactionMode::ReadOnly)
            .map_err(storage_error)?;
        let records = tx.store(RECORDS).map_err(storage_error)?;
        let mut away = Vec::new();
        for (mutation, status) in answered {
            let Some(reason) = refusal(status) else {
                continue;
            };
            if !gone.contains(&(mutation.entity.as_str(), mutation.record_id)) {
                continue;
            }
            let title = records
                .get(record_key(&mutation.entity, mutation.record_id))
                .await
                .map_err(storage_error)?
                .and_then(record_from)
                .and_then(|record| {
                    let field = REGISTERED.with(|r| r.get())?.spec(&record.entity)?.title;
                    record.fields.get(field)?.as_str().map(str::to_owned)
                })
                .unwrap_or_default();
            away.push(super::RefusedAway {
                entity: mutation.entity.clone(),
                title,
                reason: reason.clone(),
            });
        }
        Ok(away)
    }

    /// Moves answered mutations from the outbox to the sent store (those
    /// the server stored) or drops them, puts the server's copies of
    /// refused commands' records back, and marks refused records.
    async fn settle(
        db: &Rexie,
        answered: &[(Mutation, MutationStatus)],
        fresh: Vec<PulledChange>,
    ) -> Result<(), AppError> {
        let tx = db
            .transaction(&[RECORDS, OUTBOX, SENT], TransactionMode::ReadWrite)
            .map_err(storage_error)?;
        let outbox = tx.store(OUTBOX).map_err(storage_error)?;
        let records = tx.store(RECORDS).map_err(storage_error)?;
        let sent = tx.store(SENT).map_err(storage_error)?;
        for change in fresh {
            put_pulled(&records, change).await?;
        }
        for (mutation, status) in answered {
            let key = JsValue::from_str(&mutation.id.to_string());
            outbox.delete(key.clone()).await.map_err(storage_error)?;
            if status.stored() {
                sent.put(&to_js(mutation)?, Some(&key))
                    .await
                    .map_err(storage_error)?;
            }
            if let Some(reason) = refusal(status) {
                mark_rejected(&records, &mutation.entity, mutation.record_id, reason).await?;
            }
        }
        // Forget what is older than the horizon.
        let horizon = crate::sync::resend_horizon(chrono::Utc::now().timestamp_millis());
        let old = KeyRange::upper_bound(&JsValue::from_str(&horizon.to_string()), Some(true))
            .map_err(storage_error)?;
        for mutation in sent
            .get_all(Some(old), None)
            .await
            .map_err(storage_error)?
            .into_iter()
            .filter_map(from_js::<Mutation>)
        {
            sent.delete(JsValue::from_str(&mutation.id.to_string()))
                .await
                .map_err(storage_error)?;
        }
        tx.done().await.map_err(storage_error)?;
        Ok(())
    }

    /// The server's database was restored from a backup (a new epoch, or
    /// its last change is before this device's cursor): every mutation it
    /// acknowledged in the last `RESEND_DAYS` goes back to the outbox, in
    /// the order made and before what waits there (ids are v7), to be sent
    /// again (the server applies what it lacks and answers the rest as
    /// duplicates); the next pull starts from 0 and ends by dropping the
    /// local records the server no longer has (`sweep`).
    async fn rejoin(user: Uuid, epoch: Option<String>) -> Result<(), AppError> {
        let db = open(user).await?;
        let tx = db
            .transaction(&[OUTBOX, SENT], TransactionMode::ReadWrite)
            .map_err(storage_error)?;
        let outbox = tx.store(OUTBOX).map_err(storage_error)?;
        let sent = tx.store(SENT).map_err(storage_error)?;
        for mutation in sent
            .get_all(None, None)
            .await
            .map_err(storage_error)?
            .into_iter()
            .filter_map(from_js::<Mutation>)
        {
            outbox
                .put(
                    &to_js(&mutation)?,
                    Some(&JsValue::from_str(&mutation.id.to_string())),
                )
                .await
                .map_err(storage_error)?;
        }
        sent.clear().await.map_err(storage_error)?;
        tx.done().await.map_err(storage_error)?;
        // After the transaction: a rejoin cut short before here runs again
        // on the next sync's refusal, and sends the same mutations.
        let _ = LocalStorage::set(cursor_key(user), 0i64);
        let _ = LocalStorage::set(refresh_key(user), true);
        match epoch {
            Some(epoch) => {
                let _ = LocalStorage::set(epoch_key(user), epoch);
            }
            None => LocalStorage::delete(epoch_key(user)),
        }
        Ok(())
    }

    /// After a whole pull from 0 that followed a rejoin: drops the local
    /// records the server did not send (it lacks them) unless a change of
    /// them still waits in the outbox.
    async fn sweep(db: &Rexie, seen: &std::collections::HashSet<String>) -> Result<(), AppError> {
        let waiting: std::collections::HashSet<String> = outbox(db)
            .await?
            .iter()
            .map(|m| record_id(&m.entity, m.record_id))
            .collect();
        let tx = db
            .transaction(&[RECORDS], TransactionMode::ReadWrite)
            .map_err(storage_error)?;
        let records = tx.store(RECORDS).map_err(storage_error)?;
        for record in records
            .get_all(None, None)
            .await
            .map_err(storage_error)?
            .into_iter()
            .filter_map(record_from)
        {
            if !seen.contains(&record.key) && !waiting.contains(&record.key) {
                records
                    .delete(JsValue::from_str(&record.key))
                    .await
                    .map_err(storage_error)?;
            }
        }
        tx.done().await.map_err(storage_error)?;
        Ok(())
    }

    /// Marks local records with why the server refused their last change.
    async fn mark_refused(db: &Rexie, refused: &[(String, Uuid, AppError)]) -> Result<(), AppError> {
        let tx = db
            .transaction(&[RECORDS], TransactionMode::ReadWrite)
            .map_err(storage_error)?;
        let records = tx.store(RECORDS).map_err(storage_error)?;
        for (entity, id, reason) in refused {
            mark_rejected(&records, entity, *id, reason).await?;
        }
        tx.done().await.map_err(storage_error)?;
        Ok(())
    }

    /// Marks one local record, if held, with why its change was refused.
    async fn mark_rejected(
        records: &rexie::Store,
        entity: &str,
        id: Uuid,
        reason: &AppError,
    ) -> Result<(), AppError> {
        let key = record_key(entity, id);
        if let Some(mut record) = records
            .get(key)
            .await
            .map_err(storage_error)?
            .and_then(record_from)
        {
            record.rejected = Some(reason.clone());
            records
                .put(&record_value(&record)?, None)
                .await
                .map_err(storage_error)?;
        }
        Ok(())
    }

    /// Stores one pulled change in the records store of a transaction.
    async fn put_pulled(records: &rexie::Store, change: PulledChange) -> Result<(), AppError> {
        match change {
            PulledChange::Upsert {
                entity,
                id,
                version,
                fields,
                owner_id,
                owner_name,
            } => {
                let record = LocalRecord {
                    key: record_id(&entity, id),
                    entity: entity.clone(),
                    id,
                    version,
                    fields: fields.into_fields().map_err(|error| {
                        leptos::logging::error!("pulled {entity} {id}: {error}");
                        AppError::Internal
                    })?,
                    deleted: false,
                    rejected: None,
                    owner: Some((owner_id, owner_name)),
                };
                records
                    .put(&record_value(&record)?, None)
                    .await
                    .map_err(storage_error)?;
            }
            PulledChange::Deleted { entity, id, .. } | PulledChange::Removed { entity, id } => {
                records
                    .delete(record_key(&entity, id))
                    .await
                    .map_err(storage_error)?;
            }
        }
        Ok(())
    }

    async fn apply(db: &Rexie, changes: Vec<PulledChange>) -> Result<(), AppError> {
        let tx = db
            .transaction(&[RECORDS], TransactionMode::ReadWrite)
            .map_err(storage_error)?;
        let records = tx.store(RECORDS).map_err(storage_error)?;
        for change in changes {
            put_pulled(&records, change).await?;
        }
        tx.done().await.map_err(storage_error)?;
        Ok(())
    }

    fn cursor_key(user: Uuid) -> String {
        format!("fieldbook.{user}.cursor")
    }

    pub async fn keep_photo(user: Uuid, photo: &super::LocalPhoto) -> Result<(), AppError> {
        let db = open(user).await?;
        let tx = db
            .transaction(&[PHOTOS], TransactionMode::ReadWrite)
            .map_err(storage_error)?;
        tx.store(PHOTOS)
            .map_err(storage_error)?
            .put(
                &to_js(photo)?,
                Some(&JsValue::from_str(&photo.start.id.to_string())),
            )
            .await
            .map_err(storage_error)?;
        match tx.done().await.map_err(storage_error)? {
            rexie::TransactionResult::Committed => Ok(()),
            rexie::TransactionResult::Aborted => Err(AppError::Internal),
        }
    }

    pub async fn photos(user: Uuid) -> Result<Vec<super::LocalPhoto>, AppError> {
        let db = open(user).await?;
        let tx = db
            .transaction(&[PHOTOS], TransactionMode::ReadOnly)
            .map_err(storage_error)?;
        let values = tx
            .store(PHOTOS)
            .map_err(storage_error)?
            .get_all(None, None)
            .await
            .map_err(storage_error)?;
        Ok(values.into_iter().filter_map(from_js).collect())
    }

    pub async fn drop_photo(user: Uuid, id: Uuid) -> Result<(), AppError> {
        let db = open(user).await?;
        let tx = db
            .transaction(&[PHOTOS], TransactionMode::ReadWrite)
            .map_err(storage_error)?;
        tx.store(PHOTOS)
            .map_err(storage_error)?
            .delete(JsValue::from_str(&id.to_string()))
            .await
            .map_err(storage_error)?;
        tx.done().await.map_err(storage_error)?;
        Ok(())
    }

    /// Uploads the photos waiting here, each from where the server stopped
    /// (`crate::photos`), after the records they belong to were pushed. A
    /// refusal is kept on the photo to show; a lost connection ends the
    /// round, to resume at the next sync. Answers how many still wait.
    async fn upload_photos(user: Uuid) -> Result<usize, AppError> {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        // A failure of the connection, the server or the session ends the
        // round; any other answer is about this photo.
        let ends_round = |error: &AppError| {
            matches!(
                error,
                AppError::Network | AppError::Internal | AppError::Unauthenticated
            )
        };
        let mut still_waiting = 0;
        for photo in photos(user).await? {
            if photo.refused.is_some() {
                continue;
            }
            let refuse = |mut photo: super::LocalPhoto, error: AppError| async move {
                photo.refused = Some(error);
                keep_photo(user, &photo).await
            };
            let mut progress = match crate::photos::begin(photo.start.clone()).await {
                Ok(progress) => progress,
                Err(error) if ends_round(&error) => return Err(error),
                Err(error) => {
                    refuse(photo, error).await?;
                    continue;
                }
            };
            let bytes = engine.decode(&photo.data).map_err(storage_error)?;
            while !progress.complete {
                let from = progress.received as usize;
                let to = (from + crate::photos::CHUNK).min(bytes.len());
                if from >= to {
                    break;
                }
                let chunk = engine.encode(&bytes[from..to]);
                progress = match crate::photos::chunk(photo.start.id, from as u64, chunk).await {
                    Ok(progress) => progress,
                    Err(error) if ends_round(&error) => return Err(error),
                    Err(error) => {
                        refuse(photo.clone(), error).await?;
                        break;
                    }
                };
            }
            if progress.complete {
                drop_photo(user, photo.start.id).await?;
            } else {
                still_waiting += 1;
            }
        }
        Ok(still_waiting)
    }

    /// Photos still to send: part of what the sync bar counts as waiting.
    async fn photos_waiting(user: Uuid) -> Result<usize, AppError> {
        Ok(photos(user).await?.iter().filter(|p| p.refused.is_none()).count())
    }

    /// The server's epoch that the cursor belongs to.
    fn epoch_key(user: Uuid) -> String {
        format!("fieldbook.{user}.epoch")
    }

    /// Set by `rejoin` until a pull from 0 has completed and swept.
    fn refresh_key(user: Uuid) -> String {
        format!("fieldbook.{user}.refresh")
    }

    fn last_sync_key(user: Uuid) -> String {
        format!("fieldbook.{user}.last_sync")
    }

    fn is_online() -> bool {
        web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true)
    }

    pub fn start(status: SyncStatus, user: Uuid, entities: crate::sync::entity::Entities) {
        if status.user.get_untracked() == Some(user) {
            return;
        }
        REGISTERED.with(|registered| registered.set(Some(entities)));
        status.user.set(Some(user));
        status.online.set(is_online());
        status.last_sync.set(LocalStorage::get(last_sync_key(user)).ok());
        status
            .refused_away
            .set(LocalStorage::get(refused_away_key(user)).unwrap_or_default());
        let on_change = move |online: bool| {
            status.online.set(online);
            if online {
                leptos::task::spawn_local(sync(status));
            }
        };
        let _ = window_event_listener(leptos::ev::online, move |_| on_change(true));
        let _ = window_event_listener(leptos::ev::offline, move |_| on_change(false));
        let _ = set_interval_with_handle(move || leptos::task::spawn_local(sync(status)), SYNC_EVERY);
        leptos::task::spawn_local(sync(status));
    }

    /// Pushes the whole outbox in batches, then pulls every page. A failure
    /// keeps everything for the next try, after a growing pause.
    pub async fn sync(status: SyncStatus) {
        let Some(user) = status.user.get_untracked() else {
            return;
        };
        // A sync asked for while one runs (a save during the first pull) is
        // run right after it, not left for the next interval.
        if status.syncing.get_untracked() {
            WANTED.with(|w| w.set(true));
            return;
        }
        status.syncing.set(true);
        let result = loop {
            WANTED.with(|w| w.set(false));
            let result = run(user, status).await;
            if result.is_err() || !WANTED.with(|w| w.get()) {
                break result;
            }
        };
        status.syncing.set(false);
        match result {
            Ok(()) => {
                let now = chrono::Utc::now().timestamp_millis();
                let _ = LocalStorage::set(last_sync_key(user), now);
                status.last_sync.set(Some(now));
                status.error.set(None);
                RETRY.with(|r| r.set(0));
            }
            Err(error) => {
                status.error.set(Some(error.clone()));
                if matches!(error, AppError::Network) {
                    // Retry with backoff: 2, 4, 8 … 60 seconds.
                    let attempt = RETRY.with(|r| {
                        r.set(r.get() + 1);
                        r.get()
                    });
                    let pause = Duration::from_secs((1u64 << attempt.min(5)).min(60));
                    set_timeout(move || leptos::task::spawn_local(sync(status)), pause);
                }
            }
        }
    }

    thread_local! {
        static RETRY: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
        static AGAIN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        static WANTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        /// The aggregates registered at `start`.
        static REGISTERED: std::cell::Cell<Option<crate::sync::entity::Entities>> =
            const { std::cell::Cell::new(None) };
    }

    /// One sync; if the server's database was restored since the last,
    /// rejoins it and syncs again (once: a second refusal is an error).
    async fn run(user: Uuid, status: SyncStatus) -> Result<(), AppError> {
        match push_and_pull(user, status).await {
            Err(AppError::EpochChanged { epoch }) => rejoin(user, Some(epoch)).await?,
            Err(AppError::CursorAhead { .. }) => rejoin(user, None).await?,
            other => return other,
        }
        push_and_pull(user, status).await
    }

    async fn push_and_pull(user: Uuid, status: SyncStatus) -> Result<(), AppError> {
        let db = open(user).await?;
        let epoch: Option<String> = LocalStorage::get(epoch_key(user)).ok();
        let waiting = outbox(&db).await?;
        status
            .pending
            .set(Some(waiting.len() + photos_waiting(user).await?));
        // Records whose change the server refused in this sync: a pull
        // below may bring a newer state of them, which must keep the mark.
        let mut refused: Vec<(String, Uuid, AppError)> = Vec::new();
        for chunk in waiting.chunks(crate::sync::MAX_BATCH) {
            let batch = PushBatch {
                client_id: device_id(),
                epoch: epoch.clone(),
                mutations: chunk.to_vec(),
            };
            let answer = push(batch).await?;
            let answered: Vec<(Mutation, MutationStatus)> = chunk
                .iter()
                .filter_map(|m| {
                    answer
                        .results
                        .iter()
                        .find(|r| r.id == m.id)
                        .map(|r| (m.clone(), r.status.clone()))
                })
                .collect();
            let fresh = refused_records(&answered).await?;
            let away = refused_away(&db, &answered, &fresh).await?;
            settle(&db, &answered, fresh).await?;
            if !away.is_empty() {
                status.refused_away.update(|kept| {
                    kept.extend(away);
                    let over = kept.len().saturating_sub(MAX_REFUSED_AWAY);
                    kept.drain(..over);
                    keep_refused_away(user, kept);
                });
            }
            refused.extend(answered.iter().filter_map(|(mutation, status)| {
                refusal(status).map(|reason| (mutation.entity.clone(), mutation.record_id, reason.clone()))
            }));
            status
                .pending
                .update(|n| *n = n.map(|n| n.saturating_sub(answered.len())));
        }
        let mut cursor: i64 = LocalStorage::get(cursor_key(user)).unwrap_or(0);
        let refresh: bool = LocalStorage::get(refresh_key(user)).unwrap_or(false);
        if refresh {
            cursor = 0;
        }
        let mut seen = std::collections::HashSet::new();
        status.received.set(0);
        loop {
            let page = pull(PullRequest {
                cursor,
                limit: crate::sync::MAX_PAGE,
                epoch: epoch.clone(),
            })
            .await?;
            if refresh {
                seen.extend(page.changes.iter().map(|change| match change {
                    PulledChange::Upsert { entity, id, .. }
                    | PulledChange::Deleted { entity, id, .. }
                    | PulledChange::Removed { entity, id } => record_id(entity, *id),
                }));
            }
            // Apply in the page's own transaction, then yield to the page
            // before the next one, so a large first sync never freezes it.
            let received = page.changes.len();
            apply(&db, page.changes).await?;
            status.received.update(|n| *n += received);
            cursor = page.cursor;
            let _ = LocalStorage::set(cursor_key(user), cursor);
            let _ = LocalStorage::set(epoch_key(user), &page.epoch);
            if !page.has_more {
                break;
            }
        }
        if refresh {
            sweep(&db, &seen).await?;
            LocalStorage::delete(refresh_key(user));
        }
        if !refused.is_empty() {
            mark_refused(&db, &refused).await?;
        }
        let photos_left = upload_photos(user).await?;
        status.pending.set(Some(outbox(&db).await?.len() + photos_left));
        let open = crate::sync::api::conflicts().await?;
        status.conflicts.set(Some(open.len()));
        Ok(())
    }

    /// This device's id, made once and kept.
    fn device_id() -> Uuid {
        const KEY: &str = "fieldbook.device_id";
        LocalStorage::get(KEY).unwrap_or_else(|_| {
            let id = Uuid::new_v4();
            let _ = LocalStorage::set(KEY, id);
            id
        })
    }
}

#[cfg(test)]
mod tests {
    use super::StoreSize;

    #[test]
    fn the_store_warns_at_four_fifths_of_the_quota() {
        let size = |used| StoreSize {
            used_bytes: used,
            quota_bytes: 1000.0,
        };
        assert!(!size(799.0).near_quota());
        assert!(size(800.0).near_quota());
        assert!(!StoreSize {
            used_bytes: 5.0,
            quota_bytes: 0.0
        }
        .near_quota());
    }
}
