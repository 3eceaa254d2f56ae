//! Users, teams and regions as the command line and the demo create them.

use app::roles::Role;
use app::ssr::{password, to_millis, Db, DbError};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("unknown role {0:?}; one of: {1}")]
    UnknownRole(String, String),
    #[error("username {0:?} is taken")]
    UsernameTaken(String),
    #[error("password must have at least 8 characters")]
    WeakPassword,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for AccountError {
    fn from(error: sqlx::Error) -> Self {
        Self::Db(DbError::Query(error))
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub team_id: Option<Uuid>,
    pub region_id: Option<Uuid>,
    pub password: &'a str,
}

pub fn parse_role(name: &str) -> Result<Role, AccountError> {
    Role::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        AccountError::UnknownRole(name.to_owned(), names.join(", "))
    })
}

pub async fn add_user(db: &Db, user: NewUser<'_>) -> Result<Uuid, AccountError> {
    if user.password.chars().count() < 8 {
        return Err(AccountError::WeakPassword);
    }
    let hash = password::hash_async(user.password.to_owned()).await;
    let id = Uuid::now_v7();
    let result = sqlx::query(
        "INSERT INTO users (id, username, display_name, role, team_id, region_id, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (username) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(user.username)
    .bind(user.display_name)
    .bind(user.role.as_str())
    .bind(user.team_id.map(|t| t.to_string()))
    .bind(user.region_id.map(|r| r.to_string()))
    .bind(hash)
    .bind(to_millis(chrono::Utc::now()))
    .execute(&db.pool)
    .await?;
    if result.rows_affected() == 0 {
        return Err(AccountError::UsernameTaken(user.username.to_owned()));
    }
    Ok(id)
}

/// The id of the region called `name`, created if missing.
pub async fn ensure_region(db: &Db, name: &str) -> Result<Uuid, AccountError> {
    ensure_named(db, "regions", name, None).await
}

/// The id of the team called `name`, created if missing.
pub async fn ensure_team(db: &Db, name: &str, region_id: Option<Uuid>) -> Result<Uuid, AccountError> {
    ensure_named(db, "teams", name, region_id).await
}

async fn ensure_named(
    db: &Db,
    table: &str,
    name: &str,
    region_id: Option<Uuid>,
) -> Result<Uuid, AccountError> {
    let existing: Option<(String,)> = sqlx::query_as(&format!("SELECT id FROM {table} WHERE name = $1"))
        .bind(name)
        .fetch_optional(&db.pool)
        .await?;
    if let Some((id,)) = existing {
        return Ok(app::ssr::session::parse_uuid(&id)?);
    }
    let id = Uuid::now_v7();
    let sql = match table {
        "teams" => "INSERT INTO teams (id, name, region_id) VALUES ($1, $2, $3)",
        _ => "INSERT INTO regions (id, name) VALUES ($1, $2)",
    };
    let mut query = sqlx::query(sql).bind(id.to_string()).bind(name);
    if table == "teams" {
        query = query.bind(region_id.map(|r| r.to_string()));
    }
    query.execute(&db.pool).await?;
    if table == "teams" {
        // The team's public pool, owned by a pseudo-user with the team's id
        // that never signs in (`policy::pool_owner`).
        sqlx::query(
            "INSERT INTO users (id, username, display_name, role, team_id, password_hash, active, created_at) \
             VALUES ($1, $2, $3, 'pool', $1, '', 0, $4)",
        )
        .bind(id.to_string())
        .bind(format!("pool:{id}"))
        .bind(app::policy::POOL_NAME)
        .bind(to_millis(chrono::Utc::now()))
        .execute(&db.pool)
        .await?;
    }
    Ok(id)
}

pub async fn set_team_supervisor(db: &Db, team_id: Uuid, supervisor_id: Uuid) -> Result<(), AccountError> {
    sqlx::query("UPDATE teams SET supervisor_id = $1 WHERE id = $2")
        .bind(supervisor_id.to_string())
        .bind(team_id.to_string())
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn user_count(db: &Db) -> Result<i64, AccountError> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&db.pool)
        .await?;
    Ok(count)
}
