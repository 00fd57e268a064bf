//! `portal demo seed`: two agencies that differ in theme and role set — a staffing agency
//! (`acme`) and a field-service business (`brightfix`) — with a few weeks of realistic data.
//! Running it again changes nothing. `--scale large` adds the data the portal is measured
//! with ([`large`]).

pub mod large;

use anyhow::Context;
use sqlx::AnyConnection;
use time::{Date, Duration, OffsetDateTime};

use crate::agency::Agency;
use crate::auth::passwords;
use crate::db::clients::{self, NewClient};
use crate::db::clock_events::{self, NewClockEvent};
use crate::db::documents::{self, NewDocument};
use crate::db::invoices::{self, NewInvoice, NewInvoiceLine};
use crate::db::jobs::{self, NewJob};
use crate::db::portal_users::{self, NewPortalUser, PortalUserStatus};
use crate::db::quotes::{self, NewQuote};
use crate::db::staff_users::{self, NewStaffUser, StaffRole};
use crate::db::timesheets::{self, NewTimesheet, TimesheetStatus};
use crate::db::work_requests::{self, NewUpdate, NewWorkRequest, Status};
use crate::db::workers::{self, NewWorker};
use crate::db::{Timestamp, is_unique_violation};
use crate::state::AppState;

/// Every demo account signs in with this password.
pub const DEMO_PASSWORD: &str = "lantern-harbour-orbit";

/// A client of a demo agency, its worksites and its portal users.
struct DemoClient {
    name: &'static str,
    email: &'static str,
    phone: &'static str,
    address: &'static str,
    worksites: &'static [(&'static str, &'static str)],
    /// first, last, email, role id, status
    users: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        PortalUserStatus,
    )],
}

struct DemoAgency {
    slug: &'static str,
    admin: (&'static str, &'static str),
    staff: (&'static str, &'static str),
    clients: &'static [DemoClient],
    /// A multi-client ("Partner") user: first, last, email, role id.
    partner: Option<(&'static str, &'static str, &'static str, &'static str)>,
    workers: &'static [(&'static str, &'static str)],
    field_service: bool,
    charge_rate_cents: i64,
    pay_rate_cents: i64,
}

const ACME: DemoAgency = DemoAgency {
    slug: "acme",
    admin: ("admin@acme-staffing.example", "Alex Morgan"),
    staff: ("recruiter@acme-staffing.example", "Jamie Patel"),
    clients: &[
        DemoClient {
            name: "Northwind Manufacturing",
            email: "operations@northwind.example",
            phone: "0113 496 0000",
            address: "12 Mill Lane, Leeds LS1 4AP",
            worksites: &[
                ("Leeds Plant", "12 Mill Lane, Leeds"),
                ("Bradford Warehouse", "3 Canal Road, Bradford"),
            ],
            users: &[
                (
                    "David",
                    "Thompson",
                    "david@northwind.example",
                    "customer-supervisor",
                    PortalUserStatus::Active,
                ),
                (
                    "Priya",
                    "Shah",
                    "priya@northwind.example",
                    "customer-limited",
                    PortalUserStatus::Active,
                ),
                (
                    "Owen",
                    "Hughes",
                    "owen@northwind.example",
                    "customer-time-only",
                    PortalUserStatus::Invited,
                ),
            ],
        },
        DemoClient {
            name: "Contoso Logistics",
            email: "accounts@contoso.example",
            phone: "01482 496 111",
            address: "Dock Street, Hull HU1 3AA",
            worksites: &[("Hull Depot", "Dock Street, Hull")],
            users: &[
                (
                    "Tom",
                    "Baker",
                    "tom@contoso.example",
                    "customer-invoices-only",
                    PortalUserStatus::Active,
                ),
                (
                    "Grace",
                    "Okafor",
                    "grace@contoso.example",
                    "customer-supervisor-timeclock",
                    PortalUserStatus::Deactivated,
                ),
            ],
        },
        DemoClient {
            name: "Fabrikam Foods",
            email: "hr@fabrikam.example",
            phone: "01904 496 222",
            address: "Foss Islands Road, York YO31 7UJ",
            worksites: &[("York Kitchen", "Foss Islands Road, York")],
            users: &[(
                "Sam",
                "Lee",
                "sam@fabrikam.example",
                "customer-supervisor-timeclock",
                PortalUserStatus::Active,
            )],
        },
    ],
    partner: Some(("Helen", "Ward", "helen@wardpartners.example", "partner")),
    workers: &[
        ("Aisha", "Khan"),
        ("Ben", "Carter"),
        ("Chloe", "Davies"),
        ("Daniel", "Evans"),
        ("Ella", "Foster"),
        ("Finn", "Green"),
        ("Hannah", "Abbott"),
        ("Isaac", "Jones"),
        ("Jade", "King"),
        ("Liam", "Murphy"),
        ("Maya", "Nolan"),
        ("Noah", "Price"),
    ],
    field_service: false,
    charge_rate_cents: 2450,
    pay_rate_cents: 1575,
};

