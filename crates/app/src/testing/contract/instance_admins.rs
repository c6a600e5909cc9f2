//! The instance admin tokens as every store must hold them: listed all at once, and revoked
//! only while another stays active, the check and the revocation in one step.

use time::Duration;
use tollgate_domain::{AuditAction, TokenLevel, TokenRecord};

use super::{ids, insert, Repositories};
use crate::ports::InstanceRevocation;
use crate::testing::fixtures::{
    self, edited, epoch, event, instance_token, space, space_id, token, token_id,
};

/// Revokes instance token `n` at `at`, with an event of its own (`salt` apart).
async fn revoke_instance(
    r: &Repositories,
    n: u128,
    at: time::OffsetDateTime,
    salt: u128,
) -> InstanceRevocation {
    let target = instance_token(n);
    let event = event(
        fixtures::event_number(target.id(), salt),
        AuditAction::TokenRevoked,
        &target,
    );
    ok!(r
        .tokens
        .revoke_instance_admin(token_id(n), at, &event)
        .await)
}

fn revoked_at(outcome: &InstanceRevocation) -> Option<time::OffsetDateTime> {
    match outcome {
        InstanceRevocation::Revoked(token) => token.revoked_at(),
        _ => None,
    }
}

/// `instance_admins` holds every instance token, whatever its status, in id order, and no
/// space token.
pub async fn instance_admins_are_every_instance_token_in_id_order(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    assert!(ok!(r.tokens.instance_admins().await).is_empty());
    assert!(insert(&r, &instance_token(5)).await);
    assert!(insert(&r, &token(2, space_id(1), TokenLevel::Admin)).await);
    let expired = edited(&instance_token(3), |t: &mut TokenRecord| {
        t.expires_at = Some(epoch() - Duration::days(1));
    });
    assert!(insert(&r, &expired).await);
    assert!(insert(&r, &instance_token(4)).await);
    let listed = ok!(r.tokens.instance_admins().await);
    assert_eq!(ids(listed.clone()), [3, 4, 5].map(token_id));
    assert_eq!(listed[0], expired, "read back with every field");
}

/// The last active instance token is not revoked (nothing changes); any other is, once; an
/// ended one may be revoked again; a space token or an unknown id is `NotFound`.
pub async fn the_last_active_instance_admin_is_never_revoked(r: Repositories) {
    ok!(r.spaces.insert(&space(1)).await);
    assert!(insert(&r, &instance_token(1)).await);
    assert!(insert(&r, &instance_token(2)).await);
    assert!(insert(&r, &token(3, space_id(1), TokenLevel::Admin)).await);
    let at = epoch() + Duration::minutes(1);

    let first = revoke_instance(&r, 1, at, 1).await;
    assert_eq!(revoked_at(&first), Some(at), "{first:?}");
    assert_eq!(
        revoke_instance(&r, 2, at, 1).await,
        InstanceRevocation::LastActive
    );
    let kept = ok!(r.tokens.get(token_id(2)).await);
    assert_eq!(kept.and_then(|t| t.revoked_at()), None, "nothing changed");
    // Already revoked: it takes nothing away, and keeps its first time.
    let again = revoke_instance(&r, 1, at + Duration::minutes(1), 2).await;
    assert_eq!(revoked_at(&again), Some(at));
    assert_eq!(
        revoke_instance(&r, 3, at, 1).await,
        InstanceRevocation::NotFound,
        "a space token is no instance token"
    );
    assert_eq!(
        revoke_instance(&r, 9, at, 1).await,
        InstanceRevocation::NotFound
    );

    // A new one makes the old one revocable.
    assert!(insert(&r, &instance_token(4)).await);
    let second = revoke_instance(&r, 2, at, 2).await;
    assert_eq!(revoked_at(&second), Some(at));
}

/// Two concurrent revocations of the last two active instance tokens: exactly one wins, every
/// time, and one instance token stays active.
pub async fn concurrent_revocations_of_the_last_two_instance_admins_leave_one(r: Repositories) {
    assert!(insert(&r, &instance_token(1)).await);
    let at = epoch() + Duration::minutes(1);
    let mut survivor = 1;
    for n in 2..=9 {
        assert!(insert(&r, &instance_token(n)).await);
        let (a, b) = futures::join!(
            revoke_instance(&r, survivor, at, n),
            revoke_instance(&r, n, at, n),
        );
        let won = [&a, &b]
            .into_iter()
            .filter(|o| matches!(o, InstanceRevocation::Revoked(_)))
            .count();
        assert_eq!(won, 1, "{a:?} / {b:?}");
        assert!(
            [&a, &b].contains(&&InstanceRevocation::LastActive),
            "{a:?} / {b:?}"
        );
        survivor = if matches!(a, InstanceRevocation::Revoked(_)) {
            n
        } else {
            survivor
        };
        let active: Vec<_> = ok!(r.tokens.instance_admins().await)
            .into_iter()
            .filter(|t| t.revoked_at().is_none())
            .map(|t| t.id())
            .collect();
        assert_eq!(active, [token_id(survivor)]);
    }
}
