//! Password hashing (argon2id, m=19456 KiB, t=2, p=1) and generated passphrases.
//!
//! Hashing is deliberately slow, so it runs on tokio's blocking pool behind a semaphore: a
//! storm of sign-ins queues there instead of starving the request workers.

use std::sync::LazyLock;

use anyhow::Context;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use rand::seq::IndexedRandom;
use tokio::sync::Semaphore;

/// At most this many hashes run at once; the rest wait their turn.
const CONCURRENT_HASHES: usize = 4;
static HASHING: Semaphore = Semaphore::const_new(CONCURRENT_HASHES);

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
    let _permit = HASHING
        .acquire()
        .await
        .context("password hashing is shut down")?;
    tokio::task::spawn_blocking(work)
        .await
        .context("password hashing task failed")?
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
