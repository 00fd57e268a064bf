//! What a hostile or broken client sends: bodies past the limit, 10 MB form fields, broken
//! multipart, awkward Unicode, and clients too slow to finish a request. Each is refused with
//! a clear 4xx (or its connection closed), the server stays up and keeps serving others, and
//! its memory stays bounded.

use std::time::Duration;

use portal_tests::{Installation, Server, browser, csrf_token, sign_in};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MIB: usize = 1024 * 1024;

/// A seeded installation with `extra` added to `portal.toml`'s `[server]` section.
async fn installation_with(extra: &str) -> Installation {
    let installation = Installation::with_demo_data().await;
    installation.edit_main_config(
        "[server]\nlisten = \"127.0.0.1:0\"\n",
        &format!("[server]\nlisten = \"127.0.0.1:0\"\n{extra}"),
    );
    installation
}

fn address(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Sends `head` (request line and headers, blank line included), then `body_len` bytes —
/// chunked when `chunked` — while reading the answer, and keeps its side of the connection
/// open. Returns the status code, or `None` when the server closed the connection without
/// answering.
async fn send_raw(address: String, head: String, body_len: usize, chunked: bool) -> Option<u16> {
    let stream = TcpStream::connect(address).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let sending = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = 0;
        while sent < body_len {
            let n = chunk.len().min(body_len - sent);
            if chunked {
                writer.write_all(format!("{n:x}\r\n").as_bytes()).await?;
            }
            writer.write_all(&chunk[..n]).await?;
            if chunked {
                writer.write_all(b"\r\n").await?;
            }
            sent += n;
        }
        if chunked {
            writer.write_all(b"0\r\n\r\n").await?;
        }
        // Dropping the writing half would tell the server the body has ended.
        std::future::pending::<()>().await;
        std::io::Result::Ok(())
    });
    let status = tokio::time::timeout(Duration::from_secs(60), read_status(&mut reader))
        .await
        .expect("an answer or a closed connection, not a hang");
    sending.abort();
    status
}

/// The status code of the response on `reader`, or `None` when the connection closes first.
async fn read_status(reader: &mut (impl AsyncReadExt + Unpin)) -> Option<u16> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        match reader.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
}

/// `VmRSS` or `VmHWM` (peak) of a process, in bytes.
fn memory(pid: u32, field: &str) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse::<usize>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

async fn assert_still_serving(server: &Server) {
    let page = reqwest::get(server.url("/acme/portal/login"))
        .await
        .expect("the server answers");
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_and_memory_stays_bounded() {
    let max_body = 2 * MIB;
    let installation = installation_with(&format!("max_body_bytes = {max_body}\n")).await;
    let token = installation.api_token("acme");
    let server = installation.serve().await;
    assert_still_serving(&server).await;

    // The peak is reset, so what is read afterwards is the peak of this test's traffic.
    std::fs::write(format!("/proc/{}/clear_refs", server.pid()), "5").expect("reset VmHWM");
    let before = memory(server.pid(), "VmRSS");

    let offered = 64 * MIB;
    let host = address(&server);
    let heads = [
        // A document upload announced as larger than the limit.
        (
            format!(
                "PUT /api/v1/acme/documents/by-external-id/D1?client=x HTTP/1.1\r\nHost: {host}\r\n\
                 Authorization: Bearer {token}\r\nContent-Type: application/pdf\r\n\
                 Content-Length: {offered}\r\n\r\n"
            ),
            false,
        ),
        // A batch that never says how long it is.
        (
            format!(
                "POST /api/v1/acme/workers/batch HTTP/1.1\r\nHost: {host}\r\n\
                 Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
                 Transfer-Encoding: chunked\r\n\r\n"
            ),
            true,
        ),
        // A sign-in form, read by the CSRF check.
        (
            format!(
                "POST /acme/portal/login HTTP/1.1\r\nHost: {host}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: {offered}\r\n\r\n"
            ),
            false,
        ),
        // The same with the token in a header, so the form itself is read.
        (
            format!(
                "POST /acme/portal/login HTTP/1.1\r\nHost: {host}\r\n\
                 Cookie: csrf=token\r\nX-CSRF-Token: token\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\n\
                 Transfer-Encoding: chunked\r\n\r\n"
            ),
            true,
        ),
    ];
    let concurrency = 6;
    let mut sends = Vec::new();
    for _ in 0..concurrency {
        for (head, chunked) in &heads {
            sends.push(send_raw(address(&server), head.clone(), offered, *chunked));
        }
    }
    let requests = sends.len();
    let statuses = futures_join_all(sends).await;
    for status in &statuses {
        assert!(
            matches!(status, Some(413) | None),
            "every oversized body is refused: {statuses:?}"
        );
    }
    assert!(
        statuses.iter().filter(|s| **s == Some(413)).count() >= requests / 2,
        "most get a clear 413: {statuses:?}"
    );

    let peak = memory(server.pid(), "VmHWM");
    let grew = peak.saturating_sub(before);
    // Each request holds at most the limit (and a copy of it while parsing) at a time.
    let bound = requests * max_body * 3 + 64 * MIB;
    eprintln!(
        "{requests} requests offering {} MiB in all: peak RSS grew {} MiB (bound {} MiB)",
        requests * offered / MIB,
        grew / MIB,
        bound / MIB
    );
    assert!(grew < bound, "peak RSS grew by {} MiB", grew / MIB);
    assert_still_serving(&server).await;
}

/// Runs the futures together and collects their outputs in order.
async fn futures_join_all<
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
>(
    futures: Vec<F>,
) -> Vec<T> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("join"));
    }
    outputs
}

