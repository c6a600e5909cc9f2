//! The argon2id [`SecretHasher`], run on a pool of its own so a hash never stalls the tasks of
//! the async executor, at the lowest OS scheduling priority so that hashing (a flood of wrong
//! secrets included) only gets the CPU time that serving requests leaves.
//!
//! New hashes use [`Argon2Params::TOKENS`] unless configured otherwise (docs/security.md says
//! why a 256-bit random secret needs no password-grade cost). A stored hash carries its own
//! parameters and verifies with them, so hashes made with other parameters keep working; they
//! are [`HashAssessment::Outdated`], and re-hashed after their next successful verification.
//! A hash whose parameters exceed [`Argon2Bounds`] is refused without being run.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

use async_trait::async_trait;
use tollgate_domain::{SecretHash, TokenSecret};

use crate::ports::{HashAssessment, HashError, HashRefused, SecretHasher};

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
    /// The default for new token hashes: 64 KiB, 1 iteration, 1 lane, about 0.1 ms a hash on
    /// one core. Sized for 256-bit random secrets, which no cost makes guessable and no
    /// shortfall of cost makes guessable either (docs/security.md, "Hashing").
    pub const TOKENS: Self = Self {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    /// OWASP's recommendation for argon2id passwords: 19 MiB, 2 iterations, 1 lane (tens of
    /// milliseconds a hash). Available by configuration (`TOLLGATE_ARGON2_PRESET=owasp`).
    pub const OWASP: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// The cheapest parameters argon2 accepts. For tests only.
    pub const INSECURE_FAST_FOR_TESTS: Self = Self {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self::TOKENS
    }
}

/// The largest cost a stored or imported hash may claim: beyond any of these it is refused
/// unrun (see [`HashRefused::AboveBound`]), so a row or a dump line cannot make a
/// verification allocate gigabytes or spin for seconds. With `n` argon2 permits, hashing never
/// holds more than `n × max_memory_kib` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Bounds {
    /// Most memory, in KiB.
    pub max_memory_kib: u32,
    /// Most iterations.
    pub max_iterations: u32,
    /// Most lanes.
    pub max_parallelism: u32,
}

impl Argon2Bounds {
    /// 64 MiB, 16 iterations, 8 lanes: room for every argon2id setting OWASP lists (the largest
    /// is 46 MiB with 1 iteration) and for tollgate's own earlier default (OWASP's 19 MiB, 2
    /// iterations), so that no hash an earlier version made is refused.
    pub const DEFAULT: Self = Self {
        max_memory_kib: 65_536,
        max_iterations: 16,
        max_parallelism: 8,
    };

    /// The first parameter of `params` above its bound, as a refusal.
    fn check(&self, params: Argon2Params) -> Result<(), HashRefused> {
        let above = |parameter, value, max| {
            if value > max {
                Err(HashRefused::AboveBound {
                    parameter,
                    value,
                    max,
                })
            } else {
                Ok(())
            }
        };
        above("memory cost in KiB", params.memory_kib, self.max_memory_kib)?;
        above("iterations", params.iterations, self.max_iterations)?;
        above("lanes", params.parallelism, self.max_parallelism)
    }
}

impl Default for Argon2Bounds {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The output length, in bytes, of the hashes this hasher makes (argon2's default).
const OUTPUT_LEN: usize = 32;

/// Hashes secrets with argon2id (version 0x13) and a 128-bit random salt per secret.
#[derive(Clone)]
pub struct Argon2Hasher {
    argon2: Argon2<'static>,
    params: Argon2Params,
    bounds: Argon2Bounds,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("params", &self.params)
            .field("bounds", &self.bounds)
            .finish()
    }
}

impl Argon2Hasher {
    /// A hasher whose new hashes use `params`, within the [default bounds](Argon2Bounds::DEFAULT).
    ///
    /// # Errors
    /// [`HashError`] if argon2 rejects the parameters (memory below 8 KiB per lane, say), or
    /// they exceed the bounds.
    pub fn new(params: Argon2Params) -> Result<Self, HashError> {
        Self::with_bounds(params, Argon2Bounds::DEFAULT)
    }

