//! What may be done to portal users and how, shared by the manage pages, the JSON API and the
//! CSV import: checking input against the agency's role set, creating (invitation or manual),
//! changing, resetting passwords, deactivating, resending invitations and deleting — each
//! audited in the transaction that does it.

pub mod export;
pub mod import;
pub mod pages;

use minijinja::context;
use serde::{Deserialize, Serialize};

use crate::agency::Agency;
use crate::auth::password::{Issued, issue_link, send_reset};
use crate::auth::{passwords, throttle};
use crate::db::accounts::{self, AccountKind};
use crate::db::audit::{self, Actor, Target};
use crate::db::portal_users::{self, Changes, NewPortalUser, PortalUser, PortalUserStatus};
use crate::db::tokens::Purpose;
use crate::db::{Timestamp, clients, is_unique_violation, rate_limits};
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::mail::{self, Email, Queued};
use crate::notifications;
use crate::plugins::{Permission, Role, RoleScope};
use crate::state::AppState;

/// Invitations one user may be sent again per hour.
pub const RESENDS_PER_HOUR: i64 = 3;

/// The fields of a portal user that an admin sets, on forms and in JSON.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PortalUserInput {
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    /// A role id from the agency's role set.
    #[serde(default)]
    pub role: String,
    /// The one client of a single-client role.
    #[serde(default)]
    pub company: Option<i64>,
    /// For a many-client role: every client of the agency, now and later.
    #[serde(default)]
    pub all_clients: bool,
    /// For a many-client role without `all_clients`: the chosen clients.
    #[serde(default)]
    pub clients: Vec<i64>,
    /// Hides the clients' portal settings from the user.
    #[serde(default)]
    pub restricted_access: bool,
}

/// How a new user gets their password.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CreateMode {
    /// An email with a single-use link to choose a password.
    #[default]
    Invite,
    /// The admin sets the password (typed or generated).
    Manual,
}

/// A new user: the common fields plus how they start.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NewUserInput {
    #[serde(flatten)]
    pub user: PortalUserInput,
    #[serde(default)]
    pub mode: CreateMode,
    /// Manual creation: the password the admin typed or the generated one.
    #[serde(default)]
    pub password: String,
    /// Manual creation: replace the password at first sign-in (on by default).
    #[serde(default = "yes")]
    pub force_change: bool,
    /// Manual creation: email the user a link to choose their password.
    #[serde(default)]
    pub send_welcome: bool,
    /// Manual creation: the account may sign in at once (on by default).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl Default for NewUserInput {
    fn default() -> Self {
        Self {
            user: PortalUserInput::default(),
            mode: CreateMode::Invite,
            password: String::new(),
            force_change: true,
            send_welcome: false,
            active: true,
        }
    }
}

/// Who is giving a portal user access, and so which roles they may hand out. Agency admins
/// stand for the agency and may create any role, multi-client ("Partner") roles included.
/// A portal user who manages their company's users may hand out a multi-client role only
/// when their own role spans several clients ("only Partners add Partners"), and only over
/// the clients they see themselves.
#[derive(Debug, Clone)]
pub struct Granter {
    pub may_span_clients: bool,
    /// The clients the granter may give access to; `None` for every client of the agency.
    pub within: Option<Vec<i64>>,
}

impl Granter {
    pub fn agency_admin() -> Self {
        Self {
            may_span_clients: true,
            within: None,
        }
    }

    /// A portal user with `role` who sees `client_ids`; `None` when the role does not manage
    /// users at all.
    pub fn portal_user(role: &Role, client_ids: &[i64]) -> Option<Self> {
        role.grants(Permission::ManageClientUsers).then(|| Self {
            may_span_clients: matches!(role.scope, RoleScope::ManyClients(_)),
            within: Some(client_ids.to_vec()),
        })
    }
}

