//! Spaces, tokens and the policy, on the in-memory store.
use super::*;

#[tokio::test]
async fn only_the_instance_admin_creates_spaces() {
    let core = core().await;
    let space = core.space("acme").await;
    let admin_token = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let space_admin = core.actor_of(&admin_token).await;
    let denied = core
        .spaces
        .create(
            &space_admin,
            NewSpace {
                name: SpaceName::parse("x").unwrap(),
            },
        )
        .await;
    assert!(matches!(denied, Err(CreateSpaceError::Forbidden)));
    let owner = member(space, "o", MemberRole::Owner);
    assert!(matches!(
        core.spaces
            .create(
                &owner,
                NewSpace {
                    name: SpaceName::parse("x").unwrap()
                }
            )
            .await,
        Err(CreateSpaceError::Forbidden)
    ));
}

#[tokio::test]
async fn space_tokens_see_only_their_own_space() {
    let core = core().await;
    let (a, b) = (core.space("a").await, core.space("b").await);
    let token_a = core
        .actor_of(&core.issue(&core.admin, a, TokenLevel::Client).await)
        .await;
    assert_eq!(core.spaces.get(&token_a, a).await.unwrap().id, a);
    assert!(matches!(
        core.spaces.get(&token_a, b).await,
        Err(GetSpaceError::NotFound)
    ));
    let listed = core
        .spaces
        .list(&token_a, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        listed.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![a]
    );
    let all = core
        .spaces
        .list(&core.admin, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2);
}

#[tokio::test]
async fn spaces_page_with_a_cursor() {
    let core = core().await;
    for n in 0..5 {
        core.space(&format!("s{n}")).await;
    }
    let mut seen = Vec::new();
    let mut page = PageRequest {
        limit: PageLimit::new(2).unwrap(),
        cursor: None,
    };
    loop {
        let got = core.spaces.list(&core.admin, page).await.unwrap();
        seen.extend(got.items.into_iter().map(|s: Space| s.name.to_string()));
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, ["s0", "s1", "s2", "s3", "s4"]);
}

#[tokio::test]
async fn an_editor_creates_a_client_token_that_verifies_as_a_space_token() {
    let core = core().await;
    let space = core.space("acme").await;
    let editor = member(space, "user-7", MemberRole::Editor);
    let issued = core.issue(&editor, space, TokenLevel::Client).await;
    assert_eq!(issued.token().created_by().to_string(), "user:user-7");
    assert!(issued.secret().expose().starts_with("tgc_"));
    let verified = core.tokens.verify(issued.secret().expose()).await.unwrap();
    assert_eq!(
        verified.actor,
        Actor::SpaceToken {
            token_id: issued.token().id(),
            space_id: space,
            level: TokenLevel::Client
        }
    );
    assert_eq!(verified.token, issued.token().identity());
}

#[tokio::test]
async fn nobody_but_instance_admins_owners_and_admins_mints_admin_tokens() {
    let core = core().await;
    let space = core.space("acme").await;
    let space_admin = core
        .actor_of(&core.issue(&core.admin, space, TokenLevel::Admin).await)
        .await;
    for actor in [
        space_admin,
        member(space, "e", MemberRole::Editor),
        member(space, "v", MemberRole::Viewer),
    ] {
        let denied = core
            .tokens
            .create(&actor, space, new_token("root", TokenLevel::Admin))
            .await;
        assert!(
            matches!(denied, Err(CreateTokenError::Forbidden(TokenLevel::Admin))),
            "{actor:?}"
        );
    }
    for role in [MemberRole::Owner, MemberRole::Admin] {
        let issued = core
            .issue(&member(space, "o", role), space, TokenLevel::Admin)
            .await;
        assert!(issued.secret().expose().starts_with("tga_"));
    }
}

