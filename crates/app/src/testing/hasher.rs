//! [`FakeHasher`]: one configurable stand-in for argon2 in tests. It hashes in no time, checks
//! secrets truthfully, and can hold every verification at a gate the test opens, fail on
//! demand, count what it was asked, and play a hasher whose parameters changed (its hashes
//! carry a generation; another generation's are outdated to it).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tokio::sync::{watch, Semaphore};
use tollgate_domain::{SecretHash, TokenSecret};

use crate::ports::{HashAssessment, HashError, SecretHasher};

/// Where a fake hash starts; anything else is not one of its hashes. Generation 1 hashes are
/// `$fake-sha256$<hex>`, generation `n` ones `$fake-sha256$g<n>$<hex>`.
const PREFIX: &str = "$fake-sha256$";

/// A fast, deterministic [`SecretHasher`] for tests. Never use it outside tests: its hashes are
/// unsalted digests.
#[derive(Debug)]
pub struct FakeHasher {
    /// `None`: verifications run at once. `Some`: each waits for a permit the test adds.
    gate: Option<Semaphore>,
    failing: bool,
    started: watch::Sender<usize>,
    running: AtomicUsize,
    max_running: AtomicUsize,
    hashed: AtomicUsize,
    checked: Mutex<Vec<SecretHash>>,
    generation: u32,
}

impl Default for FakeHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeHasher {
    /// A hasher whose verifications answer at once.
    #[must_use]
    pub fn new() -> Self {
        Self {
            gate: None,
            failing: false,
            started: watch::Sender::new(0),
            running: AtomicUsize::new(0),
            max_running: AtomicUsize::new(0),
            hashed: AtomicUsize::new(0),
            checked: Mutex::default(),
            generation: 1,
        }
    }

    /// A hasher whose new hashes are of `generation` (at least 1; [`Self::new`]'s are 1): the
    /// hashes of every other generation verify, and are [`HashAssessment::Outdated`] to it.
    #[must_use]
    pub fn of_generation(generation: u32) -> Self {
        Self {
            generation: generation.max(1),
            ..Self::new()
        }
    }

    /// The generation of a fake hash, and its digest; `None` for anything else.
    fn parse(hash: &SecretHash) -> Option<(u32, &str)> {
        let rest = hash.as_str().strip_prefix(PREFIX)?;
        match rest.strip_prefix('g').and_then(|r| r.split_once('$')) {
            Some((generation, digest)) => Some((generation.parse().ok()?, digest)),
            None => Some((1, rest)),
        }
    }

    /// A hasher whose verifications each wait until the test [`open`](Self::open)s the gate
    /// for them, as argon2 keeps its core whether or not anyone still waits for the answer.
    #[must_use]
    pub fn gated() -> Self {
        Self {
            gate: Some(Semaphore::new(0)),
            ..Self::new()
        }
    }

    /// A hasher whose every call fails (a worker that died, a hash it cannot read).
    #[must_use]
    pub fn failing() -> Self {
        Self {
            failing: true,
            ..Self::new()
        }
    }

    /// Lets `n` more gated verifications finish.
    pub fn open(&self, n: usize) {
        if let Some(gate) = &self.gate {
            gate.add_permits(n);
        }
    }

    /// Waits until at least `n` verifications have started.
    pub async fn wait_started(&self, n: usize) {
        let mut started = self.started.subscribe();
        // The sender lives as long as `self`, so this cannot fail while we borrow it.
        let _ = started.wait_for(|&count| count >= n).await;
    }

    /// How many verifications have started.
    #[must_use]
    pub fn started(&self) -> usize {
        *self.started.borrow()
    }

    /// The most verifications that ran at once.
    #[must_use]
    pub fn max_running(&self) -> usize {
        self.max_running.load(Ordering::SeqCst)
    }

    /// How many secrets were hashed.
    #[must_use]
    pub fn hashed(&self) -> usize {
        self.hashed.load(Ordering::SeqCst)
    }

    /// The stored hashes that verifications were checked against, in order.
    #[must_use]
    pub fn checked(&self) -> Vec<SecretHash> {
        self.checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn hex_digest(secret: &TokenSecret) -> String {
        let digest = Sha256::digest(secret.expose().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn digest(&self, secret: &TokenSecret) -> SecretHash {
        let hex = Self::hex_digest(secret);
        SecretHash::new(match self.generation {
            1 => format!("{PREFIX}{hex}"),
            n => format!("{PREFIX}g{n}${hex}"),
        })
    }

    fn failure() -> HashError {
        HashError("the fake hasher was told to fail".into())
    }
}

#[async_trait]
impl SecretHasher for FakeHasher {
    async fn hash(&self, secret: &TokenSecret) -> Result<SecretHash, HashError> {
        if self.failing {
            return Err(Self::failure());
        }
        self.hashed.fetch_add(1, Ordering::SeqCst);
        Ok(self.digest(secret))
    }

    async fn verify(&self, secret: &TokenSecret, hash: &SecretHash) -> Result<bool, HashError> {
        self.checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(hash.clone());
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(running, Ordering::SeqCst);
        self.started.send_modify(|count| *count += 1);
        if let Some(gate) = &self.gate {
            if let Ok(permit) = gate.acquire().await {
                permit.forget();
            }
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        if self.failing {
            return Err(Self::failure());
        }
        Ok(Self::parse(hash).is_some_and(|(_, digest)| digest == Self::hex_digest(secret)))
    }

    /// Another generation's fake hash is outdated; a fake hash of this one, and anything that
    /// is no fake hash at all (which then fails to verify, as a wrong secret does), current.
    fn assess(&self, hash: &SecretHash) -> HashAssessment {
        match Self::parse(hash) {
            Some((generation, _)) if generation != self.generation => HashAssessment::Outdated,
            _ => HashAssessment::Current,
        }
    }
}
