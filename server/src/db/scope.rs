//! The clients a portal query may touch. Client ids come from the session (never from the
//! request) and are integers, so they are spelled into the SQL as a literal list; every
//! value a person typed is bound as a parameter.

use sqlx::any::{Any, AnyArguments, AnyRow};
use sqlx::query::QueryAs;
use sqlx::{AnyExecutor, AssertSqlSafe, FromRow};

/// `IN (…)` contents for the clients a portal user may see; `NULL` (matching nothing) when
/// there are none.
pub fn client_list(client_ids: &[i64]) -> String {
    if client_ids.is_empty() {
        return "NULL".into();
    }
    client_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every row of a client-scoped query whose one parameter is the agency id (`$1`).
pub async fn all<'e, O>(
    db: impl AnyExecutor<'e>,
    sql: String,
    agency_id: i64,
) -> sqlx::Result<Vec<O>>
where
    O: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(agency_id)
        .fetch_all(db)
        .await
}

/// The row of a client-scoped query with the agency id as `$1` and the row's id as `$2`.
pub async fn one<'e, O>(
    db: impl AnyExecutor<'e>,
    sql: String,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Option<O>>
where
    O: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(agency_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A parameter of a query whose conditions depend on a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Int(i64),
    Text(String),
}

/// Conditions joined with `AND`, numbering their parameters from `$1`.
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    pub sql: Vec<String>,
    pub args: Vec<Arg>,
}

impl Conditions {
    /// Adds a condition with one parameter, written `{}` in `template`.
    pub fn push(&mut self, template: &str, arg: Arg) {
        let placeholder = self.param(arg);
        self.sql.push(template.replace("{}", &placeholder));
    }

    /// Adds a parameter without a condition, for a query that places it itself; returns its
    /// placeholder (`$n`).
    pub fn param(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Adds a condition without parameters.
    pub fn push_fixed(&mut self, condition: String) {
        self.sql.push(condition);
    }

    pub fn clause(&self) -> String {
        self.sql.join(" AND ")
    }

    /// Binds the parameters, in order, to a query built from [`Self::clause`].
    pub fn bind<'q, O>(
        &self,
        mut query: QueryAs<'q, Any, O, AnyArguments>,
    ) -> QueryAs<'q, Any, O, AnyArguments> {
        for arg in &self.args {
            query = match arg {
                Arg::Int(value) => query.bind(*value),
                Arg::Text(value) => query.bind(value.clone()),
            };
        }
        query
    }
}

/// One page of a list: `number` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: u32,
    pub size: u32,
}

impl Page {
    pub const SIZE: u32 = 50;

    pub fn new(number: Option<u32>) -> Self {
        Self {
            number: number.unwrap_or(1).clamp(1, 100_000),
            size: Self::SIZE,
        }
    }

    pub fn offset(self) -> i64 {
        i64::from(self.number - 1) * i64::from(self.size)
    }

    pub fn limit(self) -> i64 {
        i64::from(self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_clients_match_nothing() {
        assert_eq!(client_list(&[]), "NULL");
        assert_eq!(client_list(&[3, 7]), "3, 7");
    }

    #[test]
    fn conditions_number_their_parameters() {
        let mut conditions = Conditions::default();
        conditions.push("a = {}", Arg::Int(1));
        conditions.push_fixed("b IS NULL".into());
        conditions.push("c >= {}", Arg::Text("x".into()));
        assert_eq!(conditions.clause(), "a = $1 AND b IS NULL AND c >= $2");
    }
}
