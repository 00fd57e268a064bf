//! Closed-loop HTTP load over loopback: `connections` clients, each on its own keep-alive
//! connection, sending its next request as soon as the last one is answered, for a fixed
//! time. Throughput and latency percentiles come from every answered request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Time each measurement runs after its warm-up.
pub const RUN: Duration = Duration::from_secs(3);
pub const WARM_UP: Duration = Duration::from_millis(500);
/// Timesheets per API batch request.
pub const BATCH_ROWS: usize = 100;

/// One kind of request measured.
#[derive(Clone)]
pub enum Load {
    /// `GET url`, with a `cookie` header when signed in.
    Get { url: String, cookie: Option<String> },
    /// `POST url` of a batch of [`BATCH_ROWS`] new timesheets, with a bearer token.
    Batch { url: String, token: String },
}

/// What one measurement saw. Latencies are of the successful answers.
pub struct Outcome {
    pub requests: usize,
    /// Answers other than 2xx (each a refusal the client saw, such as 503 when the database
    /// stayed busy beyond its timeout); the first is kept to show what they were.
    pub failed: usize,
    pub first_failure: Option<String>,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// Runs `load` from `connections` clients for [`RUN`] after [`WARM_UP`].
pub async fn measure(load: &Load, connections: usize) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let (warm, end) = (started + WARM_UP, started + WARM_UP + RUN);
    let sequence = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (load, sequence) = (load.clone(), sequence.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .http1_only()
                .pool_max_idle_per_host(1)
                .redirect(reqwest::redirect::Policy::none())
                .build()?;
            let (mut times, mut failures) = (Vec::new(), Vec::new());
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let answer = send(&client, &load, &sequence).await?;
                if sent >= warm {
                    match answer {
                        Ok(()) => times.push(sent.elapsed()),
                        Err(failure) => failures.push(failure),
                    }
                }
            }
            Ok::<_, anyhow::Error>((times, failures))
        }));
    }
    let (mut all, mut failures) = (Vec::new(), Vec::new());
    for task in tasks {
        let (times, failed) = task.await??;
        all.extend(times);
        failures.extend(failed);
    }
    all.sort();
    Ok(Outcome {
        requests: all.len(),
        failed: failures.len(),
        first_failure: failures.into_iter().next(),
        per_second: all.len() as f64 / RUN.as_secs_f64(),
        p50: percentile(&all, 0.50),
        p99: percentile(&all, 0.99),
    })
}

/// Sends one request: an error when the connection fails, `Err` inside when the server
/// answered with something other than success.
async fn send(
    client: &reqwest::Client,
    load: &Load,
    sequence: &AtomicU64,
) -> anyhow::Result<Result<(), String>> {
    let response = match load {
        Load::Get { url, cookie } => {
            let mut request = client.get(url);
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            request.send().await?
        }
        Load::Batch { url, token } => {
            let batch = sequence.fetch_add(1, Ordering::Relaxed);
            client
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(batch_body(batch))
                .send()
                .await?
        }
    };
    let status = response.status();
    let body = response.bytes().await?;
    if status.is_success() {
        return Ok(Ok(()));
    }
    let url = match load {
        Load::Get { url, .. } | Load::Batch { url, .. } => url,
    };
    Ok(Err(format!(
        "{url} answered {status}: {}",
        String::from_utf8_lossy(&body[..body.len().min(200)])
    )))
}

/// [`BATCH_ROWS`] timesheets never sent before (external ids from the batch's number) of the
/// client `BENCH-C` and worker `BENCH-W`, which [`prepare_feed`] creates.
fn batch_body(batch: u64) -> String {
    let rows: Vec<String> = (0..BATCH_ROWS)
        .map(|k| {
            format!(
                "{{\"external_id\": \"BENCH-{batch}-{k}\", \"worker\": \"BENCH-W\", \
                 \"client\": \"BENCH-C\", \"work_date\": \"2026-01-{:02}\", \
                 \"start_time\": \"08:00\", \"end_time\": \"16:30\", \"break_minutes\": 30, \
                 \"charge_rate_cents\": 2550, \"pay_rate_cents\": 1800}}",
                1 + k % 28
            )
        })
        .collect();
    format!("{{\"rows\": [{}]}}", rows.join(","))
}

/// The client and worker the batches refer to, created through the API.
pub async fn prepare_feed(api: &str, token: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for (path, body) in [
        (
            "clients/by-external-id/BENCH-C",
            r#"{"name": "Bench Client"}"#,
        ),
        (
            "workers/by-external-id/BENCH-W",
            r#"{"first_name": "Bench", "last_name": "Worker"}"#,
        ),
    ] {
        let response = client
            .put(format!("{api}/{path}"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("PUT {path} answered {}", response.status());
        }
    }
    Ok(())
}

/// Signs in at `/acme/{area}/login` and returns the session's `cookie` header value.
pub async fn session_cookie(
    base: &str,
    area: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    super::sign_in_at(&client, base, area, email, password).await?;
    let url: reqwest::Url = base.parse()?;
    let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &url)
        .context("signed in but no cookie was set")?;
    Ok(cookies.to_str()?.to_owned())
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
