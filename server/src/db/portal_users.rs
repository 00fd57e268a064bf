//! Client contacts who sign in to the agency's portal.

use sqlx::{AnyConnection, AnyExecutor};

use super::{Flag, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalUserStatus {
    /// Invited, no password set yet.
    Invited,
    Active,
    Deactivated,
}

impl PortalUserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
            Self::Deactivated => "deactivated",
        }
    }
}

#[derive(Debug)]
pub struct NewPortalUser<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub role_id: &'a str,
    pub all_clients: bool,
    pub restricted_access: bool,
    pub status: PortalUserStatus,
    pub password_hash: Option<&'a str>,
    pub must_change_password: bool,
    /// Clients the user may see, each optionally narrowed to one worksite.
    pub clients: &'a [(i64, Option<i64>)],
}

/// Creates a portal user and their client links; run it inside a transaction.
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn create(
    conn: &mut AnyConnection,
    agency_id: i64,
    new: &NewPortalUser<'_>,
) -> sqlx::Result<i64> {
    let now = Timestamp::now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO portal_users (agency_id, email, first_name, last_name, role_id, all_clients, \
         restricted_access, status, password_hash, must_change_password, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(agency_id)
    .bind(crate::email::normalize(new.email))
    .bind(new.first_name.trim())
    .bind(new.last_name.trim())
    .bind(new.role_id)
    .bind(Flag(new.all_clients))
    .bind(Flag(new.restricted_access))
    .bind(new.status.as_str())
    .bind(new.password_hash)
    .bind(Flag(new.must_change_password))
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    for (client_id, worksite_id) in new.clients {
        sqlx::query(
            "INSERT INTO portal_user_clients (agency_id, portal_user_id, client_id, worksite_id) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(agency_id)
        .bind(id)
        .bind(client_id)
        .bind(worksite_id)
        .execute(&mut *conn)
        .await?;
    }
    refresh_list_columns(conn, agency_id, id).await?;
    Ok(id)
}

/// How many portal users the agency has, from the counts the triggers of migration 0045 keep.
pub async fn count(pool: &sqlx::AnyPool, agency_id: i64) -> sqlx::Result<i64> {
    counted(pool, agency_id, None).await
}

impl PortalUserStatus {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "invited" => Some(Self::Invited),
            "active" => Some(Self::Active),
            "deactivated" => Some(Self::Deactivated),
            _ => None,
        }
    }
}

/// A portal user as the manage area and the API show them. No password hash, no second
/// factor secrets.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct PortalUser {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role_id: String,
    #[sqlx(try_from = "Flag")]
    pub all_clients: bool,
    #[sqlx(try_from = "Flag")]
    pub restricted_access: bool,
    pub status: String,
    #[sqlx(try_from = "Flag")]
    pub must_change_password: bool,
    pub last_login_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// The client's name, "N clients" or "All clients".
    pub company: String,
    pub client_count: i64,
}

const COLUMNS: &str = "id, email, first_name, last_name, role_id, all_clients, restricted_access, \
                       status, must_change_password, last_login_at, created_at, company, client_count";

/// The columns the list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Name,
    Email,
    Company,
    Role,
    Status,
    LastSignIn,
    Created,
}

