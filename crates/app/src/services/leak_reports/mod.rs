//! Leak reports, as GitHub's credential revocation API has them: anyone who finds a tollgate
//! token where it should not be (a commit, a paste, a log) reports it, unauthenticated, and every
//! reported string that is a valid token is revoked.
//!
//! [`LeakReports::report`] is the intake, and answers once the offline pass is done: each string
//! is checked for its format and checksum ([`PresentedToken::parse`]), so junk costs no store
//! access and nothing more; the report is charged to its client address, one cell per
//! credential ([`ReportLimit`]); the well-formed candidates go to a bounded queue, and the
//! answer is the same whatever the strings were. The [`LeakWorker`] then verifies the
//! candidates one at a time, as a request's token is verified (the same verifier, cache, lanes,
//! argon2 permits and brute-force limits), and revokes each valid one by the normal revocation
//! path, with a `token.revoked` event by `leak_report`.
//!
//! A report that does not fit in the queue is refused whole ([`ReportLeakError::QueueFull`]),
//! never dropped in part: the reporter hears that it must try again, rather than believing a
//! leak dealt with. The queue lives in memory: what is queued when the process stops is lost.

mod limit;
mod worker;

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use self::limit::ReportLimiter;
use super::verify::PresentedToken;
use super::TokenService;
use crate::auth_limits::AuthLimits;

pub use self::limit::{ReportLimit, DEFAULT_REPORTED_PER_ADDRESS};
pub use self::worker::{CandidateOutcome, LeakWorker};

/// The most credentials one report may carry (as GitHub's API).
pub const MAX_CREDENTIALS_PER_REPORT: usize = 1000;

/// How many candidates wait for verification at most, by default: ten full reports of
/// well-formed strings, a few megabytes.
pub const DEFAULT_QUEUE_CAPACITY: usize = 10_000;

/// How leak reports are taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeakReportConfig {
    /// Most candidates waiting for verification; a report whose candidates do not fit is
    /// refused whole.
    pub queue_capacity: usize,
    /// How many credentials one client address may report (`None`: no limit).
    pub per_address: Option<ReportLimit>,
}

impl Default for LeakReportConfig {
    fn default() -> Self {
        Self {
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            per_address: Some(DEFAULT_REPORTED_PER_ADDRESS),
        }
    }
}

/// Why a report was refused. Nothing of it was queued, and nothing in it depends on whether
/// any string was a token.
#[derive(Debug, thiserror::Error)]
pub enum ReportLeakError {
    /// No credential, or more than [`MAX_CREDENTIALS_PER_REPORT`].
    #[error("a report carries 1 to {max} credentials")]
    CredentialCount {
        /// [`MAX_CREDENTIALS_PER_REPORT`].
        max: usize,
    },
    /// The client address reported more credentials than its limit allows now.
    #[error("too many credentials reported from this address")]
    TooManyCredentials {
        /// Whole seconds until a report of this size fits (at least 1).
        retry_after_secs: u64,
    },
    /// The queue has no room for this report's candidates now.
    #[error("the queue of reported credentials is full")]
    QueueFull,
}

/// A well-formed reported string, waiting to be verified.
struct Candidate {
    presented: PresentedToken,
    /// Who reported it: its failures count against this address, as a request's would.
    address: Option<IpAddr>,
}

/// The intake of leak reports. Cheap to clone; every clone feeds the same queue.
#[derive(Clone)]
pub struct LeakReports(Arc<Intake>);

struct Intake {
    queue: mpsc::Sender<Candidate>,
    limiter: Option<Arc<ReportLimiter>>,
    /// The worker, until the first report starts it on that report's runtime.
    idle_worker: Mutex<Option<LeakWorker>>,
}

impl fmt::Debug for LeakReports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeakReports")
            .field(
                "queued",
                &(self.0.queue.max_capacity() - self.0.queue.capacity()),
            )
            .finish_non_exhaustive()
    }
}