    /// A hasher whose new hashes use `params` and that refuses stored hashes beyond `bounds`.
    ///
    /// # Errors
    /// [`HashError`] if argon2 rejects the parameters, or they exceed `bounds` (a hasher must
    /// accept its own hashes).
    pub fn with_bounds(params: Argon2Params, bounds: Argon2Bounds) -> Result<Self, HashError> {
        bounds.check(params).map_err(|e| HashError(Box::new(e)))?;
        let argon_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(OUTPUT_LEN),
        )
        .map_err(|e| HashError(Box::new(e)))?;
        Ok(Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params),
            params,
            bounds,
        })
    }

    /// A hasher with OWASP's parameters.
    #[must_use]
    pub fn owasp() -> Self {
        Self::new(Argon2Params::OWASP)
            .unwrap_or_else(|_| unreachable!("OWASP parameters are valid and within bounds"))
    }

    /// A hasher with the default parameters for tokens, [`Argon2Params::TOKENS`].
    #[must_use]
    pub fn for_tokens() -> Self {
        Self::new(Argon2Params::TOKENS)
            .unwrap_or_else(|_| unreachable!("the token parameters are valid and within bounds"))
    }

    /// The parameters new hashes use.
    #[must_use]
    pub const fn params(&self) -> Argon2Params {
        self.params
    }

    /// The bounds stored hashes must stay within.
    #[must_use]
    pub const fn bounds(&self) -> Argon2Bounds {
        self.bounds
    }

    /// What `phc` is to this hasher, and its parsed form unless refused.
    fn assess_phc<'a>(&self, phc: &'a str) -> Result<(PasswordHash<'a>, bool), HashRefused> {
        let parsed = PasswordHash::new(phc).map_err(|_| HashRefused::Unreadable)?;
        if parsed.algorithm != argon2::ARGON2ID_IDENT
            || parsed.version != Some(Version::V0x13.into())
            || parsed.salt.is_none()
            || parsed.hash.is_none()
        {
            return Err(HashRefused::Unreadable);
        }
        let params = Params::try_from(&parsed).map_err(|_| HashRefused::Unreadable)?;
        let stored = Argon2Params {
            memory_kib: params.m_cost(),
            iterations: params.t_cost(),
            parallelism: params.p_cost(),
        };
        self.bounds.check(stored)?;
        let current = stored == self.params
            && parsed.hash.is_some_and(|output| output.len() == OUTPUT_LEN)
            && params.keyid().is_empty()
            && params.data().is_empty();
        Ok((parsed, current))
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

    fn verify_blocking(&self, secret: &str, phc: &str) -> Result<bool, HashError> {
        // The bounds first: argon2 allocates what the hash asks for.
        let (parsed, _) = self.assess_phc(phc).map_err(|e| HashError(Box::new(e)))?;
        match self.argon2.verify_password(secret.as_bytes(), &parsed) {
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
        let (hasher, secret, phc) = (self.clone(), secret.clone(), hash.as_str().to_owned());
        off_executor(move || hasher.verify_blocking(secret.expose(), &phc)).await
    }

    fn assess(&self, hash: &SecretHash) -> HashAssessment {
        match self.assess_phc(hash.as_str()) {
            Ok((_, true)) => HashAssessment::Current,
            Ok((_, false)) => HashAssessment::Outdated,
            Err(refused) => HashAssessment::Refused(refused),
        }
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
    fn token_parameters_are_the_default_and_owasp_stays_available() {
        assert_eq!(Argon2Params::default(), Argon2Params::TOKENS);
        assert_eq!(Argon2Hasher::for_tokens().params(), Argon2Params::TOKENS);
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

    #[test]
    fn a_hasher_cannot_be_configured_beyond_its_own_bounds() {
        let bounds = Argon2Bounds {
            max_memory_kib: 1_024,
            ..Argon2Bounds::DEFAULT
        };
        assert!(Argon2Hasher::with_bounds(Argon2Params::OWASP, bounds).is_err());
        assert!(Argon2Hasher::with_bounds(Argon2Params::TOKENS, bounds).is_ok());
    }

    fn fast() -> Argon2Hasher {
        Argon2Hasher::new(Argon2Params::INSECURE_FAST_FOR_TESTS).unwrap_or_else(|_| unreachable!())
    }

    /// A hash of `secret` made with `params`.
    async fn hashed_with(params: Argon2Params, secret: &TokenSecret) -> SecretHash {
        Argon2Hasher::new(params)
            .unwrap_or_else(|_| unreachable!())
            .hash(secret)
            .await
            .unwrap_or_else(|_| unreachable!())
    }

    #[tokio::test]
    async fn a_hash_with_other_parameters_is_outdated_and_still_verifies() {
        let secret = SequentialRandomSource::new().secret();
        let owasp = hashed_with(Argon2Params::OWASP, &secret).await;
        let hasher = Argon2Hasher::for_tokens();
        assert_eq!(hasher.assess(&owasp), HashAssessment::Outdated);
        assert!(matches!(hasher.verify(&secret, &owasp).await, Ok(true)));
        let fresh = hasher
            .hash(&secret)
            .await
            .unwrap_or_else(|_| unreachable!());
        assert!(fresh.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(hasher.assess(&fresh), HashAssessment::Current);
    }

    #[tokio::test]
    async fn hashes_beyond_the_bounds_are_refused_unrun() {
        let secret = SequentialRandomSource::new().secret();
        let big = hashed_with(
            Argon2Params {
                memory_kib: 2_048,
                iterations: 3,
                parallelism: 2,
            },
            &secret,
        )
        .await;
        let tight = |bounds| {
            Argon2Hasher::with_bounds(Argon2Params::INSECURE_FAST_FOR_TESTS, bounds)
                .unwrap_or_else(|_| unreachable!())
        };
        let cases = [
            (
                Argon2Bounds {
                    max_memory_kib: 1_024,
                    ..Argon2Bounds::DEFAULT
                },
                "memory cost in KiB",
                2_048,
            ),
            (
                Argon2Bounds {
                    max_iterations: 2,
                    ..Argon2Bounds::DEFAULT
                },
                "iterations",
                3,
            ),
            (
                Argon2Bounds {
                    max_parallelism: 1,
                    ..Argon2Bounds::DEFAULT
                },
                "lanes",
                2,
            ),
        ];
        for (bounds, parameter, value) in cases {
            let hasher = tight(bounds);
            match hasher.assess(&big) {
                HashAssessment::Refused(HashRefused::AboveBound {
                    parameter: p,
                    value: v,
                    ..
                }) => assert_eq!((p, v), (parameter, value)),
                other => panic!("{parameter}: {other:?}"),
            }
            assert!(hasher.verify(&secret, &big).await.is_err(), "{parameter}");
        }
        // A memory bomb: refused before argon2 could allocate 4 GiB.
        let bomb = SecretHash::new(
            "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw"
                .into(),
        );
        assert!(matches!(
            fast().assess(&bomb),
            HashAssessment::Refused(HashRefused::AboveBound {
                value: 4_194_304,
                ..
            })
        ));
        assert!(fast().verify(&secret, &bomb).await.is_err());
    }

    #[test]
    fn hashes_of_another_kind_are_refused_as_unreadable() {
        let hasher = fast();
        for phc in [
            "garbage",
            "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw",
            "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw",
            "$argon2id$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw",
            "$argon2id$v=19$m=64,t=1,p=1",
        ] {
            assert_eq!(
                hasher.assess(&SecretHash::new(phc.into())),
                HashAssessment::Refused(HashRefused::Unreadable),
                "{phc}"
            );
        }
    }
}
