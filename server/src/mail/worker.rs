//! The outbox worker: a task of `portal serve` that claims due emails, delivers them and
//! records the outcome. Failures are retried with exponential back-off until
//! `mail.worker.max_attempts`; a permanent refusal (SMTP 5xx) fails the email at once.
//!
//! Claims are leases (`locked_until`), so several server processes on one PostgreSQL database
//! deliver each email once, and an email whose worker died is picked up when the lease ends.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{SendError, Transport};
use crate::config::MailWorkerConfig;
use crate::db::outbox::{self, Claimed};
use crate::db::{Db, Timestamp};
use crate::email::mask;
use crate::state::AppState;

/// What the worker knows about an agency: who its email comes from, and whether its
/// configuration opens its portal (an admin's saved choice, read at each delivery, wins: a
/// disabled portal sends no email, even one queued before it was turned off).
#[derive(Debug, Clone)]
struct Sender {
    from: Mailbox,
    portal_enabled: bool,
}

#[derive(Debug)]
pub struct Worker {
    db: Db,
    transport: Arc<Transport>,
    senders: BTreeMap<i64, Sender>,
    policy: MailWorkerConfig,
}

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    /// Failed this time, due again later.
    pub retrying: usize,
    /// Failed for good.
    pub failed: usize,
}

impl Pass {
    pub fn claimed(self) -> usize {
        self.sent + self.retrying + self.failed
    }
}

impl Worker {
    /// A worker for the server's agencies, delivering through `transport`.
    pub fn new(state: &AppState, transport: Transport) -> anyhow::Result<Self> {
        let settings = state.settings();
        let mut senders = BTreeMap::new();
        for agency in state.agencies() {
            let from = agency
                .config
                .mail_from
                .as_deref()
                .unwrap_or(&settings.mail.from);
            let from = crate::email::parse_sender(from)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("agency \"{}\"", agency.slug))?;
            senders.insert(
                agency.id,
                Sender {
                    from,
                    portal_enabled: agency.config.portal_enabled,
                },
            );
        }
        Ok(Self {
            db: state.db().clone(),
            transport: Arc::new(transport),
            senders,
            policy: settings.mail.worker.clone(),
        })
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Claims one batch of due emails and delivers it. `stop` is checked between emails: the
    /// ones not yet tried are released for the next worker instead of waiting for the lease.
    pub async fn deliver_due(&self, stop: Option<&watch::Receiver<bool>>) -> anyhow::Result<Pass> {
        let now = Timestamp::now();
        let lease = i64::try_from(self.policy.lease_seconds).unwrap_or(i64::MAX);
        let claimed = outbox::claim_due(
            &self.db,
            now,
            now.plus_seconds(lease),
            self.policy.batch_size,
        )
        .await
        .context("cannot claim email from the outbox")?;
        let mut pass = Pass::default();
        for (index, row) in claimed.iter().enumerate() {
            if stop.is_some_and(|stop| *stop.borrow()) {
                let ids: Vec<i64> = claimed[index..].iter().map(|row| row.id).collect();
                outbox::release(&self.db.pool, &ids).await?;
                break;
            }
            match self.deliver(row).await {
                Ok(()) => {
                    // Should this update fail, the row stays leased and is sent again when the
                    // lease ends: a rare duplicate rather than a lost email.
                    outbox::mark_sent(&self.db.pool, row.id, Timestamp::now()).await?;
                    tracing::info!(
                        id = row.id,
                        agency = row.agency_id,
                        template = row.template,
                        to = mask(&row.recipient),
                        "email sent"
                    );
                    pass.sent += 1;
                }
                Err(err) => {
                    let retry_at = self.retry_at(row, &err);
                    let error = err.to_string();
                    outbox::mark_attempt_failed(&self.db.pool, row.id, &error, retry_at).await?;
                    match retry_at {
                        Some(at) => {
                            tracing::warn!(
                                id = row.id,
                                agency = row.agency_id,
                                to = mask(&row.recipient),
                                attempt = row.attempts,
                                retry_at = %at,
                                error,
                                "email not delivered; will retry"
                            );
                            pass.retrying += 1;
                        }
                        None => {
                            tracing::error!(
                                id = row.id,
                                agency = row.agency_id,
                                to = mask(&row.recipient),
                                attempt = row.attempts,
                                error,
                                "email failed for good"
                            );
                            pass.failed += 1;
                        }
                    }
                }
            }
        }
        Ok(pass)
    }

