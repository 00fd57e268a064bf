//! The plugins of one request: a snapshot of the agency's plugins taken when the request
//! starts, and the instances created for it.
//!
//! An instance is created the first time the request calls into a plugin and reused for
//! that request's later calls (a list page that asks `authorize` for 40 rows instantiates
//! once). It is dropped with the request: no instance ever serves two requests or two
//! agencies, so nothing a plugin keeps in memory can leak between them.
//!
//! Every call into a plugin runs on tokio's blocking pool, never on the threads that drive
//! requests: a plugin runs synchronously for up to its deadline, and WASI's synchronous
//! host functions (a guest printing, say) wait on a runtime of their own, which a runtime
//! thread cannot do. A panic there becomes the call's failure, named and counted.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use wasmtime::Store;

use super::bindings::{PluginError, notifications, roles};
use super::convert;
use super::engine::{CallLimits, PluginEngine};
use super::export::Export;
use super::failure::{Cause, PluginFailure};
use super::probe::Case;
use super::recorder::Recorder;
use super::registry::{AgencySet, Bound};
use super::sandbox::{self, Ctx};
use super::types::{
    AuthorizationRequest, Column, Decision, ExportFormat, Notification, NotificationEvent, Role,
};

/// What a portal user is told when a dynamic rule could not be evaluated.
pub const UNAVAILABLE_DENIAL: &str = "This could not be checked just now; please try again.";

/// A live instance of one plugin, for this request only.
struct Live {
    plugin: String,
    store: Store<Ctx>,
    roles: Option<roles::Guest>,
    notifications: Option<notifications::Guest>,
}

/// The per-request plugin handle. Take it as an extractor (`plugins: PluginRequest`) or from
/// [`super::Plugins::for_request`].
pub struct PluginRequest {
    engine: PluginEngine,
    set: Arc<AgencySet>,
    live: Vec<Live>,
    recorder: Option<Recorder>,
}

/// What a call on the blocking pool works with: the request's instances, moved there for the
/// call and back after it.
struct Calls {
    engine: PluginEngine,
    set: Arc<AgencySet>,
    live: Vec<Live>,
}

impl std::fmt::Debug for PluginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRequest")
            .field("agency", &self.set.slug)
            .field("instances", &self.live.len())
            .finish()
    }
}

/// The notifications one event produced, and the plugins that failed to answer (already
/// logged and counted; they send nothing).
#[derive(Debug, Default)]
pub struct EventOutcome {
    pub notifications: Vec<Notification>,
    pub failures: Vec<PluginFailure>,
}

impl PluginRequest {
    pub fn new(engine: PluginEngine, set: Arc<AgencySet>) -> Self {
        Self {
            engine,
            set,
            live: Vec::new(),
            recorder: None,
        }
    }

    /// Keeps this request's failed calls, with their input, through `recorder`.
    pub fn keeping_failures(mut self, recorder: Option<Recorder>) -> Self {
        self.recorder = recorder;
        self
    }

    /// Keeps a failed call with the input it was given (`portal plugin replay`).
    fn keep(&self, failure: &PluginFailure, input: impl FnOnce() -> Case) {
        if let Some(recorder) = &self.recorder {
            recorder.keep(&self.set.slug, failure, &input());
        }
    }

    /// The agency's plugins as this request sees them.
    pub fn set(&self) -> &AgencySet {
        &self.set
    }

    /// The agency's roles (cached at load: no plugin call).
    pub fn roles(&self) -> &[Role] {
        self.set.roles()
    }

    /// One role by id (cached at load: a hash look-up).
    pub fn role(&self, id: &str) -> Option<&Role> {
        self.set.role(id)
    }

    /// Number of plugin instances this request has created so far.
    pub fn instances(&self) -> usize {
        self.live.len()
    }

    /// Decides one exercise of a permission. Static roles are answered from the cached
    /// catalogue; a permission the role lists as dynamic goes to the plugin's `authorize`,
    /// and any failure of that call denies (it is logged and counted).
    pub async fn authorize(&mut self, request: &AuthorizationRequest) -> Decision {
        match self.try_authorize(request).await {
            Ok(decision) => decision,
            Err(failure) => {
                tracing::error!(agency = %self.set.slug, error = %failure, "authorization denied: the role-set plugin failed");
                Decision::Deny(UNAVAILABLE_DENIAL.into())
            }
        }
    }

    /// Like [`Self::authorize`], but tells a plugin failure apart from a denial.
    pub async fn try_authorize(
        &mut self,
        request: &AuthorizationRequest,
    ) -> Result<Decision, PluginFailure> {
        if let Some(decision) = self.static_decision(request) {
            return Ok(decision);
        }
        let bound = self.set.role_set.clone();
        let wit_request = convert::authorization_out(request);
        let answer = self
            .on_blocking_pool(bound, "authorize", move |calls, bound| {
                calls.authorize(bound, &wit_request)
            })
            .await;
        if let Err(failure) = &answer {
            self.keep(failure, || Case::authorize(request));
        }
        answer
    }