/// Input that passed every check, resolved against the role set and the client list.
#[derive(Debug, Clone)]
pub struct Checked {
    pub role: Role,
    pub all_clients: bool,
    pub client_ids: Vec<i64>,
    /// The client's name for a one-client user, for emails.
    pub client_name: Option<String>,
    /// The email belongs to a user the granter may not see (another client's contact): the
    /// granter is answered as if all went well, and the agency's audit log says what happened.
    pub email_elsewhere: bool,
}

/// The problems of a user's own fields (names and email) that need no database: the first
/// part of [`check`].
pub fn field_problems(input: &PortalUserInput, names_required: bool) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if names_required {
        errors.required("first_name", "first name", &input.first_name, 100);
        errors.required("last_name", "last name", &input.last_name, 100);
    } else {
        errors.at_most("first_name", "first name", &input.first_name, 100);
        errors.at_most("last_name", "last name", &input.last_name, 100);
    }
    if input.email.trim().is_empty() {
        errors.add("email", "Enter the email address they will sign in with.");
    }
    errors.optional_email("email", &input.email);
    errors
}

/// Checks a user's fields; `except` is the user being changed. Errors are keyed by field.
pub async fn check(
    state: &AppState,
    agency: &Agency,
    granter: &Granter,
    input: &PortalUserInput,
    names_required: bool,
    except: Option<i64>,
) -> AppResult<Result<Checked, FieldErrors>> {
    let pool = &state.db().pool;
    let mut errors = field_problems(input, names_required);
    let mut email_elsewhere = false;
    if errors.get("email").is_none()
        && let Some(owner) =
            portal_users::email_owner(pool, agency.id, &input.email, except).await?
    {
        // A portal user granting access learns of a clash only with a user they can see;
        // whether an address is in use at another client is not theirs to know.
        let visible = match &granter.within {
            None => true,
            Some(ids) => portal_users::get_within(pool, agency.id, owner, ids)
                .await?
                .is_some(),
        };
        if visible {
            errors.add(
                "email",
                "Another portal user already signs in with this email.",
            );
        } else {
            email_elsewhere = true;
        }
    }
    let role = state
        .plugins()
        .agency(&agency.slug)
        .and_then(|set| set.role(&input.role).cloned());
    let Some(role) = role else {
        errors.add("role", "Choose a role.");
        return Ok(Err(errors));
    };
    let spans = matches!(role.scope, RoleScope::ManyClients(_));
    if spans && !granter.may_span_clients {
        errors.add(
            "role",
            format!(
                "Only users who span several clients may give someone the {} role.",
                role.name
            ),
        );
    }
    let allowed = |id: &i64| granter.within.as_ref().is_none_or(|w| w.contains(id));
    let clients = clients::list(pool, agency.id).await?;
    let known = |id: &i64| clients.iter().any(|c| c.id == *id);
    let (all_clients, client_ids) = if spans {
        if input.all_clients && granter.within.is_some() {
            errors.add("clients", "Choose the clients they may see.");
        }
        if !input.all_clients && input.clients.is_empty() {
            errors.add(
                "clients",
                "Choose at least one client, or tick “All clients”.",
            );
        }
        // Both would be ambiguous, and reading it as "all" would show more than was chosen.
        if input.all_clients && !input.clients.is_empty() {
            errors.add(
                "clients",
                "Untick “All clients” to give access to the chosen clients only.",
            );
        }
        let mut ids = input.clients.clone();
        ids.sort_unstable();
        ids.dedup();
        if ids.iter().any(|id| !known(id) || !allowed(id)) {
            errors.add("clients", "Choose clients from the list.");
        }
        if input.all_clients {
            (true, Vec::new())
        } else {
            (false, ids)
        }
    } else {
        let chosen = input.company.or_else(|| input.clients.first().copied());
        match chosen {
            None => errors.add("company", "Choose the company this user belongs to."),
            Some(id) if !known(&id) || !allowed(&id) => {
                errors.add("company", "Choose a company from the list.");
            }
            Some(_) => {}
        }
        (false, chosen.into_iter().collect())
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let client_name = match client_ids.as_slice() {
        [one] if !all_clients => clients
            .iter()
            .find(|c| c.id == *one)
            .map(|c| c.name.clone()),
        _ => None,
    };
    Ok(Ok(Checked {
        role,
        all_clients,
        client_ids,
        client_name,
        email_elsewhere,
    }))
}

/// Why a password an admin chose is refused, if it is.
async fn password_problem(
    state: &AppState,
    agency: &Agency,
    input: &PortalUserInput,
    client_ids: &[i64],
    password: &str,
) -> AppResult<Option<String>> {
    if password.is_empty() {
        return Ok(Some(
            "Enter a password, or use the generated passphrase.".into(),
        ));
    }
    let names = clients::list(&state.db().pool, agency.id).await?;
    let mut words = vec![
        input.email.clone(),
        input.first_name.clone(),
        input.last_name.clone(),
        agency.config.display_name.clone(),
    ];
    words.extend(
        names
            .into_iter()
            .filter(|c| client_ids.contains(&c.id))
            .map(|c| c.name),
    );
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    // The settings page's value over the configuration file's: the policy in force.
    let min = crate::auth::password::min_length(state, agency).await?;
    Ok(passwords::policy_problem(password, min, &words))
}

/// What creating a user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    pub id: i64,
    /// The invitation or welcome email, if one was due.
    pub email: Option<Queued>,
}

