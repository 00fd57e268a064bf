//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the kind
//! every authenticator app speaks.

use hmac::{Hmac, Mac};
use sha1::Sha1;

const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;
/// Steps either side of now that still count, for clocks a little off.
const SKEW: i64 = 1;

/// A new 160-bit secret in base32, as authenticator apps expect it.
pub fn generate_secret() -> String {
    let mut bytes = [0_u8; 20];
    rand::fill(&mut bytes);
    base32(&bytes)
}

/// The code for one time step.
pub fn code_at(secret: &[u8], step: i64) -> Option<u32> {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let word = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    Some(word % 10_u32.pow(DIGITS))
}

/// The 6-digit code an authenticator app shows for `secret` at a moment.
pub fn code(secret_base32: &str, unix_seconds: i64) -> Option<String> {
    let secret = from_base32(secret_base32)?;
    code_at(&secret, step_of(unix_seconds)).map(|code| format!("{code:06}"))
}

pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The step a code matches near `now`, if any, and only a step later than `last_used`: each
/// code works once.
pub fn verify(secret_base32: &str, code: &str, now: i64, last_used: Option<i64>) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let secret = from_base32(secret_base32)?;
    let current = step_of(now);
    (current - SKEW..=current + SKEW)
        .filter(|step| last_used.is_none_or(|last| *step > last))
        .find(|step| code_at(&secret, *step) == Some(wanted))
}

/// `otpauth://totp/…` for the QR code an app scans.
pub fn provisioning_uri(issuer: &str, account: &str, secret: &str) -> String {
    let label = format!("{issuer}:{account}");
    format!(
        "otpauth://totp/{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        urlencode(&label),
        urlencode(issuer)
    )
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0_u32, 0);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0_u32, 0);
    for c in text.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let value = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, last six digits.
    #[test]
    fn matches_the_rfc_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59, 287_082),
            (1_111_111_109, 81_804),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
        ] {
            assert_eq!(code_at(secret, step_of(time)), Some(expected), "t={time}");
        }
    }

    #[test]
    fn base32_round_trips() {
        assert_eq!(
            base32(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        assert_eq!(
            from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").as_deref(),
            Some(&b"12345678901234567890"[..])
        );
        let secret = generate_secret();
        assert_eq!(secret.len(), 32);
        assert_eq!(from_base32(&secret).map(|b| b.len()), Some(20));
    }

    #[test]
    fn a_code_works_once_and_only_near_its_time() {
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let now = 1_234_567_890;
        let code = format!(
            "{:06}",
            code_at(b"12345678901234567890", step_of(now)).unwrap_or(0)
        );
        let step = verify(secret, &code, now, None);
        assert_eq!(step, Some(step_of(now)));
        assert_eq!(verify(secret, &code, now, step), None, "replay refused");
        assert_eq!(verify(secret, &code, now + 300, None), None, "too late");
        assert_eq!(verify(secret, "12345", now, None), None);
        assert_eq!(verify(secret, "abcdef", now, None), None);
    }

    #[test]
    fn provisioning_uris_escape_labels() {
        let uri = provisioning_uri("Acme Staffing", "david@northwind.example", "ABC");
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Staffing%3Adavid%40northwind.example?secret=ABC&issuer=Acme%20Staffing&algorithm=SHA1&digits=6&period=30"
        );
    }
}