const BRIGHTFIX: DemoAgency = DemoAgency {
    slug: "brightfix",
    admin: ("admin@brightfix.example", "Morgan Reid"),
    staff: ("dispatch@brightfix.example", "Riley Chen"),
    clients: &[
        DemoClient {
            name: "Oakridge Property Management",
            email: "facilities@oakridge.example",
            phone: "020 7946 0300",
            address: "40 Oak Street, London E1 6AN",
            worksites: &[
                ("Oakridge House", "40 Oak Street, London"),
                ("Riverside Flats", "2 Wharf Road, London"),
            ],
            users: &[
                (
                    "Laura",
                    "Bennett",
                    "laura@oakridge.example",
                    "client-admin",
                    PortalUserStatus::Active,
                ),
                (
                    "Marcus",
                    "Webb",
                    "marcus@oakridge.example",
                    "requester",
                    PortalUserStatus::Active,
                ),
            ],
        },
        DemoClient {
            name: "Riverside Schools Trust",
            email: "estates@riverside-schools.example",
            phone: "0161 496 0400",
            address: "1 School Lane, Manchester M1 1AA",
            worksites: &[("Riverside Primary", "1 School Lane, Manchester")],
            users: &[
                (
                    "Nadia",
                    "Rahman",
                    "nadia@riverside-schools.example",
                    "client-user",
                    PortalUserStatus::Active,
                ),
                (
                    "Peter",
                    "Walsh",
                    "peter@riverside-schools.example",
                    "accounts",
                    PortalUserStatus::Invited,
                ),
            ],
        },
    ],
    partner: None,
    workers: &[
        ("Kofi", "Mensah"),
        ("Lena", "Novak"),
        ("Marta", "Silva"),
        ("Omar", "Haddad"),
        ("Rosa", "Ortiz"),
    ],
    field_service: true,
    charge_rate_cents: 5200,
    pay_rate_cents: 2900,
};

/// The demo agencies' slugs; each must be configured.
pub const DEMO_SLUGS: [&str; 2] = [ACME.slug, BRIGHTFIX.slug];

/// How much data `portal demo seed` loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Scale {
    /// The two demo agencies, a few weeks of data each.
    #[default]
    Demo,
    /// The demo, then 2,000 clients, 20,000 workers, 100,000 portal users and 1,000,000
    /// timesheets in `acme`, and a small data set in every other agency.
    Large,
}

/// Seeds both demo agencies, and at [`Scale::Large`] the large data set.
pub async fn seed(state: &AppState, scale: Scale) -> anyhow::Result<()> {
    let hash = passwords::hash(DEMO_PASSWORD).await?;
    for demo in [&ACME, &BRIGHTFIX] {
        let agency = state.agency(demo.slug).with_context(|| {
            format!(
                "the demo needs an agency with slug \"{}\" in config/agencies",
                demo.slug
            )
        })?;
        let mut tx = crate::db::begin_write(&state.db().pool).await?;
        match seed_agency(&mut tx, &agency, demo, &hash).await {
            Ok(()) => {
                tx.commit().await?;
                println!("seeded demo agency \"{}\"", demo.slug);
            }
            Err(SeedError::AlreadySeeded) => {
                println!("demo agency \"{}\" already has its data", demo.slug);
            }
            Err(SeedError::Database(err)) => return Err(err.into()),
        }
    }
    match scale {
        Scale::Demo => Ok(()),
        Scale::Large => large::seed(state, &hash, large::LARGE, large::SMALL).await,
    }
}

