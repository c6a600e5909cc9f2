//! [`SessionRepository`] on the `console_sessions` and `console_nonces` tables.
//!
//! Every method is one statement, atomic on its own. Of two concurrent claims of one nonce,
//! the primary key lets one insert and makes the other wait for it and then do nothing.
//! Deleting a session deletes its nonces by the foreign key's cascade. Neither a digest nor a
//! nonce is ever a tracing field: a digest is what a session is looked up by.

use async_trait::async_trait;
use time::OffsetDateTime;
use tollgate_app::ports::SessionRepository;
use tollgate_app::stored::StoredSession;
use tollgate_app::StoreError;
use tollgate_domain::{ConsoleSession, EndedSessions, FormNonce, SessionDigest};
use uuid::Uuid;

use crate::error::{constraint, store_error, violated_constraint};
use crate::rows::PgTimestamp;
use crate::PgStore;

/// A new session; an existing digest changes nothing (0 rows affected).
pub(crate) const INSERT: &str =
    "INSERT INTO console_sessions (digest, token_id, created_at, last_seen_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING";
pub(crate) const GET: &str = "SELECT digest, token_id, created_at, last_seen_at \
     FROM console_sessions WHERE digest = $1";
/// A use: `last_seen_at` becomes the later of its own and the given time.
pub(crate) const TOUCH: &str =
    "UPDATE console_sessions SET last_seen_at = $2 WHERE digest = $1 AND last_seen_at < $2";
/// Its nonces go with it (`ON DELETE CASCADE`).
pub(crate) const DELETE: &str = "DELETE FROM console_sessions WHERE digest = $1";
/// [`EndedSessions::contains`] in SQL: a bitmap OR of the two timestamp indexes.
pub(crate) const DELETE_ENDED: &str =
    "DELETE FROM console_sessions WHERE last_seen_at <= $1 OR created_at <= $2";
/// A claim inserts nothing for an unknown session, and nothing for a nonce claimed before.
pub(crate) const CLAIM_NONCE: &str =
    "INSERT INTO console_nonces (session_digest, nonce, claimed_at) \
     SELECT $1::bytea, $2::bytea, $3::timestamptz \
     WHERE EXISTS (SELECT 1 FROM console_sessions WHERE digest = $1::bytea) \
     ON CONFLICT (session_digest, nonce) DO NOTHING";
pub(crate) const RELEASE_NONCE: &str =
    "DELETE FROM console_nonces WHERE session_digest = $1 AND nonce = $2";

/// A row of `console_sessions`. No `Debug`: the digest is what finds a session.
#[derive(sqlx::FromRow)]
struct SessionRow {
    digest: Vec<u8>,
    token_id: Uuid,
    created_at: PgTimestamp,
    last_seen_at: PgTimestamp,
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
impl SessionRepository for PgStore {
    #[tracing::instrument(
        name = "pg.insert_session",
        level = "debug",
        skip_all,
        fields(token_id = %session.token_id())
    )]
    async fn insert(&self, session: &ConsoleSession) -> Result<bool, StoreError> {
        let inserted = sqlx::query(INSERT)
            .bind(session.digest().as_bytes().as_slice())
            .bind(session.token_id().as_uuid())
            .bind(session.created_at())
            .bind(session.last_seen_at())
            .execute(self.pool())
            .await;
        match inserted {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(e) if violated_constraint(&e) == Some(constraint::SESSIONS_TOKEN_FKEY) => {
                Err(StoreError::Failed(
                    format!(
                        "console session: token {} does not exist",
                        session.token_id()
                    )
                    .into(),
                ))
            }
            Err(e) => Err(store_error(e)),
        }
    }

    #[tracing::instrument(name = "pg.get_session", level = "debug", skip_all)]
    async fn get(&self, digest: &SessionDigest) -> Result<Option<ConsoleSession>, StoreError> {
        sqlx::query_as::<_, SessionRow>(GET)
            .bind(digest.as_bytes().as_slice())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?
            .map(ConsoleSession::try_from)
            .transpose()
    }

    #[tracing::instrument(name = "pg.touch_session", level = "debug", skip_all)]
    async fn touch(&self, digest: &SessionDigest, at: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(TOUCH)
            .bind(digest.as_bytes().as_slice())
            .bind(at)
            .execute(self.pool())
            .await
            .map(drop)
            .map_err(store_error)
    }

    #[tracing::instrument(name = "pg.delete_session", level = "debug", skip_all)]
    async fn delete(&self, digest: &SessionDigest) -> Result<(), StoreError> {
        sqlx::query(DELETE)
            .bind(digest.as_bytes().as_slice())
            .execute(self.pool())
            .await
            .map(drop)
            .map_err(store_error)
    }

    #[tracing::instrument(name = "pg.delete_ended_sessions", level = "debug", skip_all)]
    async fn delete_ended(&self, ended: &EndedSessions) -> Result<u64, StoreError> {
        // `rows_affected` counts the sessions only, not the nonces the cascade deleted.
        let done = sqlx::query(DELETE_ENDED)
            .bind(ended.last_seen_by)
            .bind(ended.created_by)
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(name = "pg.claim_nonce", level = "debug", skip_all)]
    async fn claim_nonce(
        &self,
        digest: &SessionDigest,
        nonce: &FormNonce,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query(CLAIM_NONCE)
            .bind(digest.as_bytes().as_slice())
            .bind(nonce.as_bytes().as_slice())
            .bind(at)
            .execute(self.pool())
            .await;
        match claimed {
            Ok(done) => Ok(done.rows_affected() == 1),
            // The session was there when the statement began and deleted before its key was
            // checked: it does not exist, as the port counts it.
            Err(e) if violated_constraint(&e) == Some(constraint::NONCES_SESSION_FKEY) => Ok(false),
            Err(e) => Err(store_error(e)),
        }
    }

    #[tracing::instrument(name = "pg.release_nonce", level = "debug", skip_all)]
    async fn release_nonce(
        &self,
        digest: &SessionDigest,
        nonce: &FormNonce,
    ) -> Result<(), StoreError> {
        sqlx::query(RELEASE_NONCE)
            .bind(digest.as_bytes().as_slice())
            .bind(nonce.as_bytes().as_slice())
            .execute(self.pool())
            .await
            .map(drop)
            .map_err(store_error)
    }
}
