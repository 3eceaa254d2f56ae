//! The SQL both databases share: placeholders, multi-row INSERTs, ids as
//! text and stored JSON read back.

use crate::ssr::DbError;
use sqlx::AnyConnection;
use uuid::Uuid;

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, DbError> {
    serde_json::from_str(text).map_err(corrupt_json)
}

/// Stored JSON that does not read back: the database holds what no write made.
pub(super) fn corrupt_json(error: serde_json::Error) -> DbError {
    DbError::Corrupt(format!("stored JSON: {error}"))
}

/// Ids per `IN (…)` list, well under both databases' parameter limits.
pub(super) const IDS_PER_QUERY: usize = 500;
/// Rows per multi-row INSERT (at most 10 values each).
pub(super) const ROWS_PER_INSERT: usize = 200;

/// Placeholders for `count` values numbered from `first`: `$first, …` on
/// PostgreSQL; on SQLite anonymous `?`, taken in order. (sqlx looks up the
/// name of every numbered SQLite parameter, which SQLite finds by a linear
/// scan: quadratic in a 2,000-value INSERT, and most of a push's time.)
pub(super) fn placeholders(conn: &AnyConnection, first: usize, count: usize) -> String {
    let mut list = String::with_capacity(count * 6);
    push_placeholders(&mut list, conn.backend_name() != "SQLite", first, count);
    list
}

pub(super) fn push_placeholders(sql: &mut String, numbered: bool, first: usize, count: usize) {
    use std::fmt::Write;
    for n in first..first + count {
        if n > first {
            sql.push_str(", ");
        }
        if numbered {
            let _ = write!(sql, "${n}");
        } else {
            sql.push('?');
        }
    }
}

/// One value of a multi-row INSERT. Names and ids are held without a heap
/// allocation: a push of 1,000 leads binds some 30,000 values.
pub(super) enum Param {
    Text(String),
    MaybeText(Option<String>),
    Name(&'static str),
    Id(IdText),
    MaybeId(Option<IdText>),
    Int(i64),
    MaybeInt(Option<i64>),
}

/// A UUID as its 36 characters of text, as ids are stored.
#[derive(Clone, Copy)]
pub(super) struct IdText([u8; uuid::fmt::Hyphenated::LENGTH]);

impl IdText {
    pub(super) fn new(id: Uuid) -> Self {
        let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
        id.hyphenated().encode_lower(&mut text);
        Self(text)
    }

    pub(super) fn as_str(&self) -> &str {
        // Only ever holds the ASCII written by `encode_lower`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The rows of one table, `width` values each, in one flat list.
pub(super) struct Rows {
    pub(super) width: usize,
    pub(super) values: Vec<Param>,
}

impl Rows {
    pub(super) fn new(width: usize) -> Self {
        Self {
            width,
            values: Vec::new(),
        }
    }

    pub(super) fn push<const N: usize>(&mut self, row: [Param; N]) {
        debug_assert_eq!(N, self.width);
        self.values.extend(row);
    }
}

/// `INSERT INTO {table} ({columns}) VALUES (…), (…) {tail}` for every
/// row, in chunks.
///
/// Measured against PostgreSQL's `json_to_recordset` (all rows in one JSON
/// parameter, one statement per table): PostgreSQL spent a quarter more
/// on the push's inserts parsing the JSON than it spends receiving and
/// planning the bound values (docs/benchmarks.md).
pub(super) async fn insert_rows(
    tx: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    tail: &str,
    rows: &Rows,
) -> Result<(), DbError> {
    debug_assert_eq!(columns.len(), rows.width, "{table}: a row of the wrong width");
    let numbered = tx.backend_name() != "SQLite";
    let into = format!("{table} ({})", columns.join(", "));
    for chunk in rows.values.chunks(ROWS_PER_INSERT * rows.width) {
        let mut sql = format!("INSERT INTO {into} VALUES ");
        for row in 0..chunk.len() / rows.width {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            push_placeholders(&mut sql, numbered, row * rows.width + 1, rows.width);
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(tail);
        let mut query = sqlx::query(&sql);
        // Borrowed: binding a String would copy every value once more.
        for param in chunk {
            query = match param {
                Param::Text(value) => query.bind(value.as_str()),
                Param::MaybeText(value) => query.bind(value.as_deref()),
                Param::Name(value) => query.bind(*value),
                Param::Id(value) => query.bind(value.as_str()),
                Param::MaybeId(value) => query.bind(value.as_ref().map(IdText::as_str)),
                Param::Int(value) => query.bind(*value),
                Param::MaybeInt(value) => query.bind(*value),
            };
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

pub(super) fn json(value: &impl serde::Serialize) -> Result<String, DbError> {
    serde_json::to_string(value).map_err(|e| DbError::Corrupt(e.to_string()))
}
