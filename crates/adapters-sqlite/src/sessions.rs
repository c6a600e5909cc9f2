//! [`SessionRepository`] on the `console_sessions` and `console_nonces` tables.
//!
//! Every write is one statement on the store's one writing connection, a transaction on its
//! own: SQLite takes the write lock at the statement's start, so a nonce's claim checks that
//! its session exists and inserts in one step, and of two claims of one nonce the second finds
//! the first's row. Deleting a session deletes its nonces by the foreign key's cascade.
//! Neither a digest nor a nonce is ever a tracing field: a digest is what a session is looked
//! up by.

use async_trait::async_trait;
use time::OffsetDateTime;
use tollgate_app::ports::SessionRepository;
use tollgate_app::stored::StoredSession;
use tollgate_app::StoreError;
use tollgate_domain::{ConsoleSession, EndedSessions, FormNonce, SessionDigest};
use uuid::Uuid;

use crate::error::{store_error, write_error};
use crate::rows::Micros;
use crate::SqliteStore;

/// A new session; an existing digest changes nothing (0 rows affected).
const INSERT: &str = "INSERT INTO console_sessions (digest, token_id, created_at, last_seen_at) \
     VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING";
const GET: &str = "SELECT digest, token_id, created_at, last_seen_at \
     FROM console_sessions WHERE digest = ?";
/// A use: `last_seen_at` becomes the later of its own and the given time.
const TOUCH: &str =
    "UPDATE console_sessions SET last_seen_at = ?1 WHERE digest = ?2 AND last_seen_at < ?1";
/// Its nonces go with it (`ON DELETE CASCADE`).
const DELETE: &str = "DELETE FROM console_sessions WHERE digest = ?";
/// [`EndedSessions::contains`] in SQL, as the union of two index range reads: written as a
/// plain `OR`, SQLite (without `ANALYZE` statistics, as in every fresh file) scans the table.
const DELETE_ENDED: &str = "DELETE FROM console_sessions WHERE digest IN (\
     SELECT digest FROM console_sessions WHERE last_seen_at <= ?1 \
     UNION SELECT digest FROM console_sessions WHERE created_at <= ?2)";
/// A claim inserts nothing for an unknown session, and nothing for a nonce claimed before.
/// (The `WHERE` also keeps SQLite from reading `ON CONFLICT` as a join's `ON`.)
const CLAIM_NONCE: &str =
    "INSERT INTO console_nonces (session_digest, nonce, claimed_at) SELECT ?1, ?2, ?3 \
     WHERE EXISTS (SELECT 1 FROM console_sessions WHERE digest = ?1) \
     ON CONFLICT (session_digest, nonce) DO NOTHING";
const RELEASE_NONCE: &str = "DELETE FROM console_nonces WHERE session_digest = ? AND nonce = ?";

/// A row of `console_sessions`. No `Debug`: the digest is what finds a session.
#[derive(sqlx::FromRow)]
struct SessionRow {
    digest: Vec<u8>,
    token_id: Uuid,
    created_at: Micros,
    last_seen_at: Micros,
}

impl TryFrom<SessionRow> for ConsoleSession {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        StoredSession {
            digest: row.digest,
            token_id: row.token_id,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
        }
        .into_session()
    }
}