impl SortBy {
    pub const ALL: [SortBy; 7] = [
        Self::Name,
        Self::Email,
        Self::Company,
        Self::Role,
        Self::Status,
        Self::LastSignIn,
        Self::Created,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Email => "email",
            Self::Company => "company",
            Self::Role => "role",
            Self::Status => "status",
            Self::LastSignIn => "last_sign_in",
            Self::Created => "created",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The columns the list is ordered by before the id that breaks ties; each sort has an
    /// index of migration 0045 (0080 for the last sign-in) on the agency, these columns and
    /// the id, read forwards or backwards. Never-signed-in users sort as if they had signed
    /// in before anyone.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Self::Name => &["last_name", "first_name"],
            Self::Email => &["email"],
            Self::Company => &["company"],
            Self::Role => &["role_id"],
            Self::Status => &["status"],
            Self::LastSignIn => &["last_login_key"],
            Self::Created => &["created_at"],
        }
    }

    /// The index of migration 0045 (SQLite) that serves this order.
    fn index(self) -> &'static str {
        match self {
            Self::Name => "portal_users_by_name",
            Self::Email => "portal_users_by_email",
            Self::Company => "portal_users_by_company",
            Self::Role => "portal_users_by_role",
            Self::Status => "portal_users_by_status",
            Self::LastSignIn => "portal_users_by_last_login",
            Self::Created => "portal_users_by_created",
        }
    }

    fn order_by(self, descending: bool) -> String {
        let direction = if descending { " DESC" } else { "" };
        self.keys()
            .iter()
            .chain(&["id"])
            .map(|key| format!("{key}{direction}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The values of `keys` for one user, in order, and the id.
    fn values(self, user: &PortalUser) -> Vec<Key> {
        let text = |value: &str| Key::Text(value.to_owned());
        let mut values = match self {
            Self::Name => vec![text(&user.last_name), text(&user.first_name)],
            Self::Email => vec![text(&user.email)],
            Self::Company => vec![text(&user.company)],
            Self::Role => vec![text(&user.role_id)],
            Self::Status => vec![text(&user.status)],
            Self::LastSignIn => vec![Key::Number(user.last_login_at.map_or(-1, |t| t.0))],
            Self::Created => vec![Key::Number(user.created_at.0)],
        };
        values.push(Key::Number(user.id));
        values
    }

    /// The condition that a row comes after (or, `descending`, before) a user whose
    /// [`values`](Self::values) are bound from `$n` on: a row-value comparison both
    /// databases answer with a seek in the sort index. Nothing more: a bound on the first
    /// column alone as well led SQLite, once `ANALYZE` had run, to skip-scan the index and
    /// sort instead (70 ms for a page of 100,000 users).
    fn beyond(self, descending: bool, n: usize) -> String {
        let keys = self.keys();
        let strict = if descending { "<" } else { ">" };
        let row = keys.join(", ");
        let values = (n..=n + keys.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("({row}, id) {strict} ({values})")
    }
}

/// A value of a sort column, bound as the database's type.
#[derive(Debug, Clone)]
enum Key {
    Text(String),
    Number(i64),
}

/// What the list shows: a search over name, email and company, a status, and the order.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub search: String,
    pub status: Option<PortalUserStatus>,
    pub sort: SortBy,
    pub descending: bool,
    /// Only users who see nothing beyond these clients (a client's portal users as one of
    /// their own contacts sees them); `None` for every user of the agency.
    pub within: Option<Vec<i64>>,
}

/// A WHERE clause over `portal_users` and the text values it binds after the agency id
/// (`$1`), as `$2`, `$3`…: only the conditions the filter uses, so each database plans
/// the query for what is asked.
struct Condition {
    sql: String,
    values: Vec<String>,
    /// A search pattern is among the values: a statement with it is planned for the pattern
    /// each time it runs, not prepared once and kept. After five runs PostgreSQL keeps a
    /// generic plan for a kept statement, made without the pattern and so for one that
    /// matches few rows: every match read through the trigram index, then sorted (150 ms
    /// for a page of a search 100,000 users match, against 1 ms planned for the pattern).
    planned_per_pattern: bool,
}

impl Condition {
    fn placeholder(&self) -> usize {
        self.values.len() + 2
    }
}

impl Filter {
    fn searching(&self) -> bool {
        !self.search.trim().is_empty()
    }

    /// The LIKE pattern of the search, wildcards in what was typed taken literally.
    fn pattern(&self) -> String {
        let escaped = self
            .search
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    }

    /// The search as a query of the trigram index of migration 0070 (SQLite): trigrams that
    /// every match holds — the first three characters, every third after, and the last three —
    /// each quoted. `None` when the search is shorter than a trigram.
    fn trigrams(&self) -> Option<String> {
        let typed: Vec<char> = self.search.trim().to_lowercase().chars().collect();
        let last = typed.len().checked_sub(3)?;
        let mut starts: Vec<usize> = (0..=last).step_by(3).collect();
        if starts.last() != Some(&last) {
            starts.push(last);
        }
        let quoted: Vec<String> = starts
            .into_iter()
            .map(|start| {
                let trigram: String = typed[start..start + 3].iter().collect();
                format!("\"{}\"", trigram.replace('"', "\"\""))
            })
            .collect();
        Some(quoted.join(" AND "))
    }

    fn condition(&self) -> Condition {
        let mut condition = Condition {
            sql: "agency_id = $1".to_owned(),
            values: Vec::new(),
            planned_per_pattern: self.searching(),
        };
        if let Some(status) = self.status {
            condition.sql += &format!(" AND status = ${}", condition.placeholder());
            condition.values.push(status.as_str().to_owned());
        }
        if self.searching() {
            condition.sql += &format!(
                " AND search_text LIKE ${} ESCAPE '\\'",
                condition.placeholder()
            );
            condition.values.push(self.pattern());
        }
        if let Some(ids) = &self.within {
            condition.sql += " AND ";
            condition.sql += &within(ids);
        }
        condition
    }
}

/// The condition that a user of `portal_users` sees no client outside `ids`: a user of
/// linked clients has at least one link and none elsewhere; an all-clients user qualifies
/// only when `ids` holds every current client of the agency. The ids are integers, written
/// into the statement as numbers.
fn within(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "1 = 0".to_owned();
    }
    let list = numbers(ids);
    format!(
        "((all_clients <> 0 AND NOT EXISTS (SELECT 1 FROM clients c \
           WHERE c.agency_id = portal_users.agency_id AND c.archived_at IS NULL \
           AND c.id NOT IN ({list}))) \
         OR (all_clients = 0 AND EXISTS (SELECT 1 FROM portal_user_clients l \
           WHERE l.portal_user_id = portal_users.id) \
           AND NOT EXISTS (SELECT 1 FROM portal_user_clients l \
           WHERE l.portal_user_id = portal_users.id AND l.client_id NOT IN ({list}))))"
    )
}

fn numbers(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a page of the list begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seek {
    /// After this many rows of the list.
    Offset(i64),
    /// Right after user `id` in the list's order (the next page). When that user is gone,
    /// the page after `offset` rows instead.
    After { id: i64, offset: i64 },
    /// Right before user `id` (the previous page), or the page after `offset` rows.
    Before { id: i64, offset: i64 },
    /// The last page, however many rows the list has by now: read from the other end.
    Last,
}

/// Where the last page of `total` rows in pages of `limit` begins.
pub fn last_page_offset(total: i64, limit: i64) -> i64 {
    (total - 1).max(0) / limit.max(1) * limit.max(1)
}

/// One page of the list and how many rows match in all.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listing {
    /// How many rows match; when `more`, how many were counted before counting stopped.
    pub total: i64,
    pub users: Vec<PortalUser>,
    /// The search matches more than [`COUNTED_AT_MOST`] users: `total` is that many.
    pub more: bool,
}

/// A search is counted this far and no further: past it, "more than 10,000" says as much as
/// an exact count would, and counting a search that matches most of a large agency reads
/// all of it (some 20 ms for 100,000 users on PostgreSQL). Such a list has no last page to
/// jump to; the Last link (`at=end`) shows its first page.
pub const COUNTED_AT_MOST: i64 = NARROW_SEARCH;

/// A search matching at most this many users is paged from its matches, read once and sorted;
/// one matching more walks the sort index, where a page needs few rows before it has enough.
/// Reading and sorting the matches costs some 1 µs each, so this many stay within the
/// target; a walk can pass most of the agency when the matches sit together at the other
/// end of the order, which a search matching this many seldom does (BENCHMARKS.md,
/// "Portal-user list").
const NARROW_SEARCH: i64 = 10_000;

/// Users holding a search's trigrams that SQLite reads by id to find its matches, at most.
/// The trigram index spans every agency, so a search that is narrow in its own agency can have
/// more candidates than matches (a surname in 50 agencies beside the one searched); read by
/// id, 20,000 cost about what a walk of the sort index past most of a large agency does.
const CANDIDATES: i64 = 2 * NARROW_SEARCH;

/// What [`narrow_search`] made of a search.
enum Search {
    Paged(Listing),
    /// More than [`CANDIDATES`] users hold its trigrams; how many match is not known.
    Candidates,
    /// More users match than a narrow search has.
    Wide,
}

/// One page of an agency's portal users.
///
/// Fast however many users the agency has: the count of an unfiltered or status-filtered
/// list is kept by triggers; a search that matches few enough users reads its matches once
/// (found through a trigram index), counts them and sorts just those; one that matches more
/// is counted up to [`COUNTED_AT_MOST`] and walks the sort index; a next or previous page
/// seeks from the row before it; and a page past the middle is read from the other end.
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn list(
    db: &super::Db,
    agency_id: i64,
    filter: &Filter,
    limit: i64,
    seek: Seek,
) -> sqlx::Result<Listing> {
    let pool = &db.pool;
    let sqlite = db.backend == super::Backend::Sqlite;
    let (seek, cursor) = match seek {
        Seek::After { id, offset } | Seek::Before { id, offset } => {
            match get(pool, agency_id, id).await? {
                Some(user) => (seek, Some(user)),
                None => (Seek::Offset(offset), None),
            }
        }
        Seek::Offset(_) | Seek::Last => (seek, None),
    };
    let wide = filter.searching()
        && match narrow_search(db, agency_id, filter, limit, seek, cursor.as_ref()).await? {
            Search::Paged(listing) => return Ok(listing),
            Search::Wide => true,
            Search::Candidates => false,
        };
    let condition = filter.condition();
    let (total, more) = if wide {
        (COUNTED_AT_MOST, true)
    } else if filter.searching() {
        // SQLite reads what was typed from the covering status index alone.
        let table = if sqlite {
            "portal_users INDEXED BY portal_users_by_status"
        } else {
            "portal_users"
        };
        let counted = count_matching(
            pool,
            agency_id,
            table,
            &condition,
            Some(COUNTED_AT_MOST + 1),
        )
        .await?;
        (counted.min(COUNTED_AT_MOST), counted > COUNTED_AT_MOST)
    } else if filter.within.is_some() {
        let counted = count_matching(pool, agency_id, "portal_users", &condition, None).await?;
        (counted, false)
    } else {
        (counted(pool, agency_id, filter.status).await?, false)
    };
    // SQLite is told which index serves the order: left to itself, it may read a search
    // through the covering status index and sort thousands of rows instead.
    let table = if sqlite {
        format!("portal_users INDEXED BY {}", filter.sort.index())
    } else {
        "portal_users".to_owned()
    };
    let (from_end, offset, limit) = match seek {
        Seek::After { .. } => (false, 0, limit),
        Seek::Before { .. } => (true, 0, limit),
        // Uncounted: the page is read forwards, however far down it is.
        Seek::Offset(offset) if more => (false, offset, limit),
        Seek::Last if more => (false, 0, limit),
        Seek::Offset(offset) if offset >= total => {
            return Ok(Listing {
                total,
                users: Vec::new(),
                more,
            });
        }
        Seek::Offset(offset) if offset > total / 2 => {
            let rest = total - offset;
            (true, (rest - limit).max(0), limit.min(rest))
        }
        Seek::Offset(offset) => (false, offset, limit),
        Seek::Last => (true, 0, total - last_page_offset(total, limit)),
    };
    let query = PageQuery {
        table: &table,
        condition: &condition,
        sort: filter.sort,
        descending: filter.descending != from_end,
        cursor: cursor.as_ref(),
        limit,
        offset,
        ids_first: !sqlite,
    };
    // SQLite walks the index it is told to; PostgreSQL is walked in rounds (see [`walk`]).
    let mut users = if more && !sqlite {
        walk(pool, agency_id, query).await?
    } else {
        page(pool, agency_id, query).await?
    };
    if from_end {
        users.reverse();
    }
    Ok(Listing { total, users, more })
}

/// A user of a search's page, and how many users the search matches.
#[derive(sqlx::FromRow)]
struct Matching {
    #[sqlx(flatten)]
    user: PortalUser,
    matching: i64,
}

/// A page of a search from its matches, read once into a materialized CTE (at most one more
/// than [`NARROW_SEARCH`]), counted and sorted by the page's keys, only the page's rows read
/// in full; [`Search::Wide`] or [`Search::Candidates`] when the search matches more users.
///
/// On SQLite a search of three characters or more first asks the trigram index of
/// migration 0070 for the users holding its trigrams and reads just those rows by id (the
/// LIKE still decides); a shorter one reads the text from the covering status index. On
/// PostgreSQL the trigram index of migration 0045 finds the rows.
async fn narrow_search(
    db: &super::Db,
    agency_id: i64,
    filter: &Filter,
    limit: i64,
    seek: Seek,
    cursor: Option<&PortalUser>,
) -> sqlx::Result<Search> {
    let pool = &db.pool;
    let sqlite = db.backend == super::Backend::Sqlite;
    let mut condition = filter.condition();
    let table = match filter.trigrams() {
        Some(trigrams) if sqlite => {
            // The users holding the trigrams include every match, and the users of other
            // agencies who hold them too: past [`CANDIDATES`] of them, the walk is the
            // better way.
            let candidates: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM portal_user_search \
                 WHERE portal_user_search MATCH $1 LIMIT {}) AS candidates",
                CANDIDATES + 1
            )))
            .bind(&trigrams)
            .fetch_one(pool)
            .await?;
            if candidates > CANDIDATES {
                return Ok(Search::Candidates);
            }
            condition.sql += &format!(
                " AND id IN (SELECT rowid FROM portal_user_search \
                 WHERE portal_user_search MATCH ${})",
                condition.placeholder()
            );
            condition.values.push(trigrams);
            "portal_users NOT INDEXED"
        }
        _ if sqlite => "portal_users INDEXED BY portal_users_by_status",
        _ => "portal_users",
    };
    // The last page is the first rows of the reverse order, as many as are left over
    // after the full pages: a sort that keeps a page's worth of rows, not all of them.
    let (descending, offset, from_end) = match seek {
        Seek::After { .. } => (filter.descending, 0, false),
        Seek::Before { .. } | Seek::Last => (!filter.descending, 0, true),
        Seek::Offset(offset) => (filter.descending, offset, false),
    };
    let sort = filter.sort;
    let order = sort.order_by(descending);
    // A search that turns out to match more users than this skips the sort: it will walk.
    let narrow = format!("(SELECT COUNT(*) FROM matches) <= {NARROW_SEARCH}");
    let beyond = match cursor {
        Some(_) => format!(
            " WHERE {} AND {narrow}",
            sort.beyond(descending, condition.placeholder())
        ),
        None => format!(" WHERE {narrow}"),
    };
    // Rows by id, not a walk of a sort index.
    let by_id = if sqlite { " NOT INDEXED" } else { "" };
    // The one sort key that is not a column of the user, for the union's order.
    let key = if sort == SortBy::LastSignIn {
        ", last_login_key"
    } else {
        ""
    };
    // The page's rows; or, for a wide search, one of its matches to carry the count.
    let query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH matches AS MATERIALIZED (SELECT id, {} FROM {table} WHERE {} LIMIT {}) \
         SELECT {COLUMNS}{key}, (SELECT COUNT(*) FROM matches) AS matching \
         FROM portal_users{by_id} \
         WHERE id IN (SELECT id FROM matches{beyond} ORDER BY {order} LIMIT {limit} \
         OFFSET {offset}) \
         UNION ALL SELECT {COLUMNS}{key}, (SELECT COUNT(*) FROM matches) \
         FROM portal_users{by_id} \
         WHERE id = (SELECT MIN(id) FROM matches) AND NOT {narrow} ORDER BY {order}",
        sort.keys().join(", "),
        condition.sql,
        NARROW_SEARCH + 1,
    )));
    let keys = cursor.map(|user| sort.values(user));
    let rows: Vec<Matching> = bind_page(query, agency_id, &condition, keys)
        .fetch_all(pool)
        .await?;
    let total = match rows.first() {
        Some(row) => row.matching,
        // No match, or a page past the last: the count comes on its own.
        None => count_matching(pool, agency_id, table, &condition, Some(NARROW_SEARCH + 1)).await?,
    };
    if total > NARROW_SEARCH {
        return Ok(Search::Wide);
    }
    let mut users: Vec<PortalUser> = rows.into_iter().map(|row| row.user).collect();
    if seek == Seek::Last {
        users.truncate(usize::try_from(total - last_page_offset(total, limit)).unwrap_or(0));
    }
    if from_end {
        users.reverse();
    }
    Ok(Search::Paged(Listing {
        total,
        users,
        more: false,
    }))
}

