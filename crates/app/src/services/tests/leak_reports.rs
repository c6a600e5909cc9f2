//! Leak reports: the intake answers after the offline pass, junk never reaches the store, the
//! queue and the per-address limit refuse a report whole, and the worker revokes exactly the
//! valid tokens, through the verifier and the brute-force limits.
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration as StdDuration;

use super::*;
use crate::adapters::InMemoryStore;
use crate::auth_limits::{AuthFailureLimit, AuthLimits, LimitedVerifyError};

const REPORTER: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)));

fn config(queue_capacity: usize, per_address: Option<ReportLimit>) -> LeakReportConfig {
    LeakReportConfig {
        queue_capacity,
        per_address,
    }
}

/// A core on the in-memory store, whose store the test can read.
async fn core_and_store(hasher: Arc<dyn SecretHasher>) -> (Core, InMemoryStore) {
    let test = TestCore::with_hasher(hasher);
    let store = test.store.clone();
    (core_over(test).await, store)
}

fn intake(core: &Core, limits: Option<AuthLimits>) -> (LeakReports, LeakWorker) {
    LeakReports::with_worker(core.tokens.clone(), limits, &LeakReportConfig::default())
}

/// `issued`'s token string with another secret: well formed, its id real, its secret wrong.
fn forged(issued: &IssuedToken) -> String {
    let token = issued.token();
    let secret = OsRandomSource.secret();
    TokenString::new(token.scope().kind(), token.id(), &secret)
        .expose()
        .to_owned()
}

fn junk() -> Vec<String> {
    let real_looking = format!("tgc_{}", "A".repeat(71));
    vec![
        String::new(),
        "hello".to_owned(),
        real_looking,
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789".to_owned(),
    ]
}