/// Creates a user by invitation or with a password the admin set, and sends the invitation
/// or (when asked) the welcome email, all in one transaction.
pub async fn create(
    state: &AppState,
    agency: &Agency,
    granter: &Granter,
    input: &NewUserInput,
    actor: Actor<'_>,
) -> AppResult<Created> {
    let manual = input.mode == CreateMode::Manual;
    let user = &input.user;
    let mut checked = check(state, agency, granter, user, manual, None).await?;
    if manual {
        // The password is checked even when other fields are wrong: every problem at once.
        let client_ids: Vec<i64> = match &checked {
            Ok(ok) => ok.client_ids.clone(),
            Err(_) => user
                .company
                .into_iter()
                .chain(user.clients.clone())
                .collect(),
        };
        if let Some(problem) =
            password_problem(state, agency, user, &client_ids, &input.password).await?
        {
            match &mut checked {
                Ok(_) => {
                    let mut errors = FieldErrors::default();
                    errors.add("password", problem);
                    checked = Err(errors);
                }
                Err(errors) => errors.add("password", problem),
            }
        }
    }
    let checked = checked.map_err(AppError::Invalid)?;
    let hash = if manual {
        Some(passwords::hash(&input.password).await?)
    } else {
        None
    };
    let status = match (manual, input.active) {
        (false, _) => PortalUserStatus::Invited,
        (true, true) => PortalUserStatus::Active,
        (true, false) => PortalUserStatus::Deactivated,
    };
    let links: Vec<(i64, Option<i64>)> = checked.client_ids.iter().map(|&c| (c, None)).collect();
    let new = NewPortalUser {
        email: &user.email,
        first_name: &user.first_name,
        last_name: &user.last_name,
        role_id: &checked.role.id,
        all_clients: checked.all_clients,
        restricted_access: user.restricted_access,
        status,
        password_hash: hash.as_deref(),
        must_change_password: manual && input.force_change,
        clients: &links,
    };
    let pool = &state.db().pool;
    let mut tx = crate::db::begin_write(pool).await?;
    if checked.email_elsewhere {
        record(
            &mut tx,
            agency,
            &actor,
            "portal user not created",
            0,
            &new_email(user),
            "the email belongs to a portal user of another client; the person asking was \
             told it went through",
        )
        .await?;
        // The answer a real invitation or welcome email would have had.
        let queued = if mail::portal_enabled(&mut tx, agency).await? {
            Queued::Yes(0)
        } else {
            Queued::PortalDisabled
        };
        tx.commit().await?;
        return Ok(Created {
            id: 0,
            email: (!manual || input.send_welcome).then_some(queued),
        });
    }
    let id = match portal_users::create(&mut tx, agency.id, &new).await {
        Ok(id) => id,
        Err(err) if is_unique_violation(&err) => return Err(email_taken()),
        Err(err) => return Err(err.into()),
    };
    // An invitation, or for a user created with a password the welcome email: a link to
    // choose their own password (never the password itself).
    let template = match (manual, input.send_welcome) {
        (false, _) => Some("invite"),
        (true, true) => Some("welcome"),
        (true, false) => None,
    };
    let (email, link) = match template {
        Some(template) => {
            let client = checked.client_name.as_deref();
            let (queued, link) =
                send_link(state, &mut tx, agency, id, client, &actor, template).await?;
            (Some(queued), link)
        }
        None => (None, None),
    };
    let action = if manual {
        "portal user created"
    } else {
        "portal user invited"
    };
    let detail = format!("role {}", checked.role.id);
    record(
        &mut tx,
        agency,
        &actor,
        action,
        id,
        &new_email(user),
        &detail,
    )
    .await?;
    tx.commit().await?;
    let client = match (checked.client_ids.as_slice(), &checked.client_name) {
        ([one], Some(name)) => Some((*one, name.as_str())),
        _ => None,
    };
    let subject = (
        id,
        user.first_name.as_str(),
        user.last_name.as_str(),
        new_email(user),
    );
    let event = if manual {
        let login_url = format!(
            "{}/{}/portal/login",
            state.settings().server.public_url.trim_end_matches('/'),
            agency.slug
        );
        Some(account_event(
            "portal-user-created",
            &actor,
            subject,
            client,
            vec![("login-url", login_url)],
        ))
    } else {
        link.map(|link| {
            account_event(
                "portal-user-invited",
                &actor,
                subject,
                client,
                link.fields("invite-url"),
            )
        })
    };
    if let Some(event) = event {
        notifications::raise(state, agency, &event).await;
    }
    Ok(Created { id, email })
}