    async fn deliver(&self, row: &Claimed) -> Result<(), SendError> {
        let sender = self
            .senders
            .get(&row.agency_id)
            .ok_or_else(|| SendError::Permanent("the agency is no longer configured".to_owned()))?;
        let open = crate::db::agency_settings::portal_enabled(
            &self.db.pool,
            row.agency_id,
            sender.portal_enabled,
        )
        .await
        .map_err(|err| SendError::Transient(format!("cannot read the agency's settings: {err}")))?;
        if !open {
            return Err(SendError::Permanent(
                super::PORTAL_DISABLED_NOTICE.to_owned(),
            ));
        }
        let message = build_message(row, &sender.from)?;
        let name = format!("{:08}-{}", row.id, row.template);
        self.transport.send(&message, &name).await
    }

    /// When to try again, or `None` to give up: `retry_base_seconds × 2^(attempts − 1)`,
    /// capped at `retry_max_seconds`.
    fn retry_at(&self, row: &Claimed, err: &SendError) -> Option<Timestamp> {
        if matches!(err, SendError::Permanent(_))
            || row.attempts >= i64::from(self.policy.max_attempts)
        {
            return None;
        }
        let exponent = u32::try_from(row.attempts.saturating_sub(1)).unwrap_or(0);
        let delay = self
            .policy
            .retry_base_seconds
            .saturating_mul(2u64.saturating_pow(exponent))
            .min(self.policy.retry_max_seconds);
        Some(Timestamp::now().plus_seconds(i64::try_from(delay).unwrap_or(i64::MAX)))
    }

    /// Delivers until `stop` turns true, pausing `poll_seconds` whenever nothing was due.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = Duration::from_secs(self.policy.poll_seconds);
        let full = usize::try_from(self.policy.batch_size).unwrap_or(usize::MAX);
        tracing::info!(transport = self.transport.name(), "outbox worker started");
        while !*stop.borrow() {
            let more = match self.deliver_due(Some(&stop)).await {
                Ok(pass) => pass.claimed() >= full,
                Err(err) => {
                    tracing::error!(error = format!("{err:#}"), "outbox worker pass failed");
                    false
                }
            };
            if more {
                continue;
            }
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
        tracing::info!("outbox worker stopped");
    }
}

/// Starts the outbox worker of `portal serve`, unless `mail.worker.enabled` is off.
pub fn spawn(
    state: &AppState,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    let settings = state.settings();
    if !settings.mail.worker.enabled {
        tracing::info!("outbox worker disabled (mail.worker.enabled = false)");
        return Ok(None);
    }
    let transport = Transport::from_config(&settings.mail, &settings.paths.data)?;
    let worker = Worker::new(state, transport)?;
    Ok(Some(tokio::spawn(worker.run(stop))))
}

/// The MIME message: text and HTML alternatives, from the agency's sender.
fn build_message(row: &Claimed, from: &Mailbox) -> Result<Message, SendError> {
    let to: Mailbox = row.recipient.parse().map_err(|err| {
        SendError::Permanent(format!("the recipient is not an email address: {err}"))
    })?;
    // One stable id per outbox row, so a retried delivery is recognisably the same message.
    let message_id = format!(
        "<portal.{}.{}@{}>",
        row.agency_id,
        row.id,
        from.email.domain()
    );
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.as_str())
        .message_id(Some(message_id))
        .multipart(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            row.body_html.clone(),
        ))
        .map_err(|err| SendError::Permanent(format!("cannot build the message: {err}")))
}