async fn events_of(core: &Core, space: SpaceId) -> Vec<tollgate_domain::AuditEvent> {
    core.tokens
        .list_events(&core.admin, space, PageRequest::default())
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn a_reported_token_is_revoked_with_an_event_by_leak_report() {
    let (core, _) = core_and_store(Arc::new(FakeHasher::new())).await;
    let space = core.space("a").await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let (reports, mut worker) = intake(&core, None);

    reports
        .report(&[client.secret().expose()], REPORTER)
        .unwrap();
    assert_eq!(
        worker.check_queued().await,
        [CandidateOutcome::Revoked(client.token().id())]
    );

    let events = events_of(&core, space).await;
    let revoked = &events[0];
    assert_eq!(revoked.action, tollgate_domain::AuditAction::TokenRevoked);
    assert_eq!(revoked.actor, CreatedBy::LeakReport);
    assert!(core.tokens.verify(client.secret().expose()).await.is_err());
    assert_eq!(revoked.token_id, Some(client.token().id()));
    assert_eq!(revoked.via_token_id, None);
    // The report's check is no use of the token: the reporter's address is nobody's business,
    // least of all the space admins'.
    core.tokens.verifier().flush_last_used().await.unwrap();
    let read = core
        .tokens
        .get(&core.admin, space, client.token().id())
        .await
        .unwrap();
    assert_eq!(
        (read.token.last_used_at(), read.token.last_used_ip()),
        (None, None)
    );
}

#[tokio::test]
async fn tokens_of_every_kind_are_revoked_even_the_last_instance_admin_token() {
    let (core, store) = core_and_store(Arc::new(FakeHasher::new())).await;
    let space = core.space("a").await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let admin = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let (reports, mut worker) = intake(&core, None);

    let reported = [
        client.secret().expose(),
        admin.secret().expose(),
        core.admin_token.as_str(),
    ];
    reports.report(&reported, REPORTER).unwrap();
    let instance_id = tollgate_domain::ParsedToken::parse(&core.admin_token)
        .unwrap()
        .id();
    assert_eq!(
        worker.check_queued().await,
        [
            CandidateOutcome::Revoked(client.token().id()),
            CandidateOutcome::Revoked(admin.token().id()),
            CandidateOutcome::Revoked(instance_id),
        ]
    );
    for string in reported {
        assert!(core.tokens.verify(string).await.is_err());
    }
    let instance = store.tokens.get(instance_id).await.unwrap().unwrap();
    assert!(
        instance.revoked_at().is_some(),
        "the last instance admin token"
    );
    // A store that had an instance admin token gets no fresh one at the next start.
    assert!(core.tokens.ensure_instance_admin().await.unwrap().is_none());
}

#[tokio::test]
async fn junk_is_never_queued_and_costs_no_store_access() {
    // Any call to this store fails the test.
    let tokens = service(MockTokenRepository::new(), fake(FakeHasher::new()), clock()).await;
    let (reports, mut worker) =
        LeakReports::with_worker(tokens, None, &LeakReportConfig::default());
    reports.report(&junk(), REPORTER).unwrap();
    assert_eq!(worker.check_queued().await, []);
}

#[tokio::test]
async fn a_wrong_secret_for_a_real_id_revokes_nothing() {
    let hasher = fake(FakeHasher::new());
    let (core, _) = core_and_store(hasher.clone()).await;
    let space = core.space("a").await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let events_before = events_of(&core, space).await;
    let (reports, mut worker) = intake(&core, None);

    reports.report(&[forged(&client)], REPORTER).unwrap();
    assert_eq!(worker.check_queued().await, [CandidateOutcome::NotValid]);
    // It was checked against the real token's hash, and nothing changed.
    assert_eq!(hasher.checked().last(), Some(client.token().secret_hash()));
    assert!(core.tokens.verify(client.secret().expose()).await.is_ok());
    assert_eq!(events_of(&core, space).await, events_before);
}

#[tokio::test]
async fn each_distinct_candidate_is_verified_once_and_white_space_around_it_is_ignored() {
    let (core, _) = core_and_store(Arc::new(FakeHasher::new())).await;
    let space = core.space("a").await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let (reports, mut worker) = intake(&core, None);
    let string = client.secret().expose();
    let padded = format!("  {string}\n");
    reports
        .report(&[string, string, padded.as_str()], REPORTER)
        .unwrap();
    assert_eq!(
        worker.check_queued().await,
        [CandidateOutcome::Revoked(client.token().id())]
    );
}

#[tokio::test]
async fn a_report_must_carry_1_to_1000_credentials() {
    let core = core().await;
    let (reports, mut worker) = intake(&core, None);
    let none: [&str; 0] = [];
    let too_many = vec![core.admin_token.clone(); MAX_CREDENTIALS_PER_REPORT + 1];
    for credentials in [
        &none[..],
        &too_many.iter().map(String::as_str).collect::<Vec<_>>(),
    ] {
        assert!(matches!(
            reports.report(credentials, REPORTER),
            Err(ReportLeakError::CredentialCount { max: 1000 })
        ));
    }
    assert_eq!(worker.check_queued().await, []);
    let most = vec![core.admin_token.clone(); MAX_CREDENTIALS_PER_REPORT];
    reports.report(&most, REPORTER).unwrap();
}

#[tokio::test]
async fn the_per_address_limit_counts_credentials_junk_included() {
    let core = core().await;
    let limit = ReportLimit::new(3600, 5);
    let (reports, mut worker) =
        LeakReports::with_worker(core.tokens.clone(), None, &config(10, limit));
    reports.report(&junk(), REPORTER).unwrap();
    // 4 of 5 taken: a report of 2 is refused whole, one of 1 fits.
    let refused = reports.report(&[core.admin_token.as_str(), "x"], REPORTER);
    assert!(
        matches!(
            refused,
            Err(ReportLeakError::TooManyCredentials {
                retry_after_secs: 1
            })
        ),
        "{refused:?}"
    );
    assert_eq!(worker.check_queued().await, [], "nothing of it was queued");
    // Another address has its own allowance.
    let other = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)));
    reports.report(&junk(), other).unwrap();
    reports.report(&["x"], REPORTER).unwrap();
}

