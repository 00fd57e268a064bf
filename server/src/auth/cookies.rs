//! The few cookies Portal sets, and reading them back.

use axum::http::{HeaderMap, HeaderValue, header};

/// A cookie's value from the request, if sent.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// `HttpOnly`, `SameSite=Lax`, path `/`, and `Secure` when served over TLS (the `__Host-`
/// prefix, which browsers only accept with `Secure`, is part of the name then).
pub fn set(name: &str, value: &str, tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear(name: &str, tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The cookie name, `__Host-` prefixed over TLS.
pub fn name(base: &str, tls: bool) -> String {
    if tls {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; portal=xyz; b=2"),
        );
        assert_eq!(get(&headers, "portal"), Some("xyz"));
        assert_eq!(get(&headers, "missing"), None);
    }

    #[test]
    fn cookies_are_http_only_and_secure_over_tls() {
        let cookie = set(&name("portal", true), "t", true);
        assert_eq!(
            cookie.to_str().unwrap_or_default(),
            "__Host-portal=t; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(
            !set("portal", "t", false)
                .to_str()
                .unwrap_or_default()
                .contains("Secure")
        );
    }
}