/// Rows of `table` meeting `condition`, in the order of `sort`, after the
/// `cursor` user when there is one, then past `offset` rows.
struct PageQuery<'a> {
    table: &'a str,
    condition: &'a Condition,
    sort: SortBy,
    descending: bool,
    cursor: Option<&'a PortalUser>,
    limit: i64,
    offset: i64,
    /// The page's ids are found first, then their rows (for PostgreSQL; see [`page`]).
    ids_first: bool,
}

async fn page<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    page: PageQuery<'_>,
) -> sqlx::Result<Vec<PortalUser>> {
    // With `ids_first`, the ids come from the sort index alone, which holds the status too
    // (an index-only scan), and then their rows: otherwise PostgreSQL reads the row of every
    // entry it passes, and a status that the first rows of an order lack made a page read
    // 45,000 of them (25 ms against 8). SQLite reads the status from the index by itself.
    let columns = if page.ids_first { "id" } else { COLUMNS };
    let mut sql = format!(
        "SELECT {columns} FROM {} WHERE {}",
        page.table, page.condition.sql
    );
    let next = page.condition.placeholder();
    if page.cursor.is_some() {
        sql += " AND ";
        sql += &page.sort.beyond(page.descending, next);
    }
    let order = page.sort.order_by(page.descending);
    sql += &format!(
        " ORDER BY {order} LIMIT {} OFFSET {}",
        page.limit, page.offset
    );
    if page.ids_first {
        sql = format!("SELECT {COLUMNS} FROM portal_users WHERE id IN ({sql}) ORDER BY {order}");
    }
    let keys = page.cursor.map(|user| page.sort.values(user));
    bind_page(
        sqlx::query_as(sqlx::AssertSqlSafe(sql)),
        agency_id,
        page.condition,
        keys,
    )
    .fetch_all(db)
    .await
}