/// Raises account event `kind` about a stored user (and their one client, if so) with
/// `fields`, for the notification plugins; after the change is committed.
async fn raise(
    state: &AppState,
    agency: &Agency,
    kind: &str,
    actor: &Actor<'_>,
    (user, client): (&PortalUser, Option<&(i64, String)>),
    fields: Vec<(&str, String)>,
) {
    let subject = (
        user.id,
        user.first_name.as_str(),
        user.last_name.as_str(),
        user.email.clone(),
    );
    let client = client.map(|(id, name)| (*id, name.as_str()));
    let event = account_event(kind, actor, subject, client, fields);
    notifications::raise(state, agency, &event).await;
}

/// An account event about a portal user (`id`, first and last name, email) of at most one
/// client, for the notification plugins.
fn account_event(
    kind: &str,
    actor: &Actor<'_>,
    (id, first, last, email): (i64, &str, &str, String),
    client: Option<(i64, &str)>,
    fields: Vec<(&str, String)>,
) -> crate::plugins::NotificationEvent {
    let name = format!("{first} {last}");
    notifications::account(
        kind,
        actor,
        notifications::subject(AccountKind::Portal, id, &name, &email),
        client.map(|(id, name)| crate::plugins::Named {
            id: id.to_string(),
            name: name.to_owned(),
        }),
        fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    )
}

fn new_email(user: &PortalUserInput) -> String {
    crate::email::normalize(&user.email)
}

fn email_taken() -> AppError {
    let mut errors = FieldErrors::default();
    errors.add(
        "email",
        "Another portal user already signs in with this email.",
    );
    AppError::Invalid(errors)
}

