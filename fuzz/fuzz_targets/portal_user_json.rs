//! Portal-user API bodies (`POST …/portal-users`, `PUT …/portal-users/{id}`): raw bytes
//! through serde as axum's `Json` extractor reads them, then the field checks every handler
//! runs first (`rules::field_problems`) and, for a manual creation, the password policy.
//!
//! Checks beyond "no panic": a body re-serialised reads back as the same input (the API
//! documents these shapes, and the manage forms post them); input the field checks pass has
//! names of at most 100 characters without NUL, the required names present, and an email
//! address the sign-in accepts; a password the policy passes is long enough.

#![no_main]

use libfuzzer_sys::fuzz_target;
use portal_server::auth::passwords;
use portal_server::email::problem as email_problem;
use portal_server::portal_users::{self as rules, NewUserInput, PortalUserInput};
use serde::Serialize;
use serde::de::DeserializeOwned;

fuzz_target!(|data: &[u8]| {
    if let Some(input) = read_back::<NewUserInput>(data) {
        fields(&input.user, true);
        let min = 8 + data.len() % 57;
        let words = [input.user.email.as_str(), &input.user.first_name];
        if passwords::policy_problem(&input.password, min, &words).is_none() {
            assert!(input.password.chars().count() >= min);
        }
    }
    if let Some(input) = read_back::<PortalUserInput>(data) {
        fields(&input, false);
    }
});

/// The body as `T`, after checking that writing it out and reading it again changes nothing.
fn read_back<T: Serialize + DeserializeOwned>(data: &[u8]) -> Option<T> {
    let input: T = serde_json::from_slice(data).ok()?;
    let written = serde_json::to_value(&input).ok()?;
    match serde_json::from_value::<T>(written.clone()) {
        Ok(again) => assert_eq!(serde_json::to_value(&again).ok(), Some(written)),
        Err(err) => panic!("{written} does not read back: {err}"),
    }
    Some(input)
}

fn fields(input: &PortalUserInput, names_required: bool) {
    if !rules::field_problems(input, names_required).is_empty() {
        return;
    }
    for name in [&input.first_name, &input.last_name] {
        assert!(!name.contains('\0') && name.trim().chars().count() <= 100);
        assert!(!names_required || !name.trim().is_empty());
    }
    assert!(!input.email.trim().is_empty());
    assert_eq!(email_problem(&input.email), None);
}