/// Rows the first round of [`walk`] reads; each round after reads twice as many as the one
/// before, up to [`WALK_AT_MOST`].
const WALK_FIRST: i64 = 200;
const WALK_AT_MOST: i64 = 8_000;

/// A row of the sort order [`walk`] passed, whether it meets the condition, and how many
/// rows the round read.
#[derive(sqlx::FromRow)]
struct Walked {
    #[sqlx(flatten)]
    user: PortalUser,
    matched: i64,
    walked: i64,
}

/// A page of a search that matches many users, on PostgreSQL: the sort index is read in
/// rounds, each taking the next rows of the agency in order and keeping those that match,
/// until the page is full. PostgreSQL cannot be told which index to walk, and how it plans
/// the page on its own rests on its guess of how many rows the pattern matches: guessed
/// few, it reads every match through the trigram index and sorts them (see
/// [`Condition::planned_per_pattern`]). A round it cannot plan otherwise, the condition
/// being applied only after its `LIMIT`. A round returns the rows that match and the last
/// row it read, where the next round starts.
async fn walk(
    pool: &sqlx::AnyPool,
    agency_id: i64,
    page: PageQuery<'_>,
) -> sqlx::Result<Vec<PortalUser>> {
    let PageQuery {
        table,
        condition,
        sort,
        descending,
        limit,
        ..
    } = page;
    let wanted = usize::try_from(limit).unwrap_or(0);
    let mut cursor = page.cursor.cloned();
    let mut skip = page.offset;
    let mut round = (4 * (page.offset + limit)).clamp(WALK_FIRST, WALK_AT_MOST);
    let mut users = Vec::new();
    let order = sort.order_by(descending);
    let last = sort.order_by(!descending);
    let cond = &condition.sql;
    loop {
        let beyond = match cursor {
            Some(_) => format!(" AND {}", sort.beyond(descending, condition.placeholder())),
            None => String::new(),
        };
        let query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "WITH walked AS MATERIALIZED (SELECT * FROM {table} WHERE agency_id = $1{beyond} \
             ORDER BY {order} LIMIT {round}) \
             SELECT {COLUMNS}, CAST(CASE WHEN {cond} THEN 1 ELSE 0 END AS BIGINT) AS matched, \
             (SELECT COUNT(*) FROM walked) AS walked \
             FROM walked AS portal_users \
             WHERE ({cond}) OR id = (SELECT id FROM walked ORDER BY {last} LIMIT 1) \
             ORDER BY {order}"
        )));
        let keys = cursor.as_ref().map(|user| sort.values(user));
        let rows: Vec<Walked> = bind_page(query, agency_id, condition, keys)
            .fetch_all(pool)
            .await?;
        let walked = rows.first().map_or(0, |row| row.walked);
        cursor = rows.last().map(|row| row.user.clone());
        for row in rows.into_iter().filter(|row| row.matched != 0) {
            if skip > 0 {
                skip -= 1;
            } else if users.len() < wanted {
                users.push(row.user);
            }
        }
        if users.len() >= wanted || walked < round {
            return Ok(users);
        }
        round = (round * 2).min(WALK_AT_MOST);
    }
}