    /// The answer the role catalogue gives without the plugin: unknown role or permission not
    /// granted (deny), granted and static (allow); `None` when the plugin must be asked.
    fn static_decision(&self, request: &AuthorizationRequest) -> Option<Decision> {
        let Some(role) = self.set.role(&request.role) else {
            return Some(Decision::Deny(
                "Your role is not known to this portal.".into(),
            ));
        };
        if !role.grants(request.permission) {
            return Some(Decision::Deny("Your role does not allow this.".into()));
        }
        (!role.is_dynamic(request.permission)).then_some(Decision::Allow)
    }

    /// Decides many exercises of permissions in one trip to the blocking pool: a list page's
    /// rows. Static answers need no trip; a failure of the plugin denies that row (and, as the
    /// instance is then dropped, the rows after it are asked of a fresh one).
    pub async fn authorize_all(&mut self, requests: Vec<AuthorizationRequest>) -> Vec<Decision> {
        let mut decisions: Vec<Option<Decision>> = Vec::with_capacity(requests.len());
        let mut asked = Vec::new();
        for (index, request) in requests.iter().enumerate() {
            let decision = self.static_decision(request);
            if decision.is_none() {
                asked.push((index, convert::authorization_out(request)));
            }
            decisions.push(decision);
        }
        if !asked.is_empty() {
            let bound = self.set.role_set.clone();
            let slug = self.set.slug.clone();
            let answers = self
                .on_blocking_pool(bound, "authorize", move |calls, bound| {
                    Ok(asked
                        .into_iter()
                        .map(|(index, wit_request)| (index, calls.authorize(bound, &wit_request)))
                        .collect::<Vec<_>>())
                })
                .await
                .unwrap_or_default();
            for (index, answer) in answers {
                let decision = answer.unwrap_or_else(|failure| {
                    tracing::error!(agency = %slug, error = %failure, "authorization denied: the role-set plugin failed");
                    self.keep(&failure, || Case::authorize(&requests[index]));
                    Decision::Deny(UNAVAILABLE_DENIAL.into())
                });
                decisions[index] = Some(decision);
            }
        }
        decisions
            .into_iter()
            .map(|d| d.unwrap_or_else(|| Decision::Deny(UNAVAILABLE_DENIAL.into())))
            .collect()
    }

    /// Asks every notification plugin of the agency which notifications the event sends.
    pub async fn notifications(&mut self, event: &NotificationEvent) -> EventOutcome {
        let mut outcome = EventOutcome::default();
        let plugins = self.set.notifications.clone();
        for bound in plugins {
            let wit_event = convert::event_out(
                event,
                &self.set.slug,
                &self.set.display_name,
                &bound.settings,
            );
            let settings = bound.settings.clone();
            let answer = self
                .on_blocking_pool(bound, "on-event", move |calls, bound| {
                    let limits = CallLimits::HOOK;
                    calls.call(
                        bound,
                        "on-event",
                        limits,
                        |live| {
                            let guest = live.notifications.as_ref().ok_or("notification-rules")?;
                            Ok(guest.call_on_event(&mut live.store, &wit_event))
                        },
                        |answer| {
                            convert::notifications_in(bound.plugin.id(), answer, limits.output)
                        },
                    )
                })
                .await;
            match answer {
                Ok(mut list) => outcome.notifications.append(&mut list),
                Err(failure) => {
                    tracing::error!(agency = %self.set.slug, error = %failure, event = %event.kind, "notification plugin failed; it sends nothing for this event");
                    let agency = (self.set.slug.as_str(), self.set.display_name.as_str());
                    self.keep(&failure, || Case::on_event(event, agency, &settings));
                    outcome.failures.push(failure);
                }
            }
        }
        outcome
    }

