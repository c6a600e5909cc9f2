//! Renaming and deleting spaces: who may, what a deletion ends (every token, cached or not,
//! console sessions, members' access), and what it keeps (the events, for instance admins).

use super::*;
use crate::ports::AuditRepository;

#[tokio::test]
async fn only_instance_admins_rename_and_delete_spaces() {
    let core = core().await;
    let space = core.space("acme").await;
    let admin = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let space_admin = core.actor_of(&admin).await;
    for actor in [
        space_admin,
        member(space, "owner", MemberRole::Owner),
        member(space, "viewer", MemberRole::Viewer),
    ] {
        assert!(matches!(
            core.spaces
                .rename(&actor, space, SpaceName::parse("mine").unwrap())
                .await,
            Err(RenameSpaceError::Forbidden)
        ));
        assert!(matches!(
            core.spaces.delete(&actor, space).await,
            Err(DeleteSpaceError::Forbidden)
        ));
    }
    let renamed = core
        .spaces
        .rename(&core.admin, space, SpaceName::parse("acme eu").unwrap())
        .await
        .unwrap();
    assert_eq!(renamed.name.as_str(), "acme eu");
    assert!(core.tokens.verify(admin.secret().expose()).await.is_ok());
}

#[tokio::test]
async fn a_deleted_spaces_tokens_fail_at_once_even_when_cached_and_its_sessions_end() {
    let test = TestCore::new();
    let sessions = test.session_service();
    let core = core_over(test.clone()).await;
    let space = core.space("acme").await;
    let other = core.space("globex").await;
    let admin = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let elsewhere = core.issue(&core.admin, other, TokenLevel::Client).await;
    for issued in [&admin, &client, &elsewhere] {
        assert!(core.tokens.verify(issued.secret().expose()).await.is_ok());
    }
    let (session, _) = sessions
        .sign_in(admin.secret().expose(), None)
        .await
        .unwrap();

    assert_eq!(
        core.spaces.delete(&core.admin, space).await.unwrap(),
        SpaceDeletion::Deleted { revoked: 2 }
    );

    for issued in [&admin, &client] {
        assert!(core.tokens.verify(issued.secret().expose()).await.is_err());
    }
    assert!(core
        .tokens
        .verify(elsewhere.secret().expose())
        .await
        .is_ok());
    assert!(matches!(
        sessions.resume(&session).await,
        Err(ResumeError::Ended)
    ));
    // A member of the deleted space reaches nothing of it any more.
    let owner = member(space, "owner", MemberRole::Owner);
    assert!(matches!(
        core.tokens
            .create(&owner, space, new_token("back", TokenLevel::Client))
            .await,
        Err(CreateTokenError::SpaceNotFound)
    ));
    assert!(matches!(
        core.tokens
            .list_events(&owner, space, PageRequest::default())
            .await,
        Err(ListEventsError::SpaceNotFound)
    ));
    assert!(matches!(
        core.spaces.get(&core.admin, space).await,
        Err(GetSpaceError::NotFound)
    ));
    // The instance admin still reads its history, newest first.
    let events = core
        .tokens
        .list_events(&core.admin, space, PageRequest::default())
        .await
        .unwrap()
        .items;
    use tollgate_domain::AuditAction;
    let actions: Vec<_> = events.iter().map(|e| e.action).collect();
    // Newest first: the refused uses after the deletion are recorded as any refused use is.
    assert_eq!(
        actions,
        [
            AuditAction::TokenRejected,
            AuditAction::TokenRejected,
            AuditAction::SpaceDeleted,
            AuditAction::TokenCreated,
            AuditAction::TokenCreated,
        ]
    );
    assert_eq!(events[2].token_id, None);
    let stored = test.store.events.list(space, None, 10).await.unwrap();
    assert_eq!(stored.len(), 5);
    assert_eq!(
        core.spaces.delete(&core.admin, space).await.unwrap(),
        SpaceDeletion::AlreadyDeleted
    );
}

#[tokio::test]
async fn deleting_a_space_that_never_existed_is_not_found() {
    let core = core().await;
    assert!(matches!(
        core.spaces.delete(&core.admin, space()).await,
        Err(DeleteSpaceError::NotFound)
    ));
    assert!(matches!(
        core.spaces
            .rename(&core.admin, space(), SpaceName::parse("x").unwrap())
            .await,
        Err(RenameSpaceError::NotFound)
    ));
}