#[tokio::test]
async fn a_report_that_does_not_fit_in_the_queue_is_refused_whole_and_costs_no_allowance() {
    let (core, _) = core_and_store(Arc::new(FakeHasher::new())).await;
    let space = core.space("a").await;
    let tokens: Vec<IssuedToken> = futures_join(&core, space, 3).await;
    let strings: Vec<&str> = tokens.iter().map(|t| t.secret().expose()).collect();
    let (reports, mut worker) = LeakReports::with_worker(
        core.tokens.clone(),
        None,
        &config(2, ReportLimit::new(3600, 4)),
    );

    assert!(matches!(
        reports.report(&strings, REPORTER),
        Err(ReportLeakError::QueueFull)
    ));
    assert_eq!(worker.check_queued().await, []);
    // The refused report took nothing of the allowance of 4: these 2 and 2 more fit.
    reports.report(&strings[..2], REPORTER).unwrap();
    assert!(matches!(
        reports.report(&strings[2..], REPORTER),
        Err(ReportLeakError::QueueFull)
    ));
    // Junk needs no room in the queue.
    reports.report(&["x", "y"], REPORTER).unwrap();
    assert!(matches!(
        reports.report(&["x"], REPORTER),
        Err(ReportLeakError::TooManyCredentials { .. })
    ));
    assert_eq!(worker.check_queued().await.len(), 2);
}

async fn futures_join(core: &Core, space: SpaceId, n: usize) -> Vec<IssuedToken> {
    let mut issued = Vec::with_capacity(n);
    for _ in 0..n {
        issued.push(core.issue(&core.admin, space, TokenLevel::Client).await);
    }
    issued
}

#[tokio::test]
async fn candidates_count_against_the_brute_force_limits_and_a_blocked_reporter_buys_no_argon2() {
    let hasher = fake(FakeHasher::new());
    let (core, _) = core_and_store(hasher.clone()).await;
    let space = core.space("a").await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let other = core.issue(&core.admin, space, TokenLevel::Client).await;
    let limits = AuthLimits::new(AuthFailureLimit::new(2, 2), None).unwrap();
    let (reports, mut worker) = intake(&core, Some(limits.clone()));
    let checked_before = hasher.checked().len();

    let forgeries: Vec<String> = (0..3).map(|_| forged(&client)).collect();
    let mut reported = forgeries.clone();
    reported.push(other.secret().expose().to_owned());
    reports.report(&reported, REPORTER).unwrap();
    assert_eq!(
        worker.check_queued().await,
        [
            CandidateOutcome::NotValid,
            CandidateOutcome::NotValid,
            CandidateOutcome::Refused,
            CandidateOutcome::Refused,
        ]
    );
    // Two hashes, and the reporter is blocked for every authentication now, as any client
    // with two failures would be; the valid token it reported last was not verified either.
    assert_eq!(hasher.checked().len() - checked_before, 2);
    let presented = PresentedToken::parse(other.secret().expose()).unwrap();
    assert!(matches!(
        limits
            .verify(core.tokens.verifier(), REPORTER, Ok(&presented))
            .await,
        Err(LimitedVerifyError::TooManyFailures { .. })
    ));
}

#[tokio::test]
async fn the_intake_starts_its_own_worker_on_the_first_report() {
    let (core, _) = core_and_store(Arc::new(FakeHasher::new())).await;
    let space = core.space("a").await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let reports = LeakReports::new(core.tokens.clone(), None, &LeakReportConfig::default());

    reports
        .report(&[client.secret().expose()], REPORTER)
        .unwrap();
    let revoked = async {
        while core.tokens.verify(client.secret().expose()).await.is_ok() {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(StdDuration::from_secs(30), revoked)
        .await
        .expect("the worker revokes the reported token");
}
