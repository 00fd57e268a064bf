//! Where the outbox worker hands finished messages: an SMTP server in production, `.eml`
//! files for the embedded default (so every email can be read without a mail server), or
//! memory for tests.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailConfig, MailTransport, SmtpTls};

/// A delivery that did not happen, and whether trying again could help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The server is unreachable or answered 4xx: try again later.
    #[error("{0}")]
    Transient(String),
    /// The server refused the message for good (5xx), or the message cannot be built.
    #[error("{0}")]
    Permanent(String),
}

/// One delivered message as the in-memory transport keeps it.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// Envelope sender and recipients.
    pub from: String,
    pub to: Vec<String>,
    /// The whole RFC 5322 message.
    pub raw: Vec<u8>,
}

#[derive(Debug)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in this folder, named after the outbox row.
    File(PathBuf),
    Memory(Arc<Mutex<Vec<Delivered>>>),
}

impl Transport {
    /// The transport `mail.transport` names. Files go to `<paths.data>/mail/`.
    pub fn from_config(mail: &MailConfig, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        Ok(match mail.transport {
            MailTransport::File => Self::File(data_dir.join("mail")),
            MailTransport::Memory => Self::memory(),
            MailTransport::Smtp => {
                let smtp = &mail.smtp;
                let builder = match smtp.tls {
                    SmtpTls::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
                    }
                    SmtpTls::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                            .with_context(|| format!("mail.smtp.host \"{}\"", smtp.host))?
                    }
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                        .with_context(|| format!("mail.smtp.host \"{}\"", smtp.host))?,
                };
                let mut builder = builder
                    .port(smtp.port)
                    .timeout(Some(Duration::from_secs(smtp.timeout_seconds)));
                if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
                    builder = builder
                        .credentials(Credentials::new(user.clone(), password.expose().to_owned()));
                }
                Self::Smtp(builder.build())
            }
        })
    }

    /// For the log line that says how mail leaves this process.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Smtp(_) => "smtp",
            Self::File(_) => "file",
            Self::Memory(_) => "memory",
        }
    }

    pub fn memory() -> Self {
        Self::Memory(Arc::default())
    }

    /// What the in-memory transport has delivered so far (empty for the others).
    pub fn delivered(&self) -> Vec<Delivered> {
        match self {
            Self::Memory(sent) => sent.lock().map(|s| s.clone()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Delivers one message. `name` identifies it for the file transport.
    pub async fn send(&self, message: &Message, name: &str) -> Result<(), SendError> {
        match self {
            Self::Smtp(smtp) => smtp.send(message.clone()).await.map(|_| ()).map_err(|err| {
                // Only an explicit 5xx answer is final; a broken connection or a timeout is not.
                if err.is_permanent() {
                    SendError::Permanent(err.to_string())
                } else {
                    SendError::Transient(err.to_string())
                }
            }),
            Self::File(dir) => {
                let write = async {
                    tokio::fs::create_dir_all(dir).await?;
                    // Written under a temporary name and renamed, so a reader never sees half.
                    let path = dir.join(format!("{name}.eml"));
                    let partial = dir.join(format!(".{name}.eml.partial"));
                    tokio::fs::write(&partial, message.formatted()).await?;
                    tokio::fs::rename(&partial, &path).await
                };
                write.await.map_err(|err| {
                    SendError::Transient(format!("cannot write to {}: {err}", dir.display()))
                })
            }
            Self::Memory(sent) => {
                let envelope = message.envelope();
                let delivered = Delivered {
                    from: envelope.from().map(ToString::to_string).unwrap_or_default(),
                    to: envelope.to().iter().map(ToString::to_string).collect(),
                    raw: message.formatted(),
                };
                sent.lock()
                    .map_err(|_| SendError::Transient("memory transport is poisoned".into()))?
                    .push(delivered);
                Ok(())
            }
        }
    }
}
