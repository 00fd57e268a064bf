//! `/metrics` in the Prometheus text exposition format (version 0.0.4): requests and their
//! latency per route, plugin calls, errors and durations, the email outbox by status, and
//! failed sign-ins. Counters live in this process; a scraper sums the instances.
//!
//! The figures say nothing about any person, but they do describe the installation, so
//! operators who expose the portal publicly either block `/metrics` at the load balancer or
//! turn it off (`[server] metrics = false`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use crate::db::accounts::AccountKind;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A latency histogram: cumulative counts are computed when rendered.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last slot is `+Inf`.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(BUCKETS.len());
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (index, count) in self.buckets.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let bound = BUCKETS
                .get(index)
                .map_or_else(|| "+Inf".to_owned(), f64::to_string);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{}le=\"{bound}\"}} {cumulative}",
                if labels.is_empty() { "" } else { "," }
            );
        }
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {cumulative}");
    }
}

/// One route and method: requests by status and their latency.
#[derive(Debug, Default)]
struct RouteStats {
    statuses: RwLock<BTreeMap<u16, u64>>,
    latency: Histogram,
}

/// Keyed by (route pattern, method); the pattern, never the path, so ids in URLs do not make
/// the label set grow without bound.
type Routes = RwLock<BTreeMap<(String, String), Arc<RouteStats>>>;

static ROUTES: LazyLock<Routes> = LazyLock::new(Routes::default);

/// Failed sign-ins since start, by area (`manage`, `portal`).
static SIGN_IN_FAILURES: LazyLock<RwLock<BTreeMap<&'static str, u64>>> =
    LazyLock::new(RwLock::default);

/// Connections open now, closed to make room at the cap, and refused at the cap.
static CONNECTIONS_OPEN: AtomicU64 = AtomicU64::new(0);
static CONNECTIONS_CLOSED_FOR_ROOM: AtomicU64 = AtomicU64::new(0);
static CONNECTIONS_REFUSED: AtomicU64 = AtomicU64::new(0);

pub fn connections_open(open: usize) {
    CONNECTIONS_OPEN.store(u64::try_from(open).unwrap_or(u64::MAX), Ordering::Relaxed);
}

pub fn connection_closed_for_room() {
    CONNECTIONS_CLOSED_FOR_ROOM.fetch_add(1, Ordering::Relaxed);
}

pub fn connection_refused() {
    CONNECTIONS_REFUSED.fetch_add(1, Ordering::Relaxed);
}

pub fn sign_in_failed(area: &'static str) {
    if let Ok(mut failures) = SIGN_IN_FAILURES.write() {
        *failures.entry(area).or_default() += 1;
    }
}

/// Middleware: counts every request under its route pattern (`unmatched` for a 404 that
/// matched none) and times it.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let stats = route_stats(route, method);
    stats.latency.observe(started.elapsed());
    if let Ok(mut statuses) = stats.statuses.write() {
        *statuses.entry(response.status().as_u16()).or_default() += 1;
    }
    response
}

fn route_stats(route: String, method: String) -> Arc<RouteStats> {
    let key = (route, method);
    if let Some(stats) = ROUTES
        .read()
        .ok()
        .and_then(|routes| routes.get(&key).cloned())
    {
        return stats;
    }
    match ROUTES.write() {
        Ok(mut routes) => routes.entry(key).or_default().clone(),
        Err(_) => Arc::default(),
    }
}

/// This process's counters in the Prometheus text format: requests by route, connections
/// and failed sign-ins.
pub fn render(out: &mut String) {
    render_requests(out);
    render_connections(out);
    render_sign_in_failures(out);
}

fn render_requests(out: &mut String) {
    let Ok(routes) = ROUTES.read() else { return };
    out.push_str(
        "# HELP portal_http_requests_total HTTP requests answered, by route and status.\n",
    );
    out.push_str("# TYPE portal_http_requests_total counter\n");
    for ((route, method), stats) in routes.iter() {
        let Ok(statuses) = stats.statuses.read() else {
            continue;
        };
        for (status, count) in statuses.iter() {
            let _ = writeln!(
                out,
                "portal_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {count}",
                escape(route)
            );
        }
    }
    out.push_str(
        "# HELP portal_http_request_duration_seconds Time to answer, by route, until the response head.\n",
    );
    out.push_str("# TYPE portal_http_request_duration_seconds histogram\n");
    for ((route, method), stats) in routes.iter() {
        let labels = format!("route=\"{}\",method=\"{method}\"", escape(route));
        stats
            .latency
            .render(out, "portal_http_request_duration_seconds", &labels);
    }
}

fn render_connections(out: &mut String) {
    for (name, kind, help, value) in [
        (
            "portal_connections_open",
            "gauge",
            "Client connections open now.",
            &CONNECTIONS_OPEN,
        ),
        (
            "portal_connections_closed_for_room_total",
            "counter",
            "Idle connections closed to make room at server.max_connections.",
            &CONNECTIONS_CLOSED_FOR_ROOM,
        ),
        (
            "portal_connections_refused_total",
            "counter",
            "Connections answered 503 at server.max_connections, every one serving a request.",
            &CONNECTIONS_REFUSED,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
    }
}

fn render_sign_in_failures(out: &mut String) {
    out.push_str("# HELP portal_sign_in_failures_total Failed sign-ins, by area.\n");
    out.push_str("# TYPE portal_sign_in_failures_total counter\n");
    let Ok(failures) = SIGN_IN_FAILURES.read() else {
        return;
    };
    for area in [AccountKind::Staff.area(), AccountKind::Portal.area()] {
        let count = failures.get(area).copied().unwrap_or_default();
        let _ = writeln!(
            out,
            "portal_sign_in_failures_total{{area=\"{area}\"}} {count}"
        );
    }
}

/// A label value: backslash, double quote and line feed escaped.
pub fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_renders_cumulative_buckets_sum_and_count() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(500));
        histogram.observe(Duration::from_millis(20));
        histogram.observe(Duration::from_secs(30));
        let mut out = String::new();
        histogram.render(&mut out, "h", "route=\"/x\"");
        assert!(
            out.contains("h_bucket{route=\"/x\",le=\"0.001\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("h_bucket{route=\"/x\",le=\"0.025\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("h_bucket{route=\"/x\",le=\"10\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("h_bucket{route=\"/x\",le=\"+Inf\"} 3\n"),
            "{out}"
        );
        assert!(out.contains("h_sum{route=\"/x\"} 30.0205\n"), "{out}");
        assert!(out.contains("h_count{route=\"/x\"} 3\n"), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