/// Sends `template` (`invite`, or `welcome` to a user created with a password) with a
/// single-use link to choose a password, valid `security.invite_hours`; the link comes back
/// when one was issued and the email queued (not when the portal is off).
async fn send_link(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    agency: &Agency,
    id: i64,
    client_name: Option<&str>,
    actor: &Actor<'_>,
    template: &str,
) -> AppResult<(Queued, Option<Issued>)> {
    let account = accounts::by_id(&mut *conn, AccountKind::Portal, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if clients::all_closed(&clients::of_portal_user(&mut *conn, agency.id, id).await?) {
        return Ok((Queued::ClientPortalDisabled, None));
    }
    let hours = state.settings().security.invite_hours;
    let url = issue_link(
        state,
        conn,
        agency,
        AccountKind::Portal,
        &account,
        Purpose::Invite,
        hours * 3600,
    )
    .await?;
    let expires_at = Timestamp::now().plus_seconds(hours * 3600).to_string();
    let vars = context! {
        name => account.name.trim(), invite_url => &url, expires_at => &expires_at,
        subject => context! { name => account.name.trim(), email => &account.email },
        actor => context! { name => actor.label },
        client => context! { name => client_name },
    };
    let queued = mail::enqueue(
        conn,
        agency,
        Email {
            template,
            to: &account.email,
            vars,
        },
    )
    .await?;
    let issued = matches!(queued, Queued::Yes(_)).then_some(Issued { url, expires_at });
    Ok((queued, issued))
}

async fn record(
    conn: &mut sqlx::AnyConnection,
    agency: &Agency,
    actor: &Actor<'_>,
    action: &str,
    id: i64,
    email: &str,
    detail: &str,
) -> AppResult<()> {
    audit::record(
        &mut *conn,
        agency.id,
        *actor,
        action,
        target(id, email),
        detail,
    )
    .await?;
    Ok(())
}

/// A portal user as the audit log names them.
fn target(id: i64, email: &str) -> Target<'_> {
    Target {
        kind: Some("portal user"),
        id: Some(id),
        label: Some(email),
    }
}

/// Ends every session of a user of the agency (a lost phone, a shared computer); how many.
pub async fn sign_out_everywhere(
    state: &AppState,
    agency: &Agency,
    id: i64,
    actor: Actor<'_>,
) -> AppResult<u64> {
    let user = find(state, agency, id).await?;
    let target = target(id, &user.email);
    crate::auth::account::end_all_sessions(state, agency, AccountKind::Portal, target, actor).await
}