#[async_trait]
impl SessionRepository for SqliteStore {
    #[tracing::instrument(
        name = "sqlite.insert_session",
        level = "debug",
        skip_all,
        fields(token_id = %session.token_id())
    )]
    async fn insert(&self, session: &ConsoleSession) -> Result<bool, StoreError> {
        let done = sqlx::query(INSERT)
            .bind(session.digest().as_bytes().as_slice())
            .bind(session.token_id().as_uuid())
            .bind(Micros::of(session.created_at()))
            .bind(Micros::of(session.last_seen_at()))
            .execute(self.writer())
            .await
            .map_err(|e| {
                write_error(
                    e,
                    || "a console session with this digest exists already".to_owned(),
                    || {
                        format!(
                            "console session: token {} does not exist",
                            session.token_id()
                        )
                    },
                )
            })?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(name = "sqlite.get_session", level = "debug", skip_all)]
    async fn get(&self, digest: &SessionDigest) -> Result<Option<ConsoleSession>, StoreError> {
        sqlx::query_as::<_, SessionRow>(GET)
            .bind(digest.as_bytes().as_slice())
            .fetch_optional(self.readers())
            .await
            .map_err(store_error)?
            .map(ConsoleSession::try_from)
            .transpose()
    }

    #[tracing::instrument(name = "sqlite.touch_session", level = "debug", skip_all)]
    async fn touch(&self, digest: &SessionDigest, at: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(TOUCH)
            .bind(Micros::of(at))
            .bind(digest.as_bytes().as_slice())
            .execute(self.writer())
            .await
            .map(drop)
            .map_err(store_error)
    }

    #[tracing::instrument(name = "sqlite.delete_session", level = "debug", skip_all)]
    async fn delete(&self, digest: &SessionDigest) -> Result<(), StoreError> {
        sqlx::query(DELETE)
            .bind(digest.as_bytes().as_slice())
            .execute(self.writer())
            .await
            .map(drop)
            .map_err(store_error)
    }

    #[tracing::instrument(name = "sqlite.delete_ended_sessions", level = "debug", skip_all)]
    async fn delete_ended(&self, ended: &EndedSessions) -> Result<u64, StoreError> {
        // `rows_affected` counts the sessions only, not the nonces the cascade deleted.
        let done = sqlx::query(DELETE_ENDED)
            .bind(Micros::of(ended.last_seen_by))
            .bind(Micros::of(ended.created_by))
            .execute(self.writer())
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(name = "sqlite.claim_nonce", level = "debug", skip_all)]
    async fn claim_nonce(
        &self,
        digest: &SessionDigest,
        nonce: &FormNonce,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(CLAIM_NONCE)
            .bind(digest.as_bytes().as_slice())
            .bind(nonce.as_bytes().as_slice())
            .bind(Micros::of(at))
            .execute(self.writer())
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(name = "sqlite.release_nonce", level = "debug", skip_all)]
    async fn release_nonce(
        &self,
        digest: &SessionDigest,
        nonce: &FormNonce,
    ) -> Result<(), StoreError> {
        sqlx::query(RELEASE_NONCE)
            .bind(digest.as_bytes().as_slice())
            .bind(nonce.as_bytes().as_slice())
            .execute(self.writer())
            .await
            .map(drop)
            .map_err(store_error)
    }
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testing::TestFile;

    /// SQLite's plan of `sql`, which takes `parameters` parameters, one step a line.
    async fn plan(store: &SqliteStore, sql: &str, parameters: usize) -> String {
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
        for _ in 0..parameters {
            query = query.bind(None::<i64>);
        }
        let steps = query.fetch_all(store.readers()).await.unwrap();
        steps
            .into_iter()
            .map(|(_, _, _, step)| step)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn every_session_statement_searches_an_index_and_never_scans_a_table() {
        let store = TestFile::create().await.open().await;
        for (what, sql, parameters, uses) in [
            ("get", GET, 1, &["PRIMARY KEY"][..]),
            ("touch", TOUCH, 2, &["PRIMARY KEY"]),
            ("delete", DELETE, 1, &["PRIMARY KEY"]),
            (
                "delete ended",
                DELETE_ENDED,
                2,
                &[
                    "console_sessions_last_seen_at_idx",
                    "console_sessions_created_at_idx",
                ],
            ),
            ("claim a nonce", CLAIM_NONCE, 3, &["PRIMARY KEY"]),
            ("release a nonce", RELEASE_NONCE, 2, &["PRIMARY KEY"]),
            // The cascade from a deleted token to its sessions.
            (
                "delete a token",
                "DELETE FROM api_tokens WHERE id = ?",
                1,
                &["console_sessions_token_id_idx"],
            ),
        ] {
            let plan = plan(&store, sql, parameters).await;
            // `SCAN CONSTANT ROW` (a claim's `SELECT` of its parameters) reads no table.
            let scans = plan
                .lines()
                .any(|step| step.starts_with("SCAN ") && step != "SCAN CONSTANT ROW");
            assert!(
                uses.iter().all(|index| plan.contains(index)) && !scans,
                "{what} should search {uses:?}; plan:\n{plan}"
            );
        }
    }
}
