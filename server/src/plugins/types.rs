//! What the rest of the server sees of plugins: plain Rust types, with no WebAssembly in them.
//! `convert.rs` maps them to and from the generated bindings.

use std::fmt;

/// The host's fixed permission vocabulary (the WIT `permission` enum). A portal page or API
/// route checks one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    ViewTimesheets,
    ApproveTimesheets,
    ViewReports,
    ViewOnSite,
    ViewInvoices,
    ViewDocuments,
    CreateWorkRequests,
    ViewWorkRequests,
    ViewJobs,
    ViewQuotes,
    ViewAssets,
    ManageClientUsers,
    PortalSettings,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Self::ViewTimesheets,
        Self::ApproveTimesheets,
        Self::ViewReports,
        Self::ViewOnSite,
        Self::ViewInvoices,
        Self::ViewDocuments,
        Self::CreateWorkRequests,
        Self::ViewWorkRequests,
        Self::ViewJobs,
        Self::ViewQuotes,
        Self::ViewAssets,
        Self::ManageClientUsers,
        Self::PortalSettings,
    ];

    /// The WIT spelling, as configuration, logs and the CLI show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ViewTimesheets => "view-timesheets",
            Self::ApproveTimesheets => "approve-timesheets",
            Self::ViewReports => "view-reports",
            Self::ViewOnSite => "view-on-site",
            Self::ViewInvoices => "view-invoices",
            Self::ViewDocuments => "view-documents",
            Self::CreateWorkRequests => "create-work-requests",
            Self::ViewWorkRequests => "view-work-requests",
            Self::ViewJobs => "view-jobs",
            Self::ViewQuotes => "view-quotes",
            Self::ViewAssets => "view-assets",
            Self::ManageClientUsers => "manage-client-users",
            Self::PortalSettings => "portal-settings",
        }
    }

    /// What the permission lets a person do, in their words.
    pub fn label(self) -> &'static str {
        match self {
            Self::ViewTimesheets => "See timesheets",
            Self::ApproveTimesheets => "Approve or reject timesheets",
            Self::ViewReports => "See reports",
            Self::ViewOnSite => "See who is on site",
            Self::ViewInvoices => "See invoices",
            Self::ViewDocuments => "See documents",
            Self::CreateWorkRequests => "Send work requests",
            Self::ViewWorkRequests => "Follow work requests",
            Self::ViewJobs => "See jobs",
            Self::ViewQuotes => "See quotes",
            Self::ViewAssets => "See assets",
            Self::ManageClientUsers => "Manage your company's portal users",
            Self::PortalSettings => "Change portal settings",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which clients a many-client role spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientSet {
    All,
    Listed(Vec<String>),
}

/// How many clients a holder of a role sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleScope {
    SingleClient,
    ManyClients(ClientSet),
}

/// One role an agency offers its portal users, as the role-set plugin listed it (validated:
/// id well formed and unique, permissions deduplicated, dynamic permissions a subset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    pub permissions: Vec<Permission>,
    /// Permissions the host confirms with the plugin's `authorize` per target.
    pub dynamic_permissions: Vec<Permission>,
    pub scope: RoleScope,
}

impl Role {
    /// Whether the role has the permission at all (static check).
    pub fn grants(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// Whether each exercise of the permission needs the plugin's `authorize`.
    pub fn is_dynamic(&self, permission: Permission) -> bool {
        self.dynamic_permissions.contains(&permission)
    }
}

/// The portal user asking for an authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalUserRef {
    pub id: String,
    pub email: String,
    pub worksite_ids: Vec<String>,
}

/// What a dynamic permission is exercised on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: String,
    pub id: Option<String>,
    pub attributes: Vec<(String, String)>,
}

/// One question for a role-set plugin's `authorize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub role: String,
    pub permission: Permission,
    pub user: PortalUserRef,
    pub client_id: String,
    pub target: Target,
}

/// The answer to an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Deny with a reason for the portal user.
    Deny(String),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow)
    }
}

/// Who a person taking part in an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonKind {
    Staff,
    PortalUser,
    System,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub kind: PersonKind,
    pub id: String,
    pub name: String,
    pub email: String,
}

impl Person {
    /// Portal itself, for events raised by scheduled jobs or the back-office API.
    pub fn system() -> Self {
        Self {
            kind: PersonKind::System,
            id: String::new(),
            name: "Portal".into(),
            email: String::new(),
        }
    }
}

/// An id and a name: a client or a worksite in an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// Event fields that are single-use secrets (an invitation or password reset link): a
/// notification that carries one goes to the client contact alone or not at all, templates see
/// them only when a notification passes them on, and a kept failure shows them redacted.
pub const SECRET_FIELDS: &[&str] = &["invite-url", "reset-url"];