#[tokio::test]
async fn a_token_of_another_space_finds_nothing_there() {
    let core = core().await;
    let (a, b) = (core.space("a").await, core.space("b").await);
    let in_b = core.issue(&core.admin, b, TokenLevel::Client).await;
    let admin_a = core
        .actor_of(&core.issue(&core.admin, a, TokenLevel::Admin).await)
        .await;
    assert!(matches!(
        core.tokens
            .create(&admin_a, b, new_token("x", TokenLevel::Client))
            .await,
        Err(CreateTokenError::SpaceNotFound)
    ));
    assert!(matches!(
        core.tokens.list(&admin_a, b, ListTokens::default()).await,
        Err(ListTokensError::SpaceNotFound)
    ));
    assert!(matches!(
        core.tokens.get(&admin_a, b, in_b.token().id()).await,
        Err(GetTokenError::SpaceNotFound)
    ));
    assert!(matches!(
        core.tokens.revoke(&admin_a, b, in_b.token().id()).await,
        Err(RevokeTokenError::SpaceNotFound)
    ));
    // Asking for B's token under A's own space finds nothing either.
    assert!(matches!(
        core.tokens.get(&admin_a, a, in_b.token().id()).await,
        Err(GetTokenError::NotFound)
    ));
    assert!(core.tokens.verify(in_b.secret().expose()).await.is_ok());
}

#[tokio::test]
async fn a_space_that_does_not_exist_is_not_found_even_for_the_instance_admin() {
    let core = core().await;
    let nowhere = SpaceId::from_uuid(uuid::Uuid::from_u128(12345));
    assert!(matches!(
        core.tokens
            .create(&core.admin, nowhere, new_token("x", TokenLevel::Client))
            .await,
        Err(CreateTokenError::SpaceNotFound)
    ));
    assert!(matches!(
        core.tokens
            .list(&core.admin, nowhere, ListTokens::default())
            .await,
        Err(ListTokensError::SpaceNotFound)
    ));
}