impl LeakReports {
    /// An intake whose worker starts on the tokio runtime of the first report and runs until
    /// every clone of the intake is dropped. Its candidates are verified with `tokens`' verifier
    /// under `limits` (the node's brute-force limits; `None`: none) and revoked through `tokens`.
    #[must_use]
    pub fn new(
        tokens: TokenService,
        limits: Option<AuthLimits>,
        config: &LeakReportConfig,
    ) -> Self {
        let (intake, worker) = Self::with_worker(tokens, limits, config);
        *intake.idle_worker() = Some(worker);
        intake
    }

    /// An intake and its worker, for the caller to run ([`LeakWorker::run`]) or to drive one
    /// candidate at a time (tests).
    #[must_use]
    pub fn with_worker(
        tokens: TokenService,
        limits: Option<AuthLimits>,
        config: &LeakReportConfig,
    ) -> (Self, LeakWorker) {
        let (queue, candidates) = mpsc::channel(config.queue_capacity.max(1));
        let intake = Self(Arc::new(Intake {
            queue,
            limiter: config
                .per_address
                .map(|limit| Arc::new(ReportLimiter::new(limit))),
            idle_worker: Mutex::new(None),
        }));
        (intake, LeakWorker::new(candidates, tokens, limits))
    }

    /// Takes in a report of `credentials` from `address` (`None` if unknown): checks each
    /// string offline (surrounding white space ignored), charges the address one credential
    /// each, junk included, and queues the distinct well-formed ones for the worker. Neither
    /// the answer nor the work done before it depends on whether a string is a token; only on
    /// how many strings are well formed, which anyone can tell offline.
    ///
    /// # Errors
    /// [`ReportLeakError`]; then nothing was queued or charged.
    #[tracing::instrument(skip_all, fields(credentials = credentials.len()))]
    pub fn report(
        &self,
        credentials: &[impl AsRef<str>],
        address: Option<IpAddr>,
    ) -> Result<(), ReportLeakError> {
        if credentials.is_empty() || credentials.len() > MAX_CREDENTIALS_PER_REPORT {
            return Err(ReportLeakError::CredentialCount {
                max: MAX_CREDENTIALS_PER_REPORT,
            });
        }
        let mut seen = HashSet::with_capacity(credentials.len());
        let candidates: Vec<PresentedToken> = credentials
            .iter()
            .filter_map(|raw| PresentedToken::parse(raw.as_ref().trim()).ok())
            .filter(|presented| seen.insert(*presented.digest()))
            .collect();
        // Room first, then the charge: a report refused for want of room costs its reporter
        // nothing of its allowance.
        let permits = if candidates.is_empty() {
            None
        } else {
            Some(
                self.0
                    .queue
                    .try_reserve_many(candidates.len())
                    .map_err(|_| ReportLeakError::QueueFull)?,
            )
        };
        if let Some(limiter) = &self.0.limiter {
            let charged = u32::try_from(credentials.len()).unwrap_or(u32::MAX);
            limiter.take(address, charged).map_err(|retry_after_secs| {
                ReportLeakError::TooManyCredentials { retry_after_secs }
            })?;
        }
        let queued = candidates.len();
        if let Some(permits) = permits {
            for (permit, presented) in permits.zip(candidates) {
                permit.send(Candidate { presented, address });
            }
        }
        self.start_worker();
        tracing::debug!(queued, "leak report accepted");
        Ok(())
    }

    fn idle_worker(&self) -> std::sync::MutexGuard<'_, Option<LeakWorker>> {
        self.0
            .idle_worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the worker on the current runtime if it is still idle (outside a runtime it
    /// waits for a report made inside one).
    fn start_worker(&self) {
        let mut idle = self.idle_worker();
        if idle.is_none() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            if let Some(worker) = idle.take() {
                runtime.spawn(worker.run());
            }
        }
    }
}
