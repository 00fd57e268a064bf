//! What changed after a point, for the data feed's sync (`feed::sync`): rows in
//! `(updated_at, id)` order with their history. Columns come in the order `feed::sync` reads
//! them.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

/// The tables a sync reads back.
#[derive(Debug, Clone, Copy)]
pub enum Changes {
    /// Timesheets with worker, client and worksite external ids and who decided them.
    Timesheets,
    /// Work requests with client and worksite external ids and who filed them.
    WorkRequests,
}

impl Changes {
    /// The query without its condition, and the alias of its main table.
    fn select(self) -> (&'static str, &'static str) {
        match self {
            Self::Timesheets => (
                "SELECT t.id, t.external_id, w.external_id, c.external_id, s.external_id, \
                 t.work_date, t.start_time, t.end_time, t.break_minutes, t.minutes_worked, \
                 t.charge_rate_cents, t.charge_amount_cents, t.pay_rate_cents, t.status, \
                 t.rejection_reason, t.decided_by, p.first_name, p.last_name, p.email, \
                 t.decided_at, t.created_at, t.updated_at, f.email, t.decision_note \
                 FROM timesheets t \
                 JOIN workers w ON w.id = t.worker_id \
                 JOIN clients c ON c.id = t.client_id \
                 LEFT JOIN worksites s ON s.id = t.worksite_id \
                 LEFT JOIN portal_users p ON p.id = t.decided_by \
                 LEFT JOIN staff_users f ON f.id = t.decided_by_staff",
                "t",
            ),
            Self::WorkRequests => (
                "SELECT r.id, c.external_id, s.external_id, r.portal_user_id, p.first_name, \
                 p.last_name, p.email, r.title, r.description, r.needed_by, r.workers_needed, \
                 r.urgency, r.status, r.created_at, r.updated_at, r.scheduled_for, a.email \
                 FROM work_requests r \
                 JOIN clients c ON c.id = r.client_id \
                 LEFT JOIN worksites s ON s.id = r.worksite_id \
                 LEFT JOIN portal_users p ON p.id = r.portal_user_id \
                 LEFT JOIN staff_users a ON a.id = r.assigned_to",
                "r",
            ),
        }
    }

    /// At most `limit` rows changed after `after` (`(updated_at, id)`) and no later than
    /// `settled`, in `(updated_at, id)` order.
    pub async fn after(
        self,
        conn: &mut AnyConnection,
        agency_id: i64,
        after: (i64, i64),
        settled: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<AnyRow>> {
        let (select, alias) = self.select();
        let sql = format!(
            "{select} WHERE {alias}.agency_id = $1 AND ({alias}.updated_at > $2 \
             OR ({alias}.updated_at = $2 AND {alias}.id > $3)) AND {alias}.updated_at <= $4 \
             ORDER BY {alias}.updated_at, {alias}.id LIMIT $5"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(agency_id)
            .bind(after.0)
            .bind(after.1)
            .bind(settled)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await
    }
}

/// The history of the given timesheets, oldest first: timesheet id, action, actor kind,
/// actor name, reason, time.
pub async fn timesheet_events(
    conn: &mut AnyConnection,
    agency_id: i64,
    ids: &[i64],
) -> sqlx::Result<Vec<AnyRow>> {
    let places: Vec<String> = (2..ids.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT timesheet_id, action, actor_kind, actor_name, reason, at FROM timesheet_events \
         WHERE agency_id = $1 AND timesheet_id IN ({}) ORDER BY at, id",
        places.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(agency_id);
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(&mut *conn).await
}

/// A work request's updates, oldest first: author kind, author name, body, status, time,
/// whether it is an internal note.
pub async fn work_request_updates(
    conn: &mut AnyConnection,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Vec<AnyRow>> {
    sqlx::query(
        "SELECT author_kind, author_name, body, status, at, internal FROM work_request_updates \
         WHERE agency_id = $1 AND work_request_id = $2 ORDER BY at, id",
    )
    .bind(agency_id)
    .bind(id)
    .fetch_all(&mut *conn)
    .await
}