#[tokio::test]
async fn client_tokens_never_learn_that_admin_tokens_exist() {
    let core = core().await;
    let space = core.space("acme").await;
    let admin_token = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let client_actor = core.actor_of(&client).await;
    let seen = core
        .tokens
        .list(&client_actor, space, ListTokens::default())
        .await
        .unwrap();
    assert_eq!(
        seen.items.iter().map(|v| v.token.id()).collect::<Vec<_>>(),
        vec![client.token().id()]
    );
    let asked = ListTokens {
        level: Some(TokenLevel::Admin),
        ..ListTokens::default()
    };
    assert!(core
        .tokens
        .list(&client_actor, space, asked)
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(matches!(
        core.tokens
            .get(&client_actor, space, admin_token.token().id())
            .await,
        Err(GetTokenError::NotFound)
    ));
    assert!(matches!(
        core.tokens
            .revoke(&client_actor, space, admin_token.token().id())
            .await,
        Err(RevokeTokenError::NotFound)
    ));
    let admin_actor = core.actor_of(&admin_token).await;
    assert_eq!(
        core.tokens
            .list(&admin_actor, space, ListTokens::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

#[tokio::test]
async fn token_lists_page_in_either_order_and_leave_revoked_tokens_out() {
    let core = core().await;
    let space = core.space("acme").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            core.issue(&core.admin, space, TokenLevel::Client)
                .await
                .token()
                .id(),
        );
    }
    core.tokens
        .revoke(&core.admin, space, ids[2])
        .await
        .unwrap();
    let oldest_first = vec![ids[0], ids[1], ids[3], ids[4]];
    let newest_first: Vec<_> = oldest_first.iter().rev().copied().collect();
    for (order, expected) in [
        (crate::ports::ListOrder::OldestFirst, oldest_first),
        (crate::ports::ListOrder::NewestFirst, newest_first),
    ] {
        let mut seen = Vec::new();
        let mut query = ListTokens {
            level: None,
            name: None,
            statuses: crate::ports::StatusFilter::ACTIVE,
            page: PageRequest {
                limit: PageLimit::new(2).unwrap(),
                cursor: None,
            },
            order,
        };
        loop {
            let page = core
                .tokens
                .list(&core.admin, space, query.clone())
                .await
                .unwrap();
            assert!(page.items.len() <= 2);
            seen.extend(page.items.iter().map(|v| v.token.id()));
            match page.next_cursor {
                Some(cursor) => query.page.cursor = Some(cursor),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{order:?}");
    }
}

#[tokio::test]
async fn a_revoked_token_fails_verification_and_revoking_again_succeeds() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let first = core
        .tokens
        .revoke(&core.admin, space, issued.token().id())
        .await
        .unwrap();
    assert!(matches!(
        core.tokens.verify(issued.secret().expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
    core.clock.advance(Duration::minutes(5));
    let second = core
        .tokens
        .revoke(&core.admin, space, issued.token().id())
        .await
        .unwrap();
    assert_eq!(first.token.revoked_at(), second.token.revoked_at());
    let read = core
        .tokens
        .get(&core.admin, space, issued.token().id())
        .await
        .unwrap();
    assert!(read.token.revoked_at().is_some());
}

#[tokio::test]
async fn an_editor_revokes_only_the_client_tokens_it_created() {
    let core = core().await;
    let space = core.space("acme").await;
    let alice = member(space, "alice", MemberRole::Editor);
    let bob = member(space, "bob", MemberRole::Editor);
    let hers = core.issue(&alice, space, TokenLevel::Client).await;
    let his = core.issue(&bob, space, TokenLevel::Client).await;
    assert!(matches!(
        core.tokens.revoke(&alice, space, his.token().id()).await,
        Err(RevokeTokenError::Forbidden)
    ));
    core.tokens
        .revoke(&alice, space, hers.token().id())
        .await
        .unwrap();
    let viewer = member(space, "vic", MemberRole::Viewer);
    assert!(matches!(
        core.tokens.revoke(&viewer, space, his.token().id()).await,
        Err(RevokeTokenError::Forbidden)
    ));
    let client = core.actor_of(&his).await;
    assert!(matches!(
        core.tokens.revoke(&client, space, his.token().id()).await,
        Err(RevokeTokenError::Forbidden)
    ));
}

#[tokio::test]
async fn a_space_admin_token_revokes_any_token_of_its_space_including_itself() {
    let core = core().await;
    let space = core.space("acme").await;
    let admin_token = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let actor = core.actor_of(&admin_token).await;
    let client = core.issue(&actor, space, TokenLevel::Client).await;
    core.tokens
        .revoke(&actor, space, client.token().id())
        .await
        .unwrap();
    core.tokens
        .revoke(&actor, space, admin_token.token().id())
        .await
        .unwrap();
    assert!(core
        .tokens
        .verify(admin_token.secret().expose())
        .await
        .is_err());
}

#[tokio::test]
async fn tokens_stop_verifying_at_their_expiry() {
    let core = core().await;
    let space = core.space("acme").await;
    let expires_at = core.clock.now() + Duration::hours(1);
    let cmd = NewToken {
        expires_at: Some(expires_at),
        ..new_token("short", TokenLevel::Client)
    };
    let issued = core.tokens.create(&core.admin, space, cmd).await.unwrap();
    assert!(core.tokens.verify(issued.secret().expose()).await.is_ok());
    core.clock.set(expires_at);
    assert!(matches!(
        core.tokens.verify(issued.secret().expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn an_expiry_that_is_not_in_the_future_is_refused() {
    let core = core().await;
    let space = core.space("acme").await;
    for at in [core.clock.now(), core.clock.now() - Duration::days(1)] {
        let cmd = NewToken {
            expires_at: Some(at),
            ..new_token("late", TokenLevel::Client)
        };
        assert!(matches!(
            core.tokens.create(&core.admin, space, cmd).await,
            Err(CreateTokenError::ExpiryNotInFuture)
        ));
    }
}

#[tokio::test]
async fn wrong_secrets_and_swapped_kinds_are_invalid() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let random = SequentialRandomSource::new();
    let wrong_secret = TokenString::new(TokenKind::Client, issued.token().id(), &random.secret());
    assert!(matches!(
        core.tokens.verify(wrong_secret.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
    let real = tollgate_domain::ParsedToken::parse(issued.secret().expose()).unwrap();
    let as_admin = TokenString::new(TokenKind::SpaceAdmin, issued.token().id(), real.secret());
    assert!(matches!(
        core.tokens.verify(as_admin.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
    let unknown = TokenString::new(TokenKind::Client, random.token_id(), &random.secret());
    assert!(matches!(
        core.tokens.verify(unknown.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn the_issued_token_never_shows_its_secret_in_debug() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let secret_part = &issued.secret().expose()[26..69];
    let debug = format!("{issued:?}");
    assert!(!debug.contains(secret_part), "{debug}");
    assert!(!debug.contains(issued.secret().expose()));
}

#[tokio::test]
async fn bootstrap_registers_a_token_once_and_refuses_impostors() {
    let core = core().await;
    let random = OsRandomSource;
    let token = mint_token_string(&random, TokenKind::InstanceAdmin);
    let tokens = &core.tokens;
    assert_eq!(
        tokens
            .register_instance_admin(token.expose())
            .await
            .unwrap(),
        BootstrapOutcome::Registered
    );
    assert_eq!(
        tokens
            .register_instance_admin(token.expose())
            .await
            .unwrap(),
        BootstrapOutcome::AlreadyRegistered
    );
    let verified = tokens.verify(token.expose()).await.unwrap();
    assert!(matches!(verified.actor, Actor::InstanceAdmin { .. }));
    let parsed = tollgate_domain::ParsedToken::parse(token.expose()).unwrap();
    let impostor = TokenString::new(TokenKind::InstanceAdmin, parsed.id(), &random.secret());
    assert!(matches!(
        tokens.register_instance_admin(impostor.expose()).await,
        Err(BootstrapError::Conflict)
    ));
    let client = mint_token_string(&random, TokenKind::Client);
    assert!(matches!(
        tokens.register_instance_admin(client.expose()).await,
        Err(BootstrapError::NotInstanceAdmin)
    ));
    assert!(matches!(
        tokens.register_instance_admin("tgi_nope").await,
        Err(BootstrapError::Malformed)
    ));
}

#[tokio::test]
async fn a_store_is_given_an_instance_admin_only_once() {
    let core = core().await;
    assert!(core.tokens.ensure_instance_admin().await.unwrap().is_none());
}

#[tokio::test]
async fn lists_show_active_tokens_unless_other_statuses_are_asked_for() {
    let core = core().await;
    let space = core.space("acme").await;
    let active = core.issue(&core.admin, space, TokenLevel::Client).await;
    let revoked = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens
        .revoke(&core.admin, space, revoked.token().id())
        .await
        .unwrap();
    let ids = |page: crate::Page<TokenView>| {
        page.items
            .into_iter()
            .map(|v| v.token.id())
            .collect::<Vec<_>>()
    };
    let default = core
        .tokens
        .list(&core.admin, space, ListTokens::default())
        .await
        .unwrap();
    assert_eq!(ids(default), vec![active.token().id()]);
    let asked = ListTokens {
        statuses: crate::ports::StatusFilter::of(&[tollgate_domain::TokenStatus::Revoked]),
        ..ListTokens::default()
    };
    let listed = core.tokens.list(&core.admin, space, asked).await.unwrap();
    assert_eq!(ids(listed.clone()), vec![revoked.token().id()]);
    assert!(listed.items[0].token.revoked_at().is_some());
}

#[tokio::test]
async fn readers_without_read_admin_api_token_never_learn_an_admin_token_id_from_created_by() {
    let core = core().await;
    let space = core.space("acme").await;
    let admin_token = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let space_admin = core.actor_of(&admin_token).await;
    let client = core.issue(&space_admin, space, TokenLevel::Client).await;
    let reader = core.actor_of(&client).await;
    let listed = core
        .tokens
        .list(&reader, space, ListTokens::default())
        .await
        .unwrap();
    assert_eq!(listed.items[0].token.created_by().to_string(), "token");
    let read = core
        .tokens
        .get(&reader, space, client.token().id())
        .await
        .unwrap();
    assert_eq!(read.token.created_by().to_string(), "token");
    let viewer = member(space, "v", MemberRole::Viewer);
    assert_eq!(
        core.tokens
            .get(&viewer, space, client.token().id())
            .await
            .unwrap()
            .token
            .created_by()
            .to_string(),
        "token"
    );
    // Holders of READ_ADMIN_API_TOKEN see which token it was.
    let as_admin = core
        .tokens
        .get(&space_admin, space, client.token().id())
        .await
        .unwrap();
    assert_eq!(
        as_admin.token.created_by(),
        &tollgate_domain::CreatedBy::Token(admin_token.token().id())
    );
}