enum SeedError {
    AlreadySeeded,
    Database(sqlx::Error),
}

impl From<sqlx::Error> for SeedError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err)
    }
}

async fn seed_agency(
    conn: &mut AnyConnection,
    agency: &Agency,
    demo: &DemoAgency,
    hash: &str,
) -> Result<(), SeedError> {
    let admin = NewStaffUser {
        email: demo.admin.0,
        name: demo.admin.1,
        role: StaffRole::Admin,
        password_hash: hash,
        must_change_password: false,
    };
    match staff_users::create(&mut *conn, agency.id, &admin).await {
        Err(err) if is_unique_violation(&err) => return Err(SeedError::AlreadySeeded),
        other => other?,
    };
    let staff = NewStaffUser {
        email: demo.staff.0,
        name: demo.staff.1,
        role: StaffRole::Staff,
        password_hash: hash,
        must_change_password: false,
    };
    staff_users::create(&mut *conn, agency.id, &staff).await?;

    let mut worker_ids = Vec::new();
    for (first, last) in demo.workers {
        let email = format!(
            "{}.{}@workers.example",
            first.to_lowercase(),
            last.to_lowercase()
        );
        let new = NewWorker {
            first_name: first,
            last_name: last,
            email: &email,
            recruiter_email: demo.staff.0,
            ..NewWorker::default()
        };
        worker_ids.push(workers::create(&mut *conn, agency.id, &new).await?);
    }

    let today = OffsetDateTime::now_utc().date();
    let mut rng = Lcg(u64::from(demo.slug.len() as u32) * 7919);
    let mut client_ids = Vec::new();
    for (index, client) in demo.clients.iter().enumerate() {
        let new = NewClient {
            name: client.name,
            email: client.email,
            phone: client.phone,
            address: client.address,
            ..NewClient::default()
        };
        let client_id = clients::create(&mut *conn, agency.id, &new).await?;
        client_ids.push(client_id);
        let mut site_ids = Vec::new();
        for (name, address) in client.worksites {
            site_ids.push(
                clients::create_worksite(&mut *conn, agency.id, client_id, name, address).await?,
            );
        }
        let mut approver = None;
        for (first, last, email, role, status) in client.users {
            let password = (*status != PortalUserStatus::Invited).then_some(hash);
            let links = [(client_id, None)];
            let new = NewPortalUser {
                email,
                first_name: first,
                last_name: last,
                role_id: role,
                all_clients: false,
                restricted_access: false,
                status: *status,
                password_hash: password,
                must_change_password: false,
                clients: &links,
            };
            let id = portal_users::create(&mut *conn, agency.id, &new).await?;
            approver.get_or_insert((id, format!("{first} {last}")));
        }
        // Each client gets a share of the workers.
        let crew: Vec<i64> = worker_ids
            .iter()
            .copied()
            .skip(index)
            .step_by(demo.clients.len())
            .collect();
        let approver = approver.unwrap_or((0, String::new()));
        seed_timesheets(
            conn, agency.id, demo, client_id, &site_ids, &crew, today, &approver, &mut rng,
        )
        .await?;
        seed_on_site(conn, agency.id, client_id, &site_ids, &crew).await?;
        seed_invoices(conn, agency.id, demo, client_id, index, today).await?;
        let induction = format!(
            "{}: site safety induction for {}.\n",
            agency.config.display_name, client.name
        );
        let document = NewDocument {
            client_id,
            title: "Site safety induction",
            file_name: "site-safety-induction.txt",
            mime_type: "text/plain",
            content: induction.as_bytes(),
        };
        documents::create(&mut *conn, agency.id, &document).await?;
        let request = NewWorkRequest {
            client_id,
            worksite_id: site_ids.first().copied(),
            portal_user_id: Some(approver.0).filter(|id| *id > 0),
            title: if demo.field_service {
                "Boiler service before winter"
            } else {
                "Two extra pickers for the weekend"
            },
            description: if demo.field_service {
                "Annual boiler service, please book a morning slot."
            } else {
                "Peak orders: two experienced pickers, Saturday and Sunday, 8:00 to 16:00."
            },
            needed_by: Some(&day(today + Duration::days(7))),
            workers_needed: (!demo.field_service).then_some(2),
            urgency: if index == 0 { "high" } else { "normal" },
            status: Status::New,
        };
        let request_id = work_requests::create(&mut *conn, agency.id, &request).await?;
        if index > 0 {
            let booked = day(today + Duration::days(5));
            work_requests::add_update(
                conn,
                agency.id,
                request_id,
                &NewUpdate {
                    author: ("staff", None, demo.staff.1),
                    body: if demo.field_service {
                        "Booked for a morning visit; the engineer will call ahead."
                    } else {
                        "Two pickers confirmed for Saturday; Sunday to follow."
                    },
                    status: Some((Status::Scheduled, Some(&booked))),
                    internal: false,
                },
            )
            .await?;
        }
        if demo.field_service {
            seed_jobs_and_quotes(conn, agency.id, client_id, &site_ids, index, today).await?;
        }
    }
    if let Some((first, last, email, role)) = demo.partner {
        let new = NewPortalUser {
            email,
            first_name: first,
            last_name: last,
            role_id: role,
            all_clients: true,
            restricted_access: false,
            status: PortalUserStatus::Active,
            password_hash: Some(hash),
            must_change_password: false,
            clients: &[],
        };
        portal_users::create(&mut *conn, agency.id, &new).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn seed_timesheets(
    conn: &mut AnyConnection,
    agency_id: i64,
    demo: &DemoAgency,
    client_id: i64,
    sites: &[i64],
    crew: &[i64],
    today: Date,
    approver: &(i64, String),
    rng: &mut Lcg,
) -> sqlx::Result<()> {
    let monday = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
    for week in 0..4_i64 {
        let week_start = monday - Duration::weeks(3 - week);
        for (n, worker_id) in crew.iter().enumerate() {
            for weekday in 0..5 {
                let date = week_start + Duration::days(weekday);
                if date > today {
                    continue;
                }
                let start = ["07:00", "07:30", "08:00", "09:00"][rng.below(4)];
                let end = ["15:30", "16:00", "16:30", "17:00", "18:30"][rng.below(5)];
                let new = NewTimesheet {
                    external_id: None,
                    client_id,
                    worksite_id: sites.get(n % sites.len().max(1)).copied(),
                    worker_id: *worker_id,
                    work_date: &day(date),
                    start_time: start,
                    end_time: end,
                    break_minutes: 30,
                    charge_rate_cents: demo.charge_rate_cents,
                    pay_rate_cents: demo.pay_rate_cents,
                };
                let id = timesheets::create(conn, agency_id, &new).await?;
                // Older weeks are decided; this week waits for the client.
                if week < 3 && approver.0 > 0 {
                    let rejected = rng.below(12) == 0;
                    let (status, reason) = if rejected {
                        (
                            TimesheetStatus::Rejected,
                            Some("Clock-out does not match the site log."),
                        )
                    } else {
                        (TimesheetStatus::Approved, None)
                    };
                    timesheets::decide(
                        conn,
                        agency_id,
                        id,
                        status,
                        (approver.0, &approver.1),
                        reason,
                    )
                    .await?;
                }
            }
        }
    }
    Ok(())
}

/// Half of the crew clocked in this morning and are still on site.
async fn seed_on_site(
    conn: &mut AnyConnection,
    agency_id: i64,
    client_id: i64,
    sites: &[i64],
    crew: &[i64],
) -> sqlx::Result<()> {
    let now = Timestamp::now();
    // The other half came and went yesterday.
    for (n, worker_id) in crew.iter().enumerate().filter(|(n, _)| n % 2 == 1) {
        for (clock_in, hours_ago) in [(true, 30), (false, 22)] {
            let event = NewClockEvent {
                worker_id: *worker_id,
                client_id,
                worksite_id: sites.get(n % sites.len().max(1)).copied(),
                clock_in,
                at: now.plus_seconds(-3600 * hours_ago),
            };
            clock_events::create(&mut *conn, agency_id, &event).await?;
        }
    }
    for (n, worker_id) in crew.iter().enumerate().filter(|(n, _)| n % 2 == 0) {
        let event = NewClockEvent {
            worker_id: *worker_id,
            client_id,
            worksite_id: sites.get(n % sites.len().max(1)).copied(),
            clock_in: true,
            at: now.plus_seconds(-3600 * (1 + n as i64)),
        };
        clock_events::create(&mut *conn, agency_id, &event).await?;
    }
    Ok(())
}

async fn seed_invoices(
    conn: &mut AnyConnection,
    agency_id: i64,
    demo: &DemoAgency,
    client_id: i64,
    index: usize,
    today: Date,
) -> sqlx::Result<()> {
    for (n, weeks_ago) in [3_i64, 2, 1].into_iter().enumerate() {
        let issued = today - Duration::weeks(weeks_ago);
        let number = format!("{}-{:04}", demo.slug.to_uppercase(), 1000 + index * 10 + n);
        let hours = [36_000_i64, 41_250, 38_500][n];
        let lines = [NewInvoiceLine {
            description: "Labour (hours)",
            quantity_hundredths: hours,
            unit_price_cents: demo.charge_rate_cents,
        }];
        // The first client is late with its oldest invoice: open past its due date.
        let status = match weeks_ago {
            3 if index > 0 => "paid",
            _ => "open",
        };
        let new = NewInvoice {
            client_id,
            number: &number,
            issued_on: &day(issued),
            due_on: &day(issued + Duration::days(14)),
            status,
            lines: &lines,
        };
        let invoice_id = invoices::create(conn, agency_id, &new).await?;
        // The agency uploaded the PDF of the oldest invoice.
        if n == 0 {
            let pdf = invoice_pdf(&number);
            let file_name = format!("{number}.pdf");
            let document = NewDocument {
                client_id,
                title: &format!("Invoice {number}"),
                file_name: &file_name,
                mime_type: "application/pdf",
                content: &pdf,
            };
            let document_id = documents::create(&mut *conn, agency_id, &document).await?;
            invoices::set_pdf(&mut *conn, agency_id, invoice_id, document_id).await?;
        }
    }
    Ok(())
}

/// A one-page PDF that says which invoice it is.
fn invoice_pdf(number: &str) -> Vec<u8> {
    let text = format!("BT /F1 18 Tf 72 720 Td (Invoice {number}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (n, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.push_str(&format!("{} 0 obj\n{object}\nendobj\n", n + 1));
    }
    let xref = pdf.len();
    pdf.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for offset in offsets {
        pdf.push_str(&format!("{offset:010} 00000 n \n"));
    }
    pdf.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    pdf.into_bytes()
}

async fn seed_jobs_and_quotes(
    conn: &mut AnyConnection,
    agency_id: i64,
    client_id: i64,
    sites: &[i64],
    index: usize,
    today: Date,
) -> sqlx::Result<()> {
    let jobs = [
        ("Replace fire door closers", "completed", -10),
        ("Quarterly gutter clearance", "scheduled", 5),
        ("Emergency leak repair", "in-progress", 0),
    ];
    for (n, (title, status, offset)) in jobs.into_iter().enumerate() {
        let number = format!("JOB-{:04}", 200 + index * 10 + n);
        let new = NewJob {
            client_id,
            worksite_id: sites.first().copied(),
            number: &number,
            title,
            description: "",
            status,
            scheduled_on: Some(&day(today + Duration::days(offset))),
        };
        jobs::create(&mut *conn, agency_id, &new).await?;
    }
    let quote_number = format!("Q-{:04}", 300 + index);
    let quote = NewQuote {
        client_id,
        number: &quote_number,
        title: "Roof survey and repairs",
        status: "sent",
        total_cents: 184_000,
        valid_until: Some(&day(today + Duration::days(30))),
    };
    quotes::create(&mut *conn, agency_id, &quote).await?;
    Ok(())
}

fn day(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// A tiny deterministic generator so the demo looks the same on every machine.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}