    /// Runs `f` (one call into `bound`'s plugin) on the blocking pool with this request's
    /// instances, and takes them back. A panic on the way is that call's failure: its
    /// instances are dropped, the error counted, the request goes on.
    async fn on_blocking_pool<T: Send + 'static>(
        &mut self,
        bound: Bound,
        hook: &'static str,
        f: impl FnOnce(&mut Calls, &Bound) -> Result<T, PluginFailure> + Send + 'static,
    ) -> Result<T, PluginFailure> {
        let mut calls = Calls {
            engine: self.engine.clone(),
            set: Arc::clone(&self.set),
            live: std::mem::take(&mut self.live),
        };
        let plugin = Arc::clone(&bound.plugin);
        let joined = tokio::task::spawn_blocking(move || {
            let result = f(&mut calls, &bound);
            (calls.live, result)
        })
        .await;
        match joined {
            Ok((live, result)) => {
                self.live = live;
                result
            }
            Err(error) => {
                plugin.counters.errors.fetch_add(1, Ordering::Relaxed);
                let why = if error.is_panic() {
                    let panic = error.into_panic();
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    format!("the host panicked while running it: {message}")
                } else {
                    "the call was cancelled".to_owned()
                };
                Err(plugin.failure(hook, Cause::Trap(why)))
            }
        }
    }

    /// Starts an export in the format with this id, on a thread of its own with a fresh
    /// instance under the export limits. Feed rows with [`Export::rows`], stream the bytes
    /// from [`Export::bytes`].
    pub fn export(
        &self,
        format: &str,
        title: &str,
        columns: Vec<Column>,
    ) -> Option<(ExportFormat, Export)> {
        let (bound, found) = self.set.format(format)?;
        let export = Export::start(
            self.engine.clone(),
            bound.clone(),
            self.set.slug.clone(),
            found.id.clone(),
            title.to_owned(),
            columns,
            self.recorder.clone(),
        );
        Some((found.clone(), export))
    }
}

impl Calls {
    /// One `authorize` call into the role-set plugin.
    fn authorize(
        &mut self,
        bound: &Bound,
        request: &roles::AuthorizationRequest,
    ) -> Result<Decision, PluginFailure> {
        let limits = CallLimits::HOOK;
        self.call(
            bound,
            "authorize",
            limits,
            |live| {
                let guest = live.roles.as_ref().ok_or("role-set")?;
                Ok(guest.call_authorize(&mut live.store, request))
            },
            |answer| convert::decision_in(answer, limits.output),
        )
    }

    /// Calls into a plugin: finds or creates this request's instance of it, arms the
    /// deadline and fuel, runs `f`, checks the answer with `check`, and turns every way it can
    /// fail into a [`PluginFailure`] (logged by the caller, counted here). An instance that failed is dropped: a trapped
    /// instance cannot be entered again, and one that misbehaved is not trusted further.
    fn call<R, T>(
        &mut self,
        bound: &Bound,
        hook: &'static str,
        limits: CallLimits,
        f: impl FnOnce(&mut Live) -> Result<wasmtime::Result<Result<R, PluginError>>, &'static str>,
        check: impl FnOnce(R) -> Result<T, Cause>,
    ) -> Result<T, PluginFailure> {
        let plugin = &bound.plugin;
        plugin.counters.calls.fetch_add(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let result = self
            .call_inner(bound, hook, limits, f)
            .and_then(|answer| check(answer).map_err(|cause| plugin.failure(hook, cause)));
        plugin.counters.durations.observe(started.elapsed());
        if result.is_err() {
            plugin.counters.errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn call_inner<T>(
        &mut self,
        bound: &Bound,
        hook: &'static str,
        limits: CallLimits,
        f: impl FnOnce(&mut Live) -> Result<wasmtime::Result<Result<T, PluginError>>, &'static str>,
    ) -> Result<T, PluginFailure> {
        let index = self.instance(bound, limits)?;
        let live = &mut self.live[index];
        sandbox::arm(&mut live.store, hook, limits);
        let outcome = match f(live) {
            Ok(outcome) => outcome,
            Err(world) => {
                return Err(bound.plugin.failure(
                    hook,
                    Cause::BadAnswer(format!("the plugin does not implement {world}")),
                ));
            }
        };
        match outcome {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err(bound.plugin.failure(hook, convert::reported(error))),
            Err(error) => {
                let failure = sandbox::failure(&live.store, hook, limits, error);
                self.live.remove(index);
                Err(failure)
            }
        }
    }

    fn instance(&mut self, bound: &Bound, limits: CallLimits) -> Result<usize, PluginFailure> {
        let plugin = &bound.plugin;
        if let Some(index) = self.live.iter().position(|l| l.plugin == plugin.id()) {
            return Ok(index);
        }
        let (mut store, instance) =
            plugin.instantiate(&self.engine, &self.set.slug, &bound.granted, limits)?;
        let roles = match &plugin.roles_export {
            Some(indices) => Some(
                indices
                    .load(&mut store, &instance)
                    .map_err(|e| sandbox::failure(&store, "instantiate", limits, e))?,
            ),
            None => None,
        };
        let notifications = match &plugin.notifications_export {
            Some(indices) => Some(
                indices
                    .load(&mut store, &instance)
                    .map_err(|e| sandbox::failure(&store, "instantiate", limits, e))?,
            ),
            None => None,
        };
        self.live.push(Live {
            plugin: plugin.id().to_owned(),
            store,
            roles,
            notifications,
        });
        Ok(self.live.len() - 1)
    }
}
