//! The data feed's rows, by table and column: writing one checked row by external id (insert
//! it, update what differs, or leave it alone when nothing does, so `updated_at` only moves on
//! real changes and syncs stay quiet), reading one back, and finding ids by external id.

use serde_json::{Map, Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use serde::Serialize;

use super::Timestamp;

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
        }
    }
}

/// The id of the agency's row of `table` with this external id.
pub async fn id_of(
    conn: &mut AnyConnection,
    table: &str,
    agency_id: i64,
    external_id: &str,
) -> sqlx::Result<Option<i64>> {
    let sql = format!("SELECT id FROM {table} WHERE agency_id = $1 AND external_id = $2");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(agency_id)
        .bind(external_id)
        .fetch_optional(&mut *conn)
        .await
}

/// A column value, in the few types the schema uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Vec<u8>),
}

impl From<i64> for Param {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<Option<i64>> for Param {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}

impl From<Option<String>> for Param {
    fn from(value: Option<String>) -> Self {
        Self::Text(value)
    }
}

/// A checked row for one table: its columns besides `id`, `agency_id`, `external_id` and the
/// timestamps.
#[derive(Debug, Clone)]
pub struct Record {
    pub table: &'static str,
    /// Whether the table has `created_at` (set on insert).
    pub created_at: bool,
    /// Whether the table has `updated_at` (set on insert and on every change).
    pub updated_at: bool,
    pub columns: Vec<(&'static str, Param)>,
}

/// The stored row's id and, when it exists, whether it equals `record`.
pub async fn existing(
    conn: &mut AnyConnection,
    agency_id: i64,
    external_id: &str,
    record: &Record,
) -> sqlx::Result<Option<(i64, bool)>> {
    let names: Vec<&str> = record.columns.iter().map(|(name, _)| *name).collect();
    let sql = format!(
        "SELECT id, {} FROM {} WHERE agency_id = $1 AND external_id = $2",
        names.join(", "),
        record.table
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(agency_id)
        .bind(external_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let id: i64 = row.try_get(0)?;
    let mut same = true;
    for (index, (_, param)) in (1..).zip(&record.columns) {
        same &= read(&row, index, param)? == *param;
    }
    Ok(Some((id, same)))
}

fn read(row: &AnyRow, index: usize, like: &Param) -> sqlx::Result<Param> {
    Ok(match like {
        Param::Int(_) => Param::Int(row.try_get(index)?),
        Param::Text(_) => Param::Text(row.try_get(index)?),
        Param::Bytes(_) => Param::Bytes(row.try_get(index)?),
    })
}

fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    param: &'q Param,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    match param {
        Param::Int(value) => query.bind(*value),
        Param::Text(value) => query.bind(value.as_deref()),
        Param::Bytes(value) => query.bind(value.as_slice()),
    }
}

/// Inserts, updates or leaves the row; returns its id and what happened. Two writers of the
/// same new external id at once: the second fails as a unique violation.
pub async fn upsert(
    conn: &mut AnyConnection,
    agency_id: i64,
    external_id: &str,
    record: &Record,
) -> sqlx::Result<(i64, Outcome)> {
    let now = Timestamp::now().0;
    let n = record.columns.len();
    match existing(conn, agency_id, external_id, record).await? {
        Some((id, true)) => Ok((id, Outcome::Unchanged)),
        Some((id, false)) => {
            let mut sets: Vec<String> = (0..n)
                .map(|i| format!("{} = ${}", record.columns[i].0, i + 3))
                .collect();
            if record.updated_at {
                sets.push(format!("updated_at = ${}", n + 3));
            }
            let sql = format!(
                "UPDATE {} SET {} WHERE agency_id = $1 AND id = $2",
                record.table,
                sets.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(agency_id)
                .bind(id);
            for (_, param) in &record.columns {
                query = bind(query, param);
            }
            if record.updated_at {
                query = query.bind(now);
            }
            query.execute(&mut *conn).await?;
            Ok((id, Outcome::Updated))
        }
        None => {
            let mut names: Vec<&str> = vec!["agency_id", "external_id"];
            names.extend(record.columns.iter().map(|(name, _)| *name));
            let mut places: Vec<String> = (1..=n + 2).map(|i| format!("${i}")).collect();
            for (stamp, present) in [
                ("created_at", record.created_at),
                ("updated_at", record.updated_at),
            ] {
                if present {
                    names.push(stamp);
                    places.push(format!("${}", n + 3));
                }
            }
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({}) RETURNING id",
                record.table,
                names.join(", "),
                places.join(", ")
            );
            let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(agency_id)
                .bind(external_id);
            for (_, param) in &record.columns {
                query = match param {
                    Param::Int(value) => query.bind(*value),
                    Param::Text(value) => query.bind(value.as_deref()),
                    Param::Bytes(value) => query.bind(value.as_slice()),
                };
            }
            if record.created_at || record.updated_at {
                query = query.bind(now);
            }
            let id: i64 = query.fetch_one(&mut *conn).await?;
            Ok((id, Outcome::Created))
        }
    }
}

/// A stored row as JSON: `id`, `external_id`, the given columns (blobs left out) and the
/// timestamps the table has, as RFC 3339.
pub async fn show(
    conn: &mut AnyConnection,
    agency_id: i64,
    external_id: &str,
    table: &str,
    columns: &[(&str, Kind)],
) -> sqlx::Result<Option<Map<String, Value>>> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let sql = format!(
        "SELECT id, external_id, {} FROM {table} WHERE agency_id = $1 AND external_id = $2",
        names.join(", ")
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(agency_id)
        .bind(external_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut out = Map::new();
    out.insert("id".into(), json!(row.try_get::<i64, _>(0)?));
    out.insert(
        "external_id".into(),
        json!(row.try_get::<Option<String>, _>(1)?),
    );
    for (index, (name, kind)) in (2..).zip(columns) {
        let value = match kind {
            Kind::Int => json!(row.try_get::<Option<i64>, _>(index)?),
            Kind::Text => json!(row.try_get::<Option<String>, _>(index)?),
            Kind::Time => json!(
                row.try_get::<Option<i64>, _>(index)?
                    .map(|at| Timestamp(at).to_string())
            ),
        };
        out.insert((*name).to_owned(), value);
    }
    Ok(Some(out))
}

/// How [`show`] reads a column.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Int,
    Text,
    /// Unix seconds, shown as RFC 3339.
    Time,
}
