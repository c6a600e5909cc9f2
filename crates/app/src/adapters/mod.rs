//! Adapters that need no infrastructure: the in-memory store, clocks, random sources and the
//! argon2id hasher. Exported so other crates and services can run the whole core in tests.

mod argon2_hasher;
mod clock;
mod memory;
mod random;

pub use argon2_hasher::{Argon2Bounds, Argon2Hasher, Argon2Params};
pub use clock::{ManualClock, SystemClock};
pub use memory::{
    InMemoryAuditRepository, InMemoryServerKeyRepository, InMemorySessionRepository,
    InMemorySpaceRepository, InMemoryStore, InMemoryTokenRepository,
};
pub use random::{OsRandomSource, SequentialRandomSource};