type AnyQueryAs<'q, O> = sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>;

/// Binds what the placeholders of a page query stand for, in order: the agency, the
/// condition's values, then the keys of the user the page starts beyond.
fn bind_page<'q, O>(
    query: AnyQueryAs<'q, O>,
    agency_id: i64,
    condition: &'q Condition,
    keys: Option<Vec<Key>>,
) -> AnyQueryAs<'q, O> {
    let mut query = query
        .persistent(!condition.planned_per_pattern)
        .bind(agency_id);
    for value in &condition.values {
        query = query.bind(value);
    }
    for key in keys.unwrap_or_default() {
        query = match key {
            Key::Text(text) => query.bind(text),
            Key::Number(number) => query.bind(number),
        };
    }
    query
}

/// How many rows of `table` meet `condition`; with `at_most`, counting stops there.
async fn count_matching(
    pool: &sqlx::AnyPool,
    agency_id: i64,
    table: &str,
    condition: &Condition,
    at_most: Option<i64>,
) -> sqlx::Result<i64> {
    let limit = at_most.map_or(String::new(), |n| format!(" LIMIT {n}"));
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {}{limit}) AS matches",
        condition.sql
    )))
    .persistent(!condition.planned_per_pattern)
    .bind(agency_id);
    for value in &condition.values {
        query = query.bind(value);
    }
    query.fetch_one(pool).await
}

