//! Password hashing (argon2id, m=19456 KiB, t=2, p=1) and generated passphrases.
//!
//! Hashing is deliberately slow, so it runs on threads of its own: half the cores (at least
//! one), each at a lower scheduling priority than the request workers. A storm of sign-ins
//! queues there and takes the processor time other requests leave, instead of starving them.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};

use anyhow::Context;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use rand::seq::IndexedRandom;

type Job = Box<dyn FnOnce() + Send>;

/// How much the hashing threads yield to the rest of the process: a nice value, so under
/// contention a hash gets about a tenth of the time of a request worker.
#[cfg(target_os = "linux")]
const NICENESS: i32 = 10;

/// The queue of the hashing threads, started on first use.
static HASHING: LazyLock<mpsc::Sender<Job>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    for index in 0..(cores / 2).max(1) {
        let receiver = receiver.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("password-hash-{index}"))
            .spawn(move || {
                lower_priority();
                // The lock is held while waiting for the next job, not while hashing.
                let next_job = || receiver.lock().ok()?.recv().ok();
                while let Some(job) = next_job() {
                    job();
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start a password hashing thread");
        }
    }
    sender
});

#[cfg(target_os = "linux")]
fn lower_priority() {
    // On Linux `setpriority` with a thread id changes that one thread, not the process.
    let thread = rustix::thread::gettid();
    if let Err(error) = rustix::process::setpriority_process(Some(thread), NICENESS) {
        tracing::warn!(%error, "cannot lower the priority of a password hashing thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params =
        Params::new(19_456, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of a password with a fresh salt.
pub async fn hash(password: &str) -> anyhow::Result<String> {
    let password = password.to_owned();
    run_bounded(move || {
        argon2()?
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
    })
    .await
}

/// Whether `password` matches `phc`. A malformed stored hash counts as no match.
pub async fn verify(password: &str, phc: &str) -> anyhow::Result<bool> {
    let password = password.to_owned();
    let phc = phc.to_owned();
    run_bounded(move || {
        Ok(argon2()?
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok())
    })
    .await
}

async fn run_bounded<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    HASHING
        .send(Box::new(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(work))
                .unwrap_or_else(|_| Err(anyhow::anyhow!("password hashing panicked")));
            let _ = reply.send(outcome);
        }))
        .map_err(|_| anyhow::anyhow!("password hashing is shut down"))?;
    answer.await.context("password hashing thread stopped")?
}

/// The longest password accepted: long enough for any passphrase, short enough that hashing
/// cannot be abused with megabyte inputs.
pub const MAX_LENGTH: usize = 128;

static COMMON: LazyLock<std::collections::HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/common-passwords.txt")
        .lines()
        .filter(|w| !w.is_empty())
        .collect()
});

/// Why a new password is refused, in words for the person choosing it; `None` when it is
/// fine. No composition rules: length, not a common password, and not made of the person's
/// own email or company name (`context`).
pub fn policy_problem(password: &str, min_length: usize, context: &[&str]) -> Option<String> {
    let length = password.chars().count();
    if length < min_length {
        return Some(format!("Use at least {min_length} characters."));
    }
    if length > MAX_LENGTH {
        return Some(format!("Use at most {MAX_LENGTH} characters."));
    }
    let lowered = password.to_lowercase();
    if COMMON.contains(lowered.as_str()) {
        return Some(
            "This password is one of the most common and easy to guess. A few unrelated words \
             make a strong password."
                .into(),
        );
    }
    let personal = context
        .iter()
        .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
        .map(str::to_lowercase)
        .filter(|word| word.chars().count() >= 4)
        .any(|word| lowered.contains(&word));
    if personal {
        return Some("Don't use your name, email address or company name in your password.".into());
    }
    None
}

/// Whether a stored hash was made with other parameters than today's and should be redone.
pub fn needs_rehash(phc: &str) -> bool {
    !phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
}

/// Verifies against a fixed hash, so an unknown email takes as long as a wrong password.
pub async fn verify_dummy(password: &str) -> anyhow::Result<()> {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        argon2()
            .ok()
            .and_then(|a| a.hash_password(b"portal-dummy-password").ok())
            .map(|h| h.to_string())
            .unwrap_or_default()
    });
    let dummy = DUMMY.clone();
    verify(password, &dummy).await.map(|_| ())
}

static WORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/eff-large-wordlist.txt")
        .lines()
        .filter(|w| !w.is_empty())
        .collect()
});

/// Words in a generated passphrase: 4 words of 7,772 give about 51 bits.
const PASSPHRASE_WORDS: usize = 4;

/// A passphrase such as `EditorWellsFailAssessments`, drawn with the OS random generator.
pub fn generate_passphrase() -> String {
    let mut rng = rand::rng();
    (0..PASSPHRASE_WORDS)
        .filter_map(|_| WORDS.choose(&mut rng))
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() -> anyhow::Result<()> {
        let phc = hash("correct horse battery").await?;
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", &phc).await?);
        assert!(!verify("correct horse batterY", &phc).await?);
        assert!(!verify("anything", "not a hash").await?);
        Ok(())
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_yield_to_request_workers() -> anyhow::Result<()> {
        let niceness = run_bounded(|| {
            Ok(rustix::process::getpriority_process(Some(
                rustix::thread::gettid(),
            ))?)
        })
        .await?;
        assert!(niceness >= NICENESS, "hashing thread niceness {niceness}");
        Ok(())
    }

    #[test]
    fn policy_refuses_short_common_and_personal_passwords() {
        assert!(policy_problem("short", 8, &[]).is_some_and(|p| p.contains("at least 8")));
        assert!(policy_problem("password123", 8, &[]).is_some_and(|p| p.contains("common")));
        assert!(policy_problem("Password123", 8, &[]).is_some_and(|p| p.contains("common")));
        assert!(
            policy_problem("davidrocks2026", 8, &["david@northwind.example"])
                .is_some_and(|p| p.contains("name"))
        );
        assert!(policy_problem("northwind-harbour", 8, &["Northwind Manufacturing"]).is_some());
        assert_eq!(
            policy_problem("lantern-harbour-orbit", 8, &["david@northwind.example"]),
            None
        );
        assert!(
            policy_problem("lantern-harbor", 15, &[]).is_some_and(|p| p.contains("at least 15"))
        );
        assert!(policy_problem(&"x".repeat(129), 8, &[]).is_some());
        assert_eq!(policy_problem(&"xy".repeat(64), 8, &[]), None);
    }

    #[test]
    fn passphrases_are_capitalised_words_and_differ() {
        let a = generate_passphrase();
        let b = generate_passphrase();
        assert_ne!(a, b);
        assert!(a.len() >= 12, "{a}");
        assert_eq!(a.chars().filter(char::is_ascii_uppercase).count(), 4, "{a}");
        assert!(WORDS.len() > 7000);
    }
}