/// Something that happened that someone may need to hear about. The agency and the plugin's
/// settings are filled in by the host from the agency's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationEvent {
    /// `work-request-created`, `timesheet-approved`, … (see `notifications.wit`).
    pub kind: String,
    pub client: Option<Named>,
    pub worksite: Option<Named>,
    pub actor: Person,
    pub subject: Option<Person>,
    pub fields: Vec<(String, String)>,
}

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    StaffEmail(String),
    StaffRole(String),
    ClientContact,
    Email(String),
}

/// One message a notification-rules plugin asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The plugin that asked, for the log and the outbox.
    pub plugin: String,
    pub recipients: Vec<Recipient>,
    pub template: String,
    pub variables: Vec<(String, String)>,
}

/// A file format an export-format plugin writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFormat {
    pub id: String,
    pub label: String,
    pub mime_type: String,
    pub extension: String,
    /// The plugin that writes it.
    pub plugin: String,
}

/// A column's type; fixes the canonical text form of its cells (see `formats.wit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Integer,
    /// Fixed point with this many decimal places (0 to 18); cells are the integer count of
    /// 10^-scale units.
    Decimal(u8),
    Date,
    Datetime,
    Boolean,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub label: String,
    pub kind: ColumnType,
}

impl Column {
    pub fn new(name: &str, label: &str, kind: ColumnType) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            kind,
        }
    }
}

/// Rows packed as the WIT `row-batch`: every cell's bytes concatenated, the end offset of
/// each cell, and a null bitmap. Handing a plugin three buffers instead of a list of lists of
/// strings is what keeps a million-row export cheap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowBatch {
    pub data: Vec<u8>,
    pub ends: Vec<u32>,
    pub nulls: Vec<u8>,
}

impl RowBatch {
    /// An empty batch with room for `rows` rows of `columns` cells of about `cell_bytes`.
    pub fn with_capacity(rows: usize, columns: usize, cell_bytes: usize) -> Self {
        Self {
            data: Vec::with_capacity(rows * columns * cell_bytes),
            ends: Vec::with_capacity(rows * columns),
            nulls: Vec::new(),
        }
    }

    /// Appends one cell, already in its column's canonical text form; `None` is null.
    /// Cells go in row-major order.
    pub fn push(&mut self, cell: Option<&str>) {
        let index = self.ends.len();
        match cell {
            Some(text) => self.data.extend_from_slice(text.as_bytes()),
            None => {
                if self.nulls.is_empty() {
                    self.nulls = vec![0; index / 8 + 1];
                }
                self.nulls.resize(index / 8 + 1, 0);
                self.nulls[index / 8] |= 1 << (index % 8);
            }
        }
        // Batches are capped far below 4 GiB by the callers; saturate rather than wrap.
        self.ends
            .push(u32::try_from(self.data.len()).unwrap_or(u32::MAX));
        if !self.nulls.is_empty() {
            self.nulls.resize(self.ends.len().div_ceil(8), 0);
        }
    }

    /// Number of cells (rows × columns).
    pub fn cells(&self) -> usize {
        self.ends.len()
    }

    /// The cells in the order they were pushed; `None` is null.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> {
        self.ends.iter().enumerate().map(|(index, &end)| {
            let null = self
                .nulls
                .get(index / 8)
                .is_some_and(|byte| byte & (1 << (index % 8)) != 0);
            let start = index
                .checked_sub(1)
                .and_then(|before| self.ends.get(before))
                .map_or(0, |&end| end as usize);
            let text = self.data.get(start..end as usize).unwrap_or_default();
            (!null).then(|| std::str::from_utf8(text).unwrap_or_default())
        })
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Empties the batch, keeping its buffers for the next rows.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
        self.nulls.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_reads_back_as_it_was_pushed() {
        let cells = [
            Some("Ann"),
            None,
            Some(""),
            Some("8.50"),
            None,
            Some("Ünïcode"),
        ];
        let mut batch = RowBatch::default();
        for cell in cells {
            batch.push(cell);
        }
        assert_eq!(batch.iter().collect::<Vec<_>>(), cells);
    }

    #[test]
    fn the_wit_example_packs_as_documented() {
        let mut batch = RowBatch::default();
        for cell in [
            Some("Ann"),
            Some("850"),
            Some("1"),
            Some("Bo"),
            None,
            Some("0"),
        ] {
            batch.push(cell);
        }
        assert_eq!(batch.data, b"Ann8501Bo0");
        assert_eq!(batch.ends, [3, 6, 7, 9, 9, 10]);
        assert_eq!(batch.nulls, [0x10]);
    }

    #[test]
    fn a_batch_without_nulls_has_an_empty_bitmap() {
        let mut batch = RowBatch::default();
        for _ in 0..20 {
            batch.push(Some("x"));
        }
        assert!(batch.nulls.is_empty());
        batch.push(None);
        assert_eq!(batch.nulls.len(), 3);
        assert_eq!(batch.nulls[2], 0x10);
    }

    #[test]
    fn permissions_round_trip_their_names() {
        for permission in Permission::ALL {
            assert_eq!(Permission::parse(permission.as_str()), Some(permission));
        }
        assert_eq!(Permission::parse("fly"), None);
    }
}
