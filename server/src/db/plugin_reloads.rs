//! The plugin reload generation: one row that `portal plugin reload` bumps and running servers
//! poll (see `plugins::watch`).

use sqlx::AnyPool;

/// The current generation.
pub async fn generation(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT generation FROM plugin_reloads WHERE id = 1")
        .fetch_one(pool)
        .await
}

/// Asks every server on this database to reload its plugins; returns the new generation.
pub async fn bump(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE plugin_reloads SET generation = generation + 1 WHERE id = 1 RETURNING generation",
    )
    .fetch_one(pool)
    .await
}