/// How many users the agency has (with this status), from the counts the triggers of
/// migration 0045 keep.
async fn counted(
    pool: &sqlx::AnyPool,
    agency_id: i64,
    status: Option<PortalUserStatus>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(users), 0) AS BIGINT) FROM portal_user_counts \
         WHERE agency_id = $1 AND ($2 = '' OR status = $2)",
    )
    .bind(agency_id)
    .bind(status.map_or("", PortalUserStatus::as_str))
    .fetch_one(pool)
    .await
}

/// The rows of an export batch, in the list's order: the first `limit`, or the `limit`
/// after `after` (the last row of the batch before).
pub async fn rows<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    filter: &Filter,
    limit: i64,
    after: Option<&PortalUser>,
) -> sqlx::Result<Vec<PortalUser>> {
    page(
        db,
        agency_id,
        PageQuery {
            table: "portal_users",
            condition: &filter.condition(),
            sort: filter.sort,
            descending: filter.descending,
            cursor: after,
            limit,
            offset: 0,
            ids_first: false,
        },
    )
    .await
}

pub async fn get<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Option<PortalUser>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM portal_users WHERE agency_id = $1 AND id = $2"
    )))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// A user of the agency who sees no client outside `ids` (see [`Filter::within`]).
pub async fn get_within<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
    ids: &[i64],
) -> sqlx::Result<Option<PortalUser>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM portal_users WHERE agency_id = $1 AND id = $2 AND {}",
        within(ids)
    )))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The clients a user is linked to (none for an all-clients user).