/// A user of the agency, or not found (also when the id belongs to another agency).
pub async fn find(state: &AppState, agency: &Agency, id: i64) -> AppResult<PortalUser> {
    portal_users::get(&state.db().pool, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A user the granter may manage: for a portal user, one who sees no client beyond the
/// granter's own; otherwise not found (also when the id belongs to another agency).
pub async fn find_for(
    state: &AppState,
    agency: &Agency,
    granter: &Granter,
    id: i64,
) -> AppResult<PortalUser> {
    match &granter.within {
        None => find(state, agency, id).await,
        Some(ids) => portal_users::get_within(&state.db().pool, agency.id, id, ids)
            .await?
            .ok_or(AppError::NotFound),
    }
}

/// Changes a user's name, email, role, clients and restricted access.
pub async fn change(
    state: &AppState,
    agency: &Agency,
    granter: &Granter,
    id: i64,
    input: &PortalUserInput,
    actor: Actor<'_>,
) -> AppResult<()> {
    let before = find(state, agency, id).await?;
    let clients_before = portal_users::client_ids(&state.db().pool, agency.id, id).await?;
    let checked = check(state, agency, granter, input, false, Some(id))
        .await?
        .map_err(AppError::Invalid)?;
    let changes = Changes {
        email: &input.email,
        first_name: &input.first_name,
        last_name: &input.last_name,
        role_id: &checked.role.id,
        all_clients: checked.all_clients,
        restricted_access: input.restricted_access,
        clients: &checked.client_ids,
    };
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    match portal_users::update(&mut tx, agency.id, id, &changes).await {
        Ok(true) => {}
        Ok(false) => return Err(AppError::NotFound),
        Err(err) if is_unique_violation(&err) => return Err(email_taken()),
        Err(err) => return Err(err.into()),
    }
    // Links were sent to the old address, for the old access: none outlives a change of either.
    let mut clients_after = checked.client_ids.clone();
    clients_after.sort_unstable();
    let mut clients_before = clients_before;
    clients_before.sort_unstable();
    if before.email != new_email(input)
        || before.role_id != checked.role.id
        || before.all_clients != checked.all_clients
        || before.restricted_access != input.restricted_access
        || clients_before != clients_after
    {
        crate::db::tokens::revoke_all(&mut *tx, agency.id, AccountKind::Portal, id).await?;
    }
    let detail = if before.email == new_email(input) {
        format!("role {}", checked.role.id)
    } else {
        format!("email was {}; role {}", before.email, checked.role.id)
    };
    record(
        &mut tx,
        agency,
        &actor,
        "portal user changed",
        id,
        &new_email(input),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deactivates (ending every session of the user at once) or reactivates a user. A user who
/// never chose a password goes back to "invited".
pub async fn set_active(
    state: &AppState,
    agency: &Agency,
    id: i64,
    active: bool,
    actor: Actor<'_>,
) -> AppResult<()> {
    let user = find(state, agency, id).await?;
    let account = accounts::by_id(&state.db().pool, AccountKind::Portal, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let status = match (active, account.password_hash.is_some()) {
        (false, _) => PortalUserStatus::Deactivated,
        (true, true) => PortalUserStatus::Active,
        (true, false) => PortalUserStatus::Invited,
    };
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    accounts::set_status(
        &mut *tx,
        AccountKind::Portal,
        agency.id,
        id,
        status.as_str(),
    )
    .await?;
    if !active {
        accounts::revoke_access(&mut tx, agency.id, AccountKind::Portal, id, None).await?;
    }
    let action = if active {
        "portal user reactivated"
    } else {
        "portal user deactivated"
    };
    record(&mut tx, agency, &actor, action, id, &user.email, "").await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a password an admin chose (typed or generated): the user must replace it at their
/// next sign-in, and their sessions end.
pub async fn set_password(
    state: &AppState,
    agency: &Agency,
    id: i64,
    password: &str,
    actor: Actor<'_>,
) -> AppResult<()> {
    let user = find(state, agency, id).await?;
    let clients = portal_users::client_ids(&state.db().pool, agency.id, id).await?;
    let input = PortalUserInput {
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email: user.email.clone(),
        ..PortalUserInput::default()
    };
    if let Some(problem) = password_problem(state, agency, &input, &clients, password).await? {
        let mut errors = FieldErrors::default();
        errors.add("password", problem);
        return Err(AppError::Invalid(errors));
    }
    let hash = passwords::hash(password).await?;
    let mut tx = crate::db::begin_write(&state.db().pool).await?;
    accounts::set_password(&mut *tx, AccountKind::Portal, agency.id, id, &hash, true).await?;
    accounts::revoke_access(&mut tx, agency.id, AccountKind::Portal, id, None).await?;
    record(
        &mut tx,
        agency,
        &actor,
        "portal user password set",
        id,
        &user.email,
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether an email that is limited per hour went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Queued(Queued),
    /// Too many in the last hour; nothing was sent.
    Limited,
    /// Only invited users (who never chose a password) get an invitation.
    NotInvited,
}

/// Emails the user a single-use link to choose a new password.
pub async fn send_reset_link(
    state: &AppState,
    agency: &Agency,
    id: i64,
    actor: Actor<'_>,
) -> AppResult<Sent> {
    let user = find(state, agency, id).await?;
    let pool = &state.db().pool;
    if clients::all_closed(&clients::of_portal_user(pool, agency.id, id).await?) {
        return Ok(Sent::Queued(Queued::ClientPortalDisabled));
    }
    if !throttle::allow_email(pool, agency.id, &user.email, &state.settings().security).await? {
        return Ok(Sent::Limited);
    }
    let account = accounts::by_id(pool, AccountKind::Portal, agency.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = crate::db::begin_write(pool).await?;
    let (queued, link) = send_reset(state, &mut tx, agency, AccountKind::Portal, &account).await?;
    record(
        &mut tx,
        agency,
        &actor,
        "portal user reset link sent",
        id,
        &user.email,
        "",
    )
    .await?;
    tx.commit().await?;
    if let Some(link) = link {
        let client = one_client(state, agency, &user).await?;
        let fields = link.fields("reset-url");
        let about = (&user, client.as_ref());
        raise(state, agency, "password-reset", &actor, about, fields).await;
    }
    Ok(Sent::Queued(queued))
}

/// The one client of a user linked to exactly one, with its name.
async fn one_client(
    state: &AppState,
    agency: &Agency,
    user: &PortalUser,
) -> AppResult<Option<(i64, String)>> {
    let pool = &state.db().pool;
    Ok(
        match portal_users::client_ids(pool, agency.id, user.id)
            .await?
            .as_slice()
        {
            [one] if !user.all_clients => clients::get(pool, agency.id, *one)
                .await?
                .map(|c| (c.id, c.name)),
            _ => None,
        },
    )
}

/// Sends an invited user a fresh invitation (the earlier link stops working), at most
/// [`RESENDS_PER_HOUR`] times an hour per user.
pub async fn resend_invitation(
    state: &AppState,
    agency: &Agency,
    id: i64,
    actor: Actor<'_>,
) -> AppResult<Sent> {
    let user = find(state, agency, id).await?;
    if user.status != PortalUserStatus::Invited.as_str() {
        return Ok(Sent::NotInvited);
    }
    let pool = &state.db().pool;
    let key = rate_limits::invitation_resends(agency.id, id);
    let count = rate_limits::count(pool, &key, Timestamp::now(), 3600).await?;
    if count > RESENDS_PER_HOUR {
        return Ok(Sent::Limited);
    }
    let client = one_client(state, agency, &user).await?;
    let mut tx = crate::db::begin_write(pool).await?;
    let client_name = client.as_ref().map(|(_, name)| name.as_str());
    let (queued, link) =
        send_link(state, &mut tx, agency, id, client_name, &actor, "invite").await?;
    record(
        &mut tx,
        agency,
        &actor,
        "portal user invitation resent",
        id,
        &user.email,
        "",
    )
    .await?;
    tx.commit().await?;
    if let Some(link) = link {
        let fields = link.fields("invite-url");
        let about = (&user, client.as_ref());
        raise(state, agency, "portal-user-invited", &actor, about, fields).await;
    }
    Ok(Sent::Queued(queued))
}

/// Deletes users for good (ids of other agencies are ignored); returns how many went.
pub async fn delete(
    state: &AppState,
    agency: &Agency,
    ids: &[i64],
    actor: Actor<'_>,
) -> AppResult<u64> {
    let pool = &state.db().pool;
    let mut tx = crate::db::begin_write(pool).await?;
    let mut found = Vec::new();
    for &id in ids {
        if let Some(user) = portal_users::get(&mut *tx, agency.id, id).await? {
            found.push(user);
        }
    }
    let ids: Vec<i64> = found.iter().map(|u| u.id).collect();
    let deleted = portal_users::delete(&mut tx, agency.id, &ids).await?;
    for user in &found {
        record(
            &mut tx,
            agency,
            &actor,
            "portal user deleted",
            user.id,
            &user.email,
            "",
        )
        .await?;
    }
    tx.commit().await?;
    Ok(deleted)
}
