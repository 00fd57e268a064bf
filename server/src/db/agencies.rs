//! The `agencies` table mirrors the agencies in configuration so rows can refer to them.

use sqlx::AnyPool;

use super::Timestamp;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgencyRow {
    pub id: i64,
    pub slug: String,
    pub config_key: String,
    pub display_name: String,
    pub created_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "changed from \"{old}\" to \"{new}\": an agency's slug is its portal address and cannot \
         change once the agency exists (put the old slug back)"
    )]
    SlugChanged { old: String, new: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Records an agency from configuration and returns its id. `config_key` (the file name) is
/// the stable identity: the same file with a different slug is a rename, which is refused.
/// Safe to run from several processes at once.
pub async fn sync(
    pool: &AnyPool,
    config_key: &str,
    slug: &str,
    display_name: &str,
) -> Result<i64, SyncError> {
    if let Some(row) = by_config_key(pool, config_key).await? {
        if row.slug != slug {
            return Err(SyncError::SlugChanged {
                old: row.slug,
                new: slug.to_owned(),
            });
        }
        if row.display_name != display_name {
            sqlx::query("UPDATE agencies SET display_name = $1 WHERE id = $2")
                .bind(display_name)
                .bind(row.id)
                .execute(pool)
                .await?;
        }
        return Ok(row.id);
    }
    // The file was renamed but kept its slug: the agency follows its new file name.
    let moved =
        sqlx::query("UPDATE agencies SET config_key = $1, display_name = $2 WHERE slug = $3")
            .bind(config_key)
            .bind(display_name)
            .bind(slug)
            .execute(pool)
            .await?;
    if moved.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO agencies (slug, config_key, display_name, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(slug)
        .bind(config_key)
        .bind(display_name)
        .bind(Timestamp::now())
        .execute(pool)
        .await?;
    }
    match by_config_key(pool, config_key).await? {
        Some(row) if row.slug == slug => Ok(row.id),
        Some(row) => Err(SyncError::SlugChanged {
            old: row.slug,
            new: slug.to_owned(),
        }),
        None => Err(SyncError::Database(sqlx::Error::RowNotFound)),
    }
}

pub async fn by_config_key(pool: &AnyPool, config_key: &str) -> sqlx::Result<Option<AgencyRow>> {
    sqlx::query_as(
        "SELECT id, slug, config_key, display_name, created_at FROM agencies WHERE config_key = $1",
    )
    .bind(config_key)
    .fetch_optional(pool)
    .await
}

/// The id of the agency with this slug.
pub async fn id_of(pool: &AnyPool, slug: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM agencies WHERE slug = $1")
        .bind(slug)
        .fetch_optional(pool)
        .await
}

pub async fn list(pool: &AnyPool) -> sqlx::Result<Vec<AgencyRow>> {
    sqlx::query_as(
        "SELECT id, slug, config_key, display_name, created_at FROM agencies ORDER BY slug",
    )
    .fetch_all(pool)
    .await
}

/// Records every configured agency; returns their ids by slug. A slug edited in place is an
/// error naming the agency's file and key.
pub async fn sync_all(
    pool: &AnyPool,
    config_dir: &std::path::Path,
    agencies: &std::collections::BTreeMap<String, crate::config::AgencyConfig>,
) -> anyhow::Result<std::collections::BTreeMap<String, i64>> {
    let mut ids = std::collections::BTreeMap::new();
    for (key, config) in agencies {
        let id = sync(pool, key, &config.slug, &config.display_name)
            .await
            .map_err(|err| {
                let file = config_dir.join("agencies").join(format!("{key}.toml"));
                anyhow::anyhow!("{}: key `slug`: {err}", file.display())
            })?;
        ids.insert(config.slug.clone(), id);
    }
    Ok(ids)
}