pub async fn client_ids<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT client_id FROM portal_user_clients WHERE agency_id = $1 AND portal_user_id = $2 \
         ORDER BY client_id",
    )
    .bind(agency_id)
    .bind(id)
    .fetch_all(db)
    .await
}

/// Whether another portal user of the agency signs in with this email.
pub async fn email_taken<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    email: &str,
    except: Option<i64>,
) -> sqlx::Result<bool> {
    Ok(email_owner(db, agency_id, email, except).await?.is_some())
}

/// The user of the agency (other than `except`) who signs in with `email`.
pub async fn email_owner<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    email: &str,
    except: Option<i64>,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM portal_users WHERE agency_id = $1 AND email = $2 AND id <> $3",
    )
    .bind(agency_id)
    .bind(crate::email::normalize(email))
    .bind(except.unwrap_or(-1))
    .fetch_optional(db)
    .await
}

/// What an admin may change of a portal user.
#[derive(Debug)]
pub struct Changes<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub role_id: &'a str,
    pub all_clients: bool,
    pub restricted_access: bool,
    pub clients: &'a [i64],
}

/// Changes a user and replaces their client links; false when the agency has no such user.
/// Run it inside a transaction.
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn update(
    conn: &mut AnyConnection,
    agency_id: i64,
    id: i64,
    changes: &Changes<'_>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE portal_users SET email = $1, first_name = $2, last_name = $3, role_id = $4, \
         all_clients = $5, restricted_access = $6, updated_at = $7 WHERE agency_id = $8 AND id = $9",
    )
    .bind(crate::email::normalize(changes.email))
    .bind(changes.first_name.trim())
    .bind(changes.last_name.trim())
    .bind(changes.role_id)
    .bind(Flag(changes.all_clients))
    .bind(Flag(changes.restricted_access))
    .bind(Timestamp::now())
    .bind(agency_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    // Worksite narrowing survives for clients the user keeps.
    let kept = client_ids(&mut *conn, agency_id, id).await?;
    for gone in kept.iter().filter(|c| !changes.clients.contains(c)) {
        sqlx::query(
            "DELETE FROM portal_user_clients WHERE agency_id = $1 AND portal_user_id = $2 \
             AND client_id = $3",
        )
        .bind(agency_id)
        .bind(id)
        .bind(gone)
        .execute(&mut *conn)
        .await?;
    }
    for added in changes.clients.iter().filter(|c| !kept.contains(c)) {
        sqlx::query(
            "INSERT INTO portal_user_clients (agency_id, portal_user_id, client_id) \
             VALUES ($1, $2, $3)",
        )
        .bind(agency_id)
        .bind(id)
        .bind(added)
        .execute(&mut *conn)
        .await?;
    }
    refresh_list_columns(conn, agency_id, id).await?;
    Ok(true)
}

