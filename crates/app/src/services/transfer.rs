//! [`TransferService`]: exports a whole store, page by page, to a caller's sink, and imports a
//! whole store's contents into an empty one (`tollgate export` and `tollgate import`).

use std::sync::Arc;

use tollgate_domain::{ApiToken, AuditEvent, Space};

use crate::error::StoreError;
use crate::ports::{HashAssessment, ImportError, SecretHasher, StoreTransfer};
use crate::store_contents::{RecordCounts, StoreContents};

/// One record of an export, handed to the sink as it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportRecord<'a> {
    /// A space.
    Space(&'a Space),
    /// A token, hash included (never a secret: none is stored).
    Token(&'a ApiToken),
    /// An audit event.
    Event(&'a AuditEvent),
}

/// [`TransferService::export`] failed; what the sink took so far is an incomplete export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError<E: std::error::Error + 'static> {
    /// Reading the store failed.
    #[error("reading the store failed")]
    Store(#[source] StoreError),
    /// The sink refused a record (writing it failed).
    #[error("writing the export failed")]
    Sink(#[source] E),
}

/// Exports and imports whole stores through [`StoreTransfer`].
#[derive(Clone)]
pub struct TransferService {
    store: Arc<dyn StoreTransfer>,
    page_size: usize,
}

impl std::fmt::Debug for TransferService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferService")
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl TransferService {
    /// Records read per store call by [`TransferService::export`] unless told otherwise.
    pub const DEFAULT_PAGE_SIZE: usize = 1000;

    /// A service over `store`, exporting [`Self::DEFAULT_PAGE_SIZE`] records per page.
    #[must_use]
    pub fn new(store: Arc<dyn StoreTransfer>) -> Self {
        Self {
            store,
            page_size: Self::DEFAULT_PAGE_SIZE,
        }
    }

    /// The same service reading `page_size` records per store call (at least one).
    #[must_use]
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Hands every space, then every token, then every event of the store to `sink`, one at a
    /// time, each kind in ascending id order. Reads one page at a time, so a store of any size
    /// exports in bounded memory.
    ///
    /// The pages are read one after another, not as one snapshot: export a store that nothing
    /// writes to meanwhile (stop the servers), or the export may hold a rotation's one side and
    /// not the other, which [`StoreContents::new`] then refuses to import.
    ///
    /// # Errors
    /// [`ExportError::Store`] if the store fails, [`ExportError::Sink`] with the sink's first
    /// error. Either way the export stops there.
    #[tracing::instrument(name = "transfer.export", skip_all)]
    pub async fn export<E, S>(&self, mut sink: S) -> Result<RecordCounts, ExportError<E>>
    where
        E: std::error::Error + 'static,
        S: FnMut(ExportRecord<'_>) -> Result<(), E>,
    {
        let mut counts = RecordCounts::default();
        let limit = self.page_size;

        let mut after = None;
        loop {
            let page = self
                .store
                .export_spaces(after, limit)
                .await
                .map_err(ExportError::Store)?;
            for space in &page {
                sink(ExportRecord::Space(space)).map_err(ExportError::Sink)?;
            }
            counts.spaces += page.len();
            match page.last() {
                Some(last) if page.len() >= limit => after = Some(last.id),
                _ => break,
            }
        }

        let mut after = None;
        loop {
            let page = self
                .store
                .export_tokens(after, limit)
                .await
                .map_err(ExportError::Store)?;
            for token in &page {
                sink(ExportRecord::Token(token)).map_err(ExportError::Sink)?;
            }
            counts.tokens += page.len();
            match page.last() {
                Some(last) if page.len() >= limit => after = Some(last.id()),
                _ => break,
            }
        }

        let mut after = None;
        loop {
            let page = self
                .store
                .export_events(after, limit)
                .await
                .map_err(ExportError::Store)?;
            for event in &page {
                sink(ExportRecord::Event(event)).map_err(ExportError::Sink)?;
            }
            counts.events += page.len();
            match page.last() {
                Some(last) if page.len() >= limit => after = Some(last.id),
                _ => break,
            }
        }
        tracing::info!(
            spaces = counts.spaces,
            tokens = counts.tokens,
            events = counts.events,
            "exported"
        );
        Ok(counts)
    }

    /// Loads `contents` into the store, all or nothing, if the store is empty and `hasher`
    /// would run every token's hash ([`SecretHasher::assess`]: a hash beyond the configured
    /// argon2 bounds is a memory bomb waiting for its first verification). Hashes made with
    /// other parameters than `hasher`'s current ones are fine: they verify, and are re-hashed
    /// after their first successful verification. The contents are held whole in memory (the
    /// caller built them), which a dump of a million tokens fits in (about a kilobyte per
    /// token).
    ///
    /// # Errors
    /// [`ImportError::RefusedHash`] for a hash `hasher` refuses (checked before the store is
    /// touched), [`ImportError::NotEmpty`] for a store that holds anything,
    /// [`ImportError::Store`] if the store fails. Either way nothing was written.
    #[tracing::instrument(name = "transfer.import", skip_all)]
    pub async fn import(
        &self,
        contents: &StoreContents,
        hasher: &dyn SecretHasher,
    ) -> Result<RecordCounts, ImportError> {
        let mut refused =
            contents
                .tokens()
                .iter()
                .filter_map(|token| match hasher.assess(token.secret_hash()) {
                    HashAssessment::Refused(reason) => Some((token.id(), reason)),
                    HashAssessment::Current | HashAssessment::Outdated => None,
                });
        if let Some((token, reason)) = refused.next() {
            return Err(ImportError::RefusedHash {
                token,
                reason,
                others: refused.count(),
            });
        }
        self.store.import(contents).await?;
        let counts = contents.counts();
        tracing::info!(
            spaces = counts.spaces,
            tokens = counts.tokens,
            events = counts.events,
            "imported"
        );
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use mockall::predicate::eq;
    use tollgate_domain::{AuditAction, TokenLevel};

    use super::*;
    use crate::adapters::Argon2Hasher;
    use crate::ports::{HashRefused, MockStoreTransfer};
    use crate::testing::fixtures::{edited, event, space, space_id, token, token_id};
    use crate::testing::FakeHasher;
    use tollgate_domain::SecretHash;

    /// What a sink saw, as (kind, id number) pairs.
    fn seen(records: &Mutex<Vec<(char, u128)>>) -> Vec<(char, u128)> {
        records.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn recording(
        records: &Mutex<Vec<(char, u128)>>,
    ) -> impl FnMut(ExportRecord<'_>) -> Result<(), std::io::Error> + '_ {
        move |record| {
            let entry = match record {
                ExportRecord::Space(s) => ('s', s.id.as_uuid().as_u128()),
                ExportRecord::Token(t) => ('t', t.id().as_uuid().as_u128()),
                ExportRecord::Event(e) => ('e', e.id.as_uuid().as_u128()),
            };
            if let Ok(mut r) = records.lock() {
                r.push(entry);
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn export_reads_page_after_page_from_the_last_id_until_a_short_page() {
        let mut store = MockStoreTransfer::new();
        store
            .expect_export_spaces()
            .with(eq(None), eq(2))
            .return_once(|_, _| Ok(vec![space(1), space(2)]));
        store
            .expect_export_spaces()
            .with(eq(Some(space_id(2))), eq(2))
            .return_once(|_, _| Ok(vec![space(3)]));
        store
            .expect_export_tokens()
            .with(eq(None), eq(2))
            .return_once(|_, _| {
                Ok(vec![
                    token(1, space_id(1), TokenLevel::Client),
                    token(2, space_id(1), TokenLevel::Client),
                ])
            });
        store
            .expect_export_tokens()
            .with(eq(Some(token_id(2))), eq(2))
            .return_once(|_, _| Ok(vec![]));
        let t = token(1, space_id(1), TokenLevel::Client);
        store
            .expect_export_events()
            .with(eq(None), eq(2))
            .return_once(move |_, _| Ok(vec![event(7, AuditAction::TokenCreated, &t)]));
        let service = TransferService::new(Arc::new(store)).with_page_size(2);
        let records = Mutex::new(Vec::new());
        let counts = service
            .export(recording(&records))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            seen(&records),
            [('s', 1), ('s', 2), ('s', 3), ('t', 1), ('t', 2), ('e', 7)]
        );
        assert_eq!(
            counts,
            RecordCounts {
                spaces: 3,
                tokens: 2,
                events: 1
            }
        );
    }

    #[tokio::test]
    async fn a_failing_sink_stops_the_export_with_its_error() {
        let mut store = MockStoreTransfer::new();
        store
            .expect_export_spaces()
            .times(1)
            .return_once(|_, _| Ok(vec![space(1), space(2)]));
        store.expect_export_tokens().never();
        store.expect_export_events().never();
        let service = TransferService::new(Arc::new(store));
        let mut calls = 0;
        let outcome = service
            .export(|_| {
                calls += 1;
                Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            })
            .await;
        assert!(
            matches!(outcome, Err(ExportError::Sink(e)) if e.kind() == std::io::ErrorKind::BrokenPipe)
        );
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_failing_store_stops_the_export_with_a_store_error() {
        let mut store = MockStoreTransfer::new();
        store
            .expect_export_spaces()
            .return_once(|_, _| Ok(vec![space(1)]));
        store
            .expect_export_tokens()
            .return_once(|_, _| Err(StoreError::Unavailable("down".into())));
        store.expect_export_events().never();
        let service = TransferService::new(Arc::new(store));
        let records = Mutex::new(Vec::new());
        let outcome = service.export(recording(&records)).await;
        assert!(matches!(
            outcome,
            Err(ExportError::Store(StoreError::Unavailable(_)))
        ));
        assert_eq!(seen(&records), [('s', 1)]);
    }

    #[tokio::test]
    async fn import_passes_the_stores_refusal_on() {
        let mut store = MockStoreTransfer::new();
        store
            .expect_import()
            .times(1)
            .return_once(|_| Err(ImportError::NotEmpty));
        let service = TransferService::new(Arc::new(store));
        let contents =
            StoreContents::new(vec![space(1)], vec![], vec![]).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            service.import(&contents, &FakeHasher::new()).await,
            Err(ImportError::NotEmpty)
        ));
    }

    #[tokio::test]
    async fn import_refuses_hashes_beyond_the_bounds_before_touching_the_store() {
        let mut store = MockStoreTransfer::new();
        store.expect_import().never();
        let service = TransferService::new(Arc::new(store));
        let hasher = Argon2Hasher::for_tokens();
        let phc = |m: u32| {
            SecretHash::new(format!(
                "$argon2id$v=19$m={m},t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhcw"
            ))
        };
        let with_hash = |n, m| {
            edited(&token(n, space_id(1), TokenLevel::Client), |t| {
                t.secret_hash = phc(m);
            })
        };
        let contents = StoreContents::new(
            vec![space(1)],
            vec![
                with_hash(1, 19_456),
                with_hash(2, 4_194_304),
                with_hash(3, 1_048_576),
                with_hash(4, 64),
            ],
            vec![],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let refused = service.import(&contents, &hasher).await;
        match &refused {
            Err(ImportError::RefusedHash {
                token,
                reason: HashRefused::AboveBound { value, .. },
                others,
            }) => assert_eq!((*token, *value, *others), (token_id(2), 4_194_304, 1)),
            other => panic!("{other:?}"),
        }
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("and so is 1 more token's"), "{message}");
        assert!(
            !message.contains("aGFzaGhh"),
            "the hash is never quoted: {message}"
        );
    }
}
