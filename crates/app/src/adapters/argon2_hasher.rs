//! The argon2id [`SecretHasher`], run on a pool of its own so a 20+ ms hash never stalls the
//! tasks of the async executor, at the lowest OS scheduling priority so that hashing (a flood of
//! wrong secrets included) only gets the CPU time that serving requests leaves.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

use async_trait::async_trait;
use tollgate_domain::{SecretHash, TokenSecret};

use crate::ports::{HashError, SecretHasher};

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Argon2Params {
    /// OWASP's recommendation for argon2id: 19 MiB, 2 iterations, 1 lane.
    pub const OWASP: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// The cheapest parameters argon2 accepts. For tests only: they protect nothing.
    pub const INSECURE_FAST_FOR_TESTS: Self = Self {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self::OWASP
    }
}

/// Hashes secrets with argon2id (version 0x13) and a 128-bit random salt per secret.
#[derive(Clone)]
pub struct Argon2Hasher {
    argon2: Argon2<'static>,
    params: Argon2Params,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("params", &self.params)
            .finish()
    }
}

impl Argon2Hasher {
    /// A hasher with these parameters.
    ///
    /// # Errors
    /// [`HashError`] if argon2 rejects the parameters (memory below 8 KiB per lane, say).
    pub fn new(params: Argon2Params) -> Result<Self, HashError> {
        let argon_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| HashError(Box::new(e)))?;
        Ok(Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params),
            params,
        })
    }

    /// A hasher with OWASP's parameters.
    #[must_use]
    pub fn owasp() -> Self {
        Self::new(Argon2Params::OWASP)
            .unwrap_or_else(|_| unreachable!("OWASP parameters are valid"))
    }

    /// The parameters new hashes use.
    #[must_use]
    pub const fn params(&self) -> Argon2Params {
        self.params
    }

    fn hash_blocking(argon2: &Argon2<'_>, secret: &str) -> Result<SecretHash, HashError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| HashError(Box::new(e)))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(Box::new(e)))?;
        let hash = argon2
            .hash_password(secret.as_bytes(), &salt)
            .map_err(|e| HashError(Box::new(e)))?;
        Ok(SecretHash::new(hash.to_string()))
    }

    fn verify_blocking(argon2: &Argon2<'_>, secret: &str, phc: &str) -> Result<bool, HashError> {
        let parsed = PasswordHash::new(phc).map_err(|e| HashError(Box::new(e)))?;
        match argon2.verify_password(secret.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::Password) => Ok(false),
            Err(e) => Err(HashError(Box::new(e))),
        }
    }
}

/// The threads argon2 runs on: one per core, each lowered to the minimum scheduling priority
/// (niceness 19 on Linux) when it starts. `None` if the pool could not be started, in which case
/// hashing falls back to tokio's blocking pool at normal priority.
fn hashing_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("tollgate-argon2-{i}"))
            .start_handler(|_| {
                let lowest = thread_priority::ThreadPriority::Min;
                if let Err(error) = thread_priority::set_current_thread_priority(lowest) {
                    tracing::warn!(?error, "could not lower the priority of an argon2 thread");
                }
            })
            .build()
            .map_err(|error| tracing::warn!(%error, "no argon2 pool; hashing on the blocking pool"))
            .ok()
    })
    .as_ref()
}

async fn off_executor<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
) -> Result<T, HashError> {
    let Some(pool) = hashing_pool() else {
        return tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| HashError(Box::new(e)))?;
    };
    let (done, result) = tokio::sync::oneshot::channel();
    pool.spawn(move || {
        // The receiver is gone only if the request was dropped: nobody needs the result.
        let _ = done.send(work());
    });
    result.await.map_err(|e| HashError(Box::new(e)))?
}

#[async_trait]
impl SecretHasher for Argon2Hasher {
    async fn hash(&self, secret: &TokenSecret) -> Result<SecretHash, HashError> {
        // The secret travels to the hashing thread as a `TokenSecret`, which wipes its memory
        // when dropped; argon2 wipes its own memory blocks (its `zeroize` feature).
        let (argon2, secret) = (self.argon2.clone(), secret.clone());
        off_executor(move || Self::hash_blocking(&argon2, secret.expose())).await
    }

    async fn verify(&self, secret: &TokenSecret, hash: &SecretHash) -> Result<bool, HashError> {
        let (argon2, secret, phc) = (
            self.argon2.clone(),
            secret.clone(),
            hash.as_str().to_owned(),
        );
        off_executor(move || Self::verify_blocking(&argon2, secret.expose(), &phc)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::SequentialRandomSource;
    use crate::ports::RandomSource;

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_configured_parameters_and_verify() {
        let hasher = Argon2Hasher::new(Argon2Params::INSECURE_FAST_FOR_TESTS)
            .unwrap_or_else(|_| unreachable!());
        let random = SequentialRandomSource::new();
        let (secret, other) = (random.secret(), random.secret());
        let hash = hasher
            .hash(&secret)
            .await
            .unwrap_or_else(|_| unreachable!());
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
        assert!(!hash.as_str().contains(secret.expose()));
        assert!(matches!(hasher.verify(&secret, &hash).await, Ok(true)));
        assert!(matches!(hasher.verify(&other, &hash).await, Ok(false)));
    }

    #[tokio::test]
    async fn the_same_secret_hashes_differently_each_time() {
        let hasher = Argon2Hasher::new(Argon2Params::INSECURE_FAST_FOR_TESTS)
            .unwrap_or_else(|_| unreachable!());
        let secret = SequentialRandomSource::new().secret();
        let (a, b) = (hasher.hash(&secret).await, hasher.hash(&secret).await);
        assert_ne!(a.ok(), b.ok());
    }

    #[tokio::test]
    async fn a_stored_hash_that_is_not_a_phc_string_is_an_error_not_a_match() {
        let hasher = Argon2Hasher::new(Argon2Params::INSECURE_FAST_FOR_TESTS)
            .unwrap_or_else(|_| unreachable!());
        let secret = SequentialRandomSource::new().secret();
        assert!(hasher
            .verify(&secret, &SecretHash::new("garbage".into()))
            .await
            .is_err());
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn argon2_runs_on_threads_of_the_lowest_priority() {
        let hasher = Argon2Hasher::new(Argon2Params::INSECURE_FAST_FOR_TESTS)
            .unwrap_or_else(|_| unreachable!());
        let _ = hasher.hash(&SequentialRandomSource::new().secret()).await;
        // A thread is named before its start handler lowers its priority; a broadcast runs on
        // every thread of the pool, hence after every start handler.
        if let Some(pool) = hashing_pool() {
            pool.broadcast(|_| ());
        }
        let mut found = 0;
        for task in std::fs::read_dir("/proc/self/task")
            .into_iter()
            .flatten()
            .flatten()
        {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if !comm.starts_with("tollgate-argon2") {
                continue;
            }
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            // Fields after the command name (which ends with ')'): niceness is the 17th of them.
            let nice = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().nth(16))
                .unwrap_or("?")
                .to_owned();
            assert_eq!(nice, "19", "{comm}");
            found += 1;
        }
        assert!(found >= 1, "no argon2 thread found");
    }

    #[test]
    fn owasp_parameters_are_the_default() {
        assert_eq!(
            Argon2Hasher::owasp().params(),
            Argon2Params {
                memory_kib: 19_456,
                iterations: 2,
                parallelism: 1
            }
        );
        assert!(Argon2Hasher::new(Argon2Params {
            memory_kib: 1,
            iterations: 1,
            parallelism: 1
        })
        .is_err());
    }
}