/// Recomputes what the Company column shows after a user's links changed (the search text
/// follows by trigger).
async fn refresh_list_columns(
    conn: &mut AnyConnection,
    agency_id: i64,
    id: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE portal_users SET client_count = (SELECT COUNT(*) FROM portal_user_clients l \
         WHERE l.portal_user_id = portal_users.id) WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE portal_users SET company = CASE \
           WHEN all_clients <> 0 THEN 'All clients' \
           WHEN client_count = 1 THEN (SELECT c.name FROM portal_user_clients l \
             JOIN clients c ON c.id = l.client_id WHERE l.portal_user_id = portal_users.id) \
           WHEN client_count > 1 THEN CAST(client_count AS TEXT) || ' clients' \
           ELSE '' END WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes users and everything that is only theirs (links, sessions, sign-in links,
/// recovery codes); returns how many users went. Timesheets they decided and requests they
/// filed stay, without the name. Run it inside a transaction.
#[tracing::instrument(skip_all, fields(agency = agency_id))]
pub async fn delete(conn: &mut AnyConnection, agency_id: i64, ids: &[i64]) -> sqlx::Result<u64> {
    let mut deleted = 0;
    for id in ids {
        for sql in [
            "DELETE FROM portal_user_clients WHERE agency_id = $1 AND portal_user_id = $2",
            "DELETE FROM sessions WHERE agency_id = $1 AND user_kind = 'portal' AND user_id = $2",
            "DELETE FROM tokens WHERE agency_id = $1 AND user_kind = 'portal' AND user_id = $2",
            "DELETE FROM mfa_recovery_codes WHERE agency_id = $1 AND user_kind = 'portal' \
             AND user_id = $2",
            "UPDATE timesheets SET decided_by = NULL WHERE agency_id = $1 AND decided_by = $2",
            "UPDATE work_requests SET portal_user_id = NULL WHERE agency_id = $1 \
             AND portal_user_id = $2",
        ] {
            sqlx::query(sql)
                .bind(agency_id)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        deleted += sqlx::query("DELETE FROM portal_users WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}

/// The worksites a portal user is limited to, across their clients (none when they see
/// whole clients).
pub async fn worksite_ids<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    portal_user_id: i64,
) -> sqlx::Result<Vec<i64>> {
    let rows: Vec<(Option<i64>,)> = sqlx::query_as(
        "SELECT worksite_id FROM portal_user_clients WHERE agency_id = $1 \
         AND portal_user_id = $2",
    )
    .bind(agency_id)
    .bind(portal_user_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().filter_map(|(id,)| id).collect())
}

/// How many portal users were invited before `before` and have not accepted yet.
pub async fn invited_before<'e>(
    db: impl AnyExecutor<'e>,
    agency_id: i64,
    before: Timestamp,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM portal_users WHERE agency_id = $1 AND status = 'invited' \
         AND created_at < $2",
    )
    .bind(agency_id)
    .bind(before)
    .fetch_one(db)
    .await
}