/// David of Northwind, signed in to acme's portal, with his session's form token.
struct David {
    client: reqwest::Client,
    csrf: String,
}

impl David {
    async fn sign_in(server: &Server) -> Self {
        let client = browser();
        let login = server.url("/acme/portal/login");
        let signed_in = sign_in(
            &client,
            &login,
            "david@northwind.example",
            "lantern-harbour-orbit",
        )
        .await
        .expect("sign in");
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        let form = client
            .get(server.url("/acme/portal/work-requests/new"))
            .send()
            .await
            .expect("form")
            .text()
            .await
            .expect("body");
        Self {
            csrf: csrf_token(&form),
            client,
        }
    }

    /// Files a work request, the form token in a header; returns the answer's status.
    async fn file_work_request(
        &self,
        server: &Server,
        title: &str,
        description: &str,
    ) -> StatusCode {
        self.client
            .post(server.url("/acme/portal/work-requests"))
            .header("x-csrf-token", &self.csrf)
            .form(&[
                ("title", title),
                ("description", description),
                ("urgency", "low"),
            ])
            .send()
            .await
            .expect("post")
            .status()
    }
}

#[tokio::test]
async fn ten_megabyte_form_fields_are_refused_with_a_clear_answer() {
    let installation = installation_with("").await;
    let token = installation.api_token("acme");
    let server = installation.serve().await;
    let huge = "x".repeat(10 * MIB);
    let http = reqwest::Client::new();

    // A form past the forms' own limit is not even read for its token. (Sent by hand: the
    // answer comes before the body is through, which a plain client may miss.)
    let login = server.url("/acme/portal/login");
    let head = format!(
        "POST /acme/portal/login HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\nemail=",
        address(&server),
        10 * MIB + 6
    );
    assert_eq!(
        send_raw(address(&server), head, 10 * MIB, false).await,
        Some(413)
    );

    // With the token in a header the form is read, and its fields are checked.
    let refused = http
        .post(&login)
        .header("cookie", "csrf=token")
        .header("x-csrf-token", "token")
        .form(&[("email", huge.as_str()), ("password", huge.as_str())])
        .send()
        .await
        .expect("post");
    assert!(
        refused.status().is_client_error() || refused.status() == StatusCode::OK,
        "{}",
        refused.status()
    );
    assert!(
        !refused.text().await.expect("body").contains(&huge[..1000]),
        "the field is not echoed back"
    );

    let david = David::sign_in(&server).await;
    assert_eq!(
        david.file_work_request(&server, "Huge", &huge).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let worker = http
        .put(server.url("/api/v1/acme/workers/by-external-id/W1"))
        .bearer_auth(&token)
        .json(&json!({ "first_name": huge, "last_name": "Lovelace" }))
        .send()
        .await
        .expect("put");
    assert_eq!(worker.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = worker.json().await.expect("problem");
    assert!(problem["errors"]["first_name"].is_string(), "{problem}");
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn malformed_multipart_is_refused_with_a_4xx() {
    let installation = installation_with("request_body_timeout_seconds = 2\n").await;
    let token = installation.api_token("acme");
    let server = installation.serve().await;
    let host = address(&server);
    let bodies: [(&str, &str); 4] = [
        (
            "multipart/form-data; boundary=XYZ",
            "--XYZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nx",
        ),
        ("multipart/form-data", "--\r\n\r\n--"),
        ("multipart/form-data; boundary=", "garbage"),
        (
            "multipart/form-data; boundary=\"\u{1F600}\"",
            "--\u{1F600}--",
        ),
    ];
    for (content_type, body) in bodies {
        for (path, auth) in [
            (
                "/acme/portal/login",
                "Cookie: csrf=t\r\nX-CSRF-Token: t\r\n".to_owned(),
            ),
            (
                "/api/v1/acme/documents/by-external-id/D1?client=C1&title=T&file_name=f.pdf",
                format!("Authorization: Bearer {token}\r\n"),
            ),
        ] {
            let method = if path.starts_with("/api") {
                "PUT"
            } else {
                "POST"
            };
            let head = format!(
                "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: {content_type}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let status = send_raw(address(&server), head, 0, false).await;
            assert!(
                status.is_some_and(|s| (400..500).contains(&s)),
                "{method} {path} as {content_type}: {status:?}"
            );
        }
    }
    // A multipart body that stops short of its announced length is refused for what it is,
    // without waiting for the rest.
    let head = format!(
        "POST /acme/portal/login HTTP/1.1\r\nHost: {host}\r\nCookie: csrf=t\r\nX-CSRF-Token: t\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 5000\r\n\r\n--XYZ\r\n"
    );
    assert_eq!(send_raw(address(&server), head, 0, false).await, Some(415));
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn unicode_edge_cases_are_stored_as_sent_or_refused_never_a_server_error() {
    let installation = installation_with("").await;
    let token = installation.api_token("acme");
    let server = installation.serve().await;
    let http = reqwest::Client::new();
    let clients = |id: &str| server.url(&format!("/api/v1/acme/clients/by-external-id/{id}"));

    // Kept exactly as sent: astral emoji and a family sequence, right-to-left override,
    // combining marks, zero-width characters, a byte-order mark, noncharacters, and text
    // from several scripts.
    let names = [
        "\u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467} Family Ltd",
        "\u{202E}dtL tnemeganaM\u{202C}",
        "Ze\u{301}\u{301}\u{301}\u{301}\u{301}bra Z\u{335}\u{321}\u{349}algo",
        "Zero\u{200B}Width\u{FEFF}Corp",
        "Non\u{FFFF}char\u{FDD0}acters",
        "Şirket İstanbul Ǆ ß ﬁ Ωmega 東京 Москва العربية",
    ];
    for (n, name) in names.iter().enumerate() {
        let url = clients(&format!("U{n}"));
        let put = http
            .put(&url)
            .bearer_auth(&token)
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("put");
        assert_eq!(put.status(), StatusCode::CREATED, "{name:?}");
        let shown: serde_json::Value = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(shown["name"], *name, "stored as sent");
    }

    // A NUL character cannot be stored by PostgreSQL; both databases refuse it as a field
    // problem.
    let put = http
        .put(clients("NUL"))
        .bearer_auth(&token)
        .json(&json!({ "name": "Null\u{0}Byte" }))
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Bodies that are not valid JSON or not valid UTF-8, and escapes of lone surrogates.
    for body in [
        b"{\"name\": \"\\ud800\"}".to_vec(),
        b"{\"name\": \"\xff\xfe\"}".to_vec(),
        b"\xef\xbb\xbf{\"name\": \"BOM first\"}".to_vec(),
    ] {
        let put = http
            .put(clients("BAD"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("put");
        assert_eq!(put.status(), StatusCode::BAD_REQUEST);
    }

    // Odd bytes in query strings, paths, form fields and headers.
    let david = David::sign_in(&server).await;
    for path in [
        "/api/v1/acme/clients?q=%00",
        "/api/v1/acme/clients?q=%FF%FE%C0%AF",
        "/api/v1/acme/clients/%00",
        "/api/v1/acme/clients/by-external-id/%E2%80%AE%00",
    ] {
        let answer = http.get(server.url(path)).bearer_auth(&token).send().await;
        let status = answer.expect("get").status();
        assert!(!status.is_server_error(), "{path}: {status}");
    }
    for path in [
        "/acme/portal/timesheets?worker=%00",
        "/acme/portal/timesheets?week=%F0%9F%98%80&worksite=%00",
        "/acme/portal/timesheets/%00",
        "/acme/portal/reports?from=%00&to=%FF",
        "/acme/portal/invoices/%F0%9F%98%80",
        "/acme%00/portal",
        "/%E2%80%AE/portal/login",
    ] {
        let status = david
            .client
            .get(server.url(path))
            .send()
            .await
            .expect("get")
            .status();
        assert!(!status.is_server_error(), "{path}: {status}");
    }
    for title in ["Null\u{0}Title", "\u{202E}evil", "\u{FFFF}\u{FFFE}"] {
        let status = david.file_work_request(&server, title, "Unicode").await;
        assert!(!status.is_server_error(), "{title:?}: {status}");
    }
    let host = address(&server);
    let head = format!(
        "GET /acme/portal/login HTTP/1.1\r\nHost: {host}\r\nUser-Agent: \u{1F600}\r\n\
         Cookie: acme-portal=\u{202E}\r\nAccept-Language: \u{0}\r\nConnection: close\r\n\r\n"
    );
    let status = send_raw(address(&server), head, 0, false).await;
    assert!(
        status.is_none_or(|s| s < 500),
        "odd header bytes: {status:?}"
    );
    assert_still_serving(&server).await;
}

/// Connects and sends `head` one byte at a time, `pause` apart, over and over; returns once
/// the server has closed the connection (panics after 60 s).
async fn trickle(address: String, head: &'static str, pause: Duration) {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let closed = async {
        for byte in head.bytes().cycle() {
            if stream.write_all(&[byte]).await.is_err() {
                return;
            }
            let mut buf = [0u8; 256];
            if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(pause, stream.read(&mut buf)).await {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), closed)
        .await
        .expect("the server closes a trickling connection");
}

/// Connects and sends nothing; returns once the server has closed the connection.
async fn stay_silent(address: String) {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut buf))
        .await
        .expect("the server closes a silent connection");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[tokio::test]
async fn slow_clients_are_cut_off_while_others_are_served() {
    let installation =
        installation_with("request_header_timeout_seconds = 2\nrequest_body_timeout_seconds = 2\n")
            .await;
    let token = installation.api_token("acme");
    let mut server = installation.serve().await;
    let host = address(&server);

    let mut slow = Vec::new();
    let mut slow_bodies = Vec::new();
    for _ in 0..15 {
        slow.push(tokio::spawn(trickle(
            host.clone(),
            "GET /healthz HTTP/1.1\r\nX-Slow: 1\r\n",
            Duration::from_millis(200),
        )));
        slow.push(tokio::spawn(stay_silent(host.clone())));
        // Headers in full, then a body that stops.
        let head = format!(
            "POST /api/v1/acme/workers/batch HTTP/1.1\r\nHost: {host}\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: 100000\r\n\r\n{{\"rows\": ["
        );
        slow_bodies.push(tokio::spawn(send_raw(host.clone(), head, 0, false)));
    }
    // Meanwhile everyone else is served as usual.
    let http = reqwest::Client::new();
    for _ in 0..20 {
        let page = http
            .get(server.url("/acme/portal/login"))
            .send()
            .await
            .expect("get");
        assert_eq!(page.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for closed in slow {
        closed.await.expect("closed in time");
    }
    for answered in slow_bodies {
        assert_eq!(answered.await.expect("join"), Some(408));
    }
    assert!(server.is_running());
    assert_still_serving(&server).await;
}

/// A kept-alive connection that goes quiet after its answer is closed once the next request's
/// head is overdue (`server.request_header_timeout_seconds`), so idle sockets are not held.
#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let installation = installation_with("request_header_timeout_seconds = 2\n").await;
    let server = installation.serve().await;
    let host = address(&server);
    let mut stream = TcpStream::connect(&host).await.expect("connect");
    stream
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .expect("send");
    let mut answer = [0u8; 1024];
    let read = stream.read(&mut answer).await.expect("answer");
    assert!(
        String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200"),
        "served first"
    );
    let started = std::time::Instant::now();
    let mut rest = [0u8; 256];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut rest).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the idle connection was never closed");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "not closed at once"
    );
    assert_still_serving(&server).await;
}

/// Ten thousand sockets opened and left silent do not keep people out: past
/// `server.max_connections` the oldest idle connections are closed to make room, so signed-in
/// pages keep answering, and the process never holds more than the cap.
#[tokio::test]
async fn ten_thousand_idle_sockets_leave_room_for_people() {
    const IDLE: usize = 10_000;
    const CAP: usize = 1_000;
    raise_open_file_limit(IDLE + 1_000);
    let installation = installation_with(&format!("max_connections = {CAP}\n")).await;
    let server = installation.serve().await;
    let host = address(&server);
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(TcpStream::connect(&host).await.expect("connect"));
    }
    let david = David::sign_in(&server).await;
    for page in [
        "/acme/portal",
        "/acme/portal/timesheets",
        "/acme/portal/work-requests",
    ] {
        let answer = david.client.get(server.url(page)).send().await.expect(page);
        assert_eq!(answer.status(), StatusCode::OK, "{page}");
    }
    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    let figure = |name: &str| -> usize {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{name} in /metrics"))
    };
    assert!(figure("portal_connections_open") <= CAP);
    assert!(figure("portal_connections_closed_for_room_total") >= IDLE - CAP);
    assert_eq!(figure("portal_connections_refused_total"), 0);
    drop(idle);
    assert_still_serving(&server).await;
}

/// When every connection up to the cap is in the middle of a request, a newcomer is answered
/// `503` with `Retry-After` and closed, and is served again once a place is free.
#[tokio::test]
async fn past_the_cap_with_every_connection_busy_a_newcomer_gets_503() {
    let installation =
        installation_with("max_connections = 2\nrequest_body_timeout_seconds = 3\n").await;
    let token = installation.api_token("acme");
    let server = installation.serve().await;
    let host = address(&server);
    // Two requests whose bodies never come hold both places.
    let mut busy = Vec::new();
    for _ in 0..2 {
        let head = format!(
            "POST /api/v1/acme/workers/batch HTTP/1.1\r\nHost: {host}\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: 1000\r\n\r\n"
        );
        busy.push(tokio::spawn(send_raw(host.clone(), head, 0, false)));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut newcomer = TcpStream::connect(&host).await.expect("connect");
    newcomer
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .expect("send");
    let mut answer = String::new();
    newcomer
        .read_to_string(&mut answer)
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("Retry-After: 5"), "{answer}");
    for request in busy {
        assert_eq!(request.await.expect("join"), Some(408));
    }
    assert_still_serving(&server).await;
}

/// Lets this test process open `wanted` files, as far as the hard limit allows.
fn raise_open_file_limit(wanted: usize) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let wanted = u64::try_from(wanted).expect("fits");
    if limit.current.is_some_and(|current| current < wanted) {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        )
        .expect("raise the open-file limit");
    }
    let now = getrlimit(Resource::Nofile).current;
    assert!(
        now.is_none_or(|current| current >= wanted),
        "this test needs {wanted} open files; the hard limit allows {now:?}"
    );
}
