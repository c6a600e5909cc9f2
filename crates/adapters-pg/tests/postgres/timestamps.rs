//! Timestamps round-trip at Postgres's precision, one microsecond: finer digits are dropped on
//! write, so a value read back equals the value written with its nanoseconds truncated.

use time::{Duration, OffsetDateTime, UtcOffset};
use tollgate_app::ports::{RotateOutcome, SpaceRepository, TokenRepository, TokenUse};
use tollgate_app::testing::fixtures::{edited, epoch, space, space_id, token};
use tollgate_domain::TokenLevel;
use tollgate_pg::testing::TestDatabase;

use tollgate_app::testing::fixtures::{insert, revoke, rotation};

#[tokio::test]
async fn timestamps_keep_microseconds_whatever_their_offset_and_range() {
    let store = TestDatabase::create().await.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();

    let micros = epoch() + Duration::microseconds(123_456);
    let cases = [
        // (written, read back)
        (micros + Duration::nanoseconds(789), micros),
        (micros, micros),
        (
            micros.to_offset(UtcOffset::from_hms(5, 30, 0).unwrap()),
            micros,
        ),
        (
            OffsetDateTime::UNIX_EPOCH - Duration::days(365 * 40),
            OffsetDateTime::UNIX_EPOCH - Duration::days(365 * 40),
        ),
        (
            OffsetDateTime::UNIX_EPOCH + Duration::days(2_932_896) - Duration::microseconds(1),
            OffsetDateTime::UNIX_EPOCH + Duration::days(2_932_896) - Duration::microseconds(1),
        ),
    ];
    for (n, (written, read_back)) in (1u128..).zip(cases) {
        let t = edited(&token(n, space_id(1), TokenLevel::Client), |t| {
            t.created_at = written;
            t.expires_at = Some(written);
            t.last_used_at = Some(written);
        });
        assert!(insert(&store, &t).await.unwrap());
        let revoked = revoke(&store, t.id(), space_id(1), written)
            .await
            .unwrap()
            .unwrap();
        for (column, value) in [
            ("created_at", revoked.created_at()),
            ("expires_at", revoked.expires_at().unwrap()),
            ("last_used_at", revoked.last_used_at().unwrap()),
            ("revoked_at", revoked.revoked_at().unwrap()),
        ] {
            assert_eq!(value, read_back, "{column} of {written}");
        }

        // A rotation at `written`, the old token working until then.
        let old = 100 + n;
        assert!(insert(&store, &token(old, space_id(1), TokenLevel::Client))
            .await
            .unwrap());
        let RotateOutcome::Rotated(rotated) = store
            .rotate(&rotation(old, 200 + n, written, time::Duration::ZERO))
            .await
            .unwrap()
        else {
            panic!("an active token rotates");
        };
        assert_eq!(
            rotated.rotated_at(),
            Some(read_back),
            "rotated_at of {written}"
        );
        assert_eq!(
            rotated.expires_at(),
            Some(read_back),
            "expires_at of {written}"
        );
        store
            .record_uses(&[TokenUse::new(rotated.id(), written, None)])
            .await
            .unwrap();
        let used = TokenRepository::get(&store, rotated.id()).await.unwrap();
        assert_eq!(
            used.and_then(|t| t.last_used_at()),
            Some(read_back),
            "last_used_at of {written}"
        );
    }
}
