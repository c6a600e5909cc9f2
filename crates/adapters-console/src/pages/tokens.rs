//! A space's API tokens: the table, the new-token form, the token shown once, revoke with a
//! confirmation, rotate with a grace period, and suspend and resume from the table.
//!
//! The secret exists only in the answer to the create (or rotate) POST: it is rendered into
//! that page and dropped. It is never stored, not even in the session, and never put in a URL
//! or a cookie. The form's one-time nonce makes a resubmit (reload, back) create nothing.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use time::{Duration, OffsetDateTime, Time};
use tollgate_app::ports::ListOrder;
use tollgate_app::{
    form_nonce_from_field, form_nonce_to_field, new_form_nonce, CreateTokenError, IssuedToken,
    ListTokens, RotateToken, RotateTokenError, TokenView,
};
use tollgate_domain::{
    allows, create_permission, FormNonce, GracePeriod, LifetimePolicy, NameSearch, Permission,
    Resource, SpaceId, TokenId, TokenLevel, TokenName, TokenStatus,
};

use super::spaces::{page_request, sentence};
use super::{parse_id, render};
use crate::auth::{Signed, SignedForm};
use crate::error::{see_other, PageError};
use crate::forms::{CreateTokenForm, RevokeForm, RotateForm, SuspensionForm, TokenFilters};
use crate::view::{level_note, tokens_url, when, Nav, SpaceView, TokenRow, When};
use crate::ConsoleState;

fn ids(space_id: &str, token_id: Option<&str>) -> Result<(SpaceId, Option<TokenId>), PageError> {
    let space = SpaceId::from_uuid(parse_id(space_id)?);
    let token = token_id
        .map(|raw| parse_id(raw).map(TokenId::from_uuid))
        .transpose()?;
    Ok((space, token))
}

fn with_status(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

// ---------------------------------------------------------------------------------------------
// The table.

/// A choice in a filter.
#[derive(Debug)]
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    title: &'static str,
    nav: Option<Nav>,
    /// For the rows' suspend and resume buttons.
    csrf: String,
    space: SpaceView,
    tokens: Vec<TokenRow>,
    levels: Vec<Choice>,
    statuses: Vec<Choice>,
    filtered: bool,
    /// The name search, as typed (trimmed), for the search field.
    q: String,
    next_url: Option<String>,
    new_url: String,
    events_url: Option<String>,
    may_create: bool,
}

/// `GET /admin/spaces/{id}/tokens?level=&status=&cursor=`: newest first.
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(space_id): Path<String>,
    query: Result<Query<TokenFilters>, QueryRejection>,
) -> Result<Response, PageError> {
    let (space_id, _) = ids(&space_id, None)?;
    let Query(filters) = query.map_err(|_| PageError::BadRequest("That filter is not valid."))?;
    let actor = signed.actor();
    let reads_admin = allows(
        actor,
        Permission::ReadAdminApiToken,
        Resource::Space(space_id),
    );
    let level = match filters.level.as_str() {
        "" => None,
        "admin" if !reads_admin => return Err(PageError::BadRequest("That filter is not valid.")),
        raw => Some(
            raw.parse::<TokenLevel>()
                .map_err(|_| PageError::BadRequest("That filter is not valid."))?,
        ),
    };
    let status = match filters.status.as_str() {
        "" => Some(TokenStatus::Active),
        "all" => None,
        raw => Some(
            raw.parse::<TokenStatus>()
                .map_err(|_| PageError::BadRequest("That filter is not valid."))?,
        ),
    };
    let search = match filters.q.trim() {
        "" => None,
        raw => Some(
            NameSearch::parse(raw)
                .map_err(|_| PageError::BadRequest("A name search needs 3 to 100 characters."))?,
        ),
    };
    let statuses = status.map_or(tollgate_app::ports::StatusFilter::ALL, |s| {
        tollgate_app::ports::StatusFilter::of(&[s])
    });
    let space = state.spaces.get(actor, space_id).await?;
    let page = state
        .tokens
        .list(
            actor,
            space_id,
            ListTokens {
                level,
                name: search.clone(),
                statuses,
                page: page_request(&filters.cursor)?,
                order: ListOrder::NewestFirst,
            },
        )
        .await?;
    let now = state.tokens.now();
    let mut levels = vec![Choice {
        value: "",
        label: "any level",
        selected: level.is_none(),
    }];
    levels.extend(
        TokenLevel::ALL
            .into_iter()
            .filter(|l| *l == TokenLevel::Client || reads_admin)
            .map(|l| Choice {
                value: l.as_str(),
                label: l.as_str(),
                selected: level == Some(l),
            }),
    );
    let mut status_choices: Vec<Choice> = TokenStatus::ALL
        .into_iter()
        .map(|s| Choice {
            value: s.as_str(),
            label: s.as_str(),
            selected: status == Some(s),
        })
        .collect();
    status_choices.push(Choice {
        value: "all",
        label: "any status",
        selected: status.is_none(),
    });
    let next_url = page.next_cursor.map(|cursor| {
        format!(
            "{}?level={}&status={}&q={}&cursor={cursor}",
            tokens_url(space_id),
            level.map_or("", TokenLevel::as_str),
            status.map_or("all", TokenStatus::as_str),
            search
                .as_ref()
                .map_or_else(String::new, |s| query_value(s.as_str())),
        )
    });
    render(&TokensPage {
        title: "API tokens",
        nav: Some(signed.nav()),
        csrf: signed.csrf(),
        space: SpaceView::of(&space, now),
        tokens: page
            .items
            .iter()
            .map(|view| TokenRow::of(actor, view, now))
            .collect(),
        levels,
        statuses: status_choices,
        filtered: level.is_some() || status != Some(TokenStatus::Active) || search.is_some(),
        q: search.map_or_else(String::new, |s| s.as_str().to_owned()),
        next_url,
        new_url: format!("{}/new", tokens_url(space_id)),
        events_url: allows(
            actor,
            Permission::ReadAdminApiToken,
            Resource::Space(space_id),
        )
        .then(|| format!("{}/spaces/{space_id}/events", crate::BASE)),
        may_create: allows(actor, Permission::CreateApiToken, Resource::Space(space_id)),
    })
}

// ---------------------------------------------------------------------------------------------
// The new-token form and the token shown once.

/// How long a new token lives, as the form offers it.
#[derive(Debug)]
struct ExpiryChoice {
    value: &'static str,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "new_token.html")]
struct NewTokenPage {
    title: &'static str,
    nav: Option<Nav>,
    csrf: String,
    nonce: String,
    space: SpaceView,
    action: String,
    name: String,
    name_error: Option<String>,
    level: &'static str,
    offer_admin: bool,
    client_note: &'static str,
    admin_note: &'static str,
    level_error: Option<String>,
    expiries: Vec<ExpiryChoice>,
    expires_on: String,
    expires_on_error: Option<String>,
    offers_never: bool,
    policy_note: Option<String>,
    min_date: String,
    max_date: Option<String>,
    cancel_url: String,
}

/// What the form holds when it is shown again.
#[derive(Debug, Default)]
struct Entered {
    name: String,
    level: Option<TokenLevel>,
    expiry: String,
    expires_on: String,
    name_error: Option<String>,
    level_error: Option<String>,
    expires_on_error: Option<String>,
}

const DAY_CHOICES: [(&str, i64); 4] = [("7", 7), ("30", 30), ("60", 60), ("90", 90)];

fn date_string(at: OffsetDateTime) -> String {
    let date = at.date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn new_token_page(
    state: &ConsoleState,
    signed: &Signed,
    space: SpaceView,
    space_id: SpaceId,
    nonce: &FormNonce,
    entered: Entered,
) -> NewTokenPage {
    let now = state.tokens.now();
    let policy: &LifetimePolicy = state.tokens.lifetime_policy();
    let allowed = |days: i64| {
        policy
            .resolve(Some(now + Duration::days(days)), now)
            .is_ok()
    };
    // "Never" only where no expiry is what a token without one gets (no default, no maximum).
    let offers_never = matches!(policy.resolve(None, now), Ok(None));
    let default_expiry = if entered.expiry.is_empty() {
        "30"
    } else {
        entered.expiry.as_str()
    };
    let mut expiries: Vec<ExpiryChoice> = DAY_CHOICES
        .into_iter()
        .filter(|(_, days)| allowed(*days))
        .map(|(value, days)| ExpiryChoice {
            value,
            label: format!("{days} days"),
            selected: value == default_expiry,
        })
        .collect();
    expiries.push(ExpiryChoice {
        value: "date",
        label: "On a date…".to_owned(),
        selected: default_expiry == "date",
    });
    if offers_never {
        expiries.push(ExpiryChoice {
            value: "never",
            label: "Never (not recommended)".to_owned(),
            selected: default_expiry == "never",
        });
    }
    let policy_note = policy.max().map(|max| {
        format!(
            "This instance's tokens live at most {} days.",
            max.whole_days()
        )
    });
    let offer_admin = allows(
        signed.actor(),
        create_permission(TokenLevel::Admin),
        Resource::Space(space_id),
    );
    NewTokenPage {
        title: "New API token",
        nav: Some(signed.nav()),
        csrf: signed.csrf(),
        nonce: form_nonce_to_field(nonce),
        action: tokens_url(space_id),
        cancel_url: tokens_url(space_id),
        space,
        name: entered.name,
        name_error: entered.name_error,
        level: entered.level.map_or("client", TokenLevel::as_str),
        offer_admin,
        client_note: level_note(TokenLevel::Client),
        admin_note: level_note(TokenLevel::Admin),
        level_error: entered.level_error,
        expiries,
        expires_on: entered.expires_on,
        expires_on_error: entered.expires_on_error,
        offers_never,
        policy_note,
        min_date: date_string(now),
        // A date means "through that day": its end must be within the maximum.
        max_date: policy
            .max()
            .map(|max| date_string(now + max - Duration::days(1))),
    }
}

/// `GET /admin/spaces/{id}/tokens/new`.
pub(crate) async fn new_form(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(space_id): Path<String>,
) -> Result<Response, PageError> {
    let (space_id, _) = ids(&space_id, None)?;
    if !allows(
        signed.actor(),
        Permission::CreateApiToken,
        Resource::Space(space_id),
    ) {
        // Reach first: a space the actor cannot see is a 404, as in the API.
        state.spaces.get(signed.actor(), space_id).await?;
        return Err(PageError::Forbidden(
            "You may not create tokens in this space.",
        ));
    }
    let space = state.spaces.get(signed.actor(), space_id).await?;
    let now = state.tokens.now();
    render(&new_token_page(
        &state,
        &signed,
        SpaceView::of(&space, now),
        space_id,
        &new_form_nonce()?,
        Entered::default(),
    ))
}

#[derive(Template)]
#[template(path = "secret.html")]
struct SecretPage<'a> {
    title: &'static str,
    nav: Option<Nav>,
    secret: Option<&'a str>,
    name: String,
    level: &'static str,
    expires: Option<When>,
    replaced: Option<String>,
    back_url: String,
}

/// The page that shows a secret once; `None`: the resubmit page that shows none.
fn secret_page(
    state: &ConsoleState,
    signed: &Signed,
    space_id: SpaceId,
    issued: Option<(&TokenView, &str)>,
    replaced: Option<String>,
) -> Result<Response, PageError> {
    let now = state.tokens.now();
    let page = SecretPage {
        title: if issued.is_some() {
            "Copy your new token"
        } else {
            "Already created"
        },
        nav: Some(signed.nav()),
        secret: issued.map(|(_, secret)| secret),
        name: issued.map_or_else(String::new, |(v, _)| v.token.name().as_str().to_owned()),
        level: issued.map_or("", |(v, _)| v.token.level().as_str()),
        expires: issued.and_then(|(v, _)| v.token.expires_at().map(|at| when(at, now))),
        replaced,
        back_url: tokens_url(space_id),
    };
    let response = render(&page)?;
    Ok(if issued.is_some() {
        response
    } else {
        with_status(response, StatusCode::CONFLICT)
    })
}

/// The expiry a form asks for: `Ok(None)` for never.
fn requested_expiry(
    expiry: &str,
    expires_on: &str,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, String> {
    if let Some((_, days)) = DAY_CHOICES.iter().find(|(value, _)| *value == expiry) {
        return Ok(Some(now + Duration::days(*days)));
    }
    match expiry {
        "never" => Ok(None),
        "date" => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let date = time::Date::parse(expires_on.trim(), format)
                .map_err(|_| "Choose the day the token stops working.".to_owned())?;
            // Valid through the chosen day (UTC).
            let end = date
                .next_day()
                .ok_or_else(|| "Choose an earlier day.".to_owned())?;
            Ok(Some(end.with_time(Time::MIDNIGHT).assume_utc()))
        }
        _ => Err("Choose how long the token lives.".to_owned()),
    }
}

/// `POST /admin/spaces/{id}/tokens`: answers 200 with the secret, once.
pub(crate) async fn create(
    State(state): State<ConsoleState>,
    Path(space_id): Path<String>,
    SignedForm { signed, form }: SignedForm<CreateTokenForm>,
) -> Result<Response, PageError> {
    let (space_id, _) = ids(&space_id, None)?;
    let nonce = form_nonce_from_field(&form.nonce).ok_or(PageError::BadRequest(
        "The form could not be read. Open the page again and send it from there.",
    ))?;
    let space = state.spaces.get(signed.actor(), space_id).await?;
    let now = state.tokens.now();
    let mut entered = Entered {
        name: form.name.clone(),
        level: None,
        expiry: form.expiry.clone(),
        expires_on: form.expires_on.clone(),
        ..Entered::default()
    };
    let name = TokenName::parse(&form.name)
        .map_err(|e| entered.name_error = Some(sentence(&format!("name {e}"))))
        .ok();
    let level = form
        .level
        .parse::<TokenLevel>()
        .map_err(|_| entered.level_error = Some("Choose a level.".to_owned()))
        .ok();
    entered.level = level;
    let expires_at = requested_expiry(&form.expiry, &form.expires_on, now)
        .map_err(|e| entered.expires_on_error = Some(e))
        .ok();
    let (Some(name), Some(level), Some(expires_at)) = (name, level, expires_at) else {
        return invalid_form(&state, &signed, &space, space_id, &nonce, entered);
    };
    if !state
        .sessions
        .claim_nonce(&signed.signed_in, &nonce)
        .await?
    {
        return secret_page(&state, &signed, space_id, None, None);
    }
    let cmd = tollgate_app::NewToken {
        name,
        level,
        expires_at,
    };
    match state.tokens.create(signed.actor(), space_id, cmd).await {
        Ok(issued) => show_issued(&state, &signed, space_id, issued, None),
        Err(error) => {
            state
                .sessions
                .release_nonce(&signed.signed_in, &nonce)
                .await?;
            match error {
                CreateTokenError::ExpiryNotInFuture => {
                    entered.expires_on_error = Some("Choose a day after today.".to_owned());
                }
                CreateTokenError::ExpiryBeyondMaximum { max_days } => {
                    entered.expires_on_error = Some(format!(
                        "Tokens live at most {max_days} days here; choose an earlier day."
                    ));
                }
                CreateTokenError::Forbidden(level) => {
                    entered.level_error =
                        Some(format!("You may not create {level} tokens in this space."));
                }
                other => return Err(other.into()),
            }
            invalid_form(&state, &signed, &space, space_id, &nonce, entered)
        }
    }
}

fn invalid_form(
    state: &ConsoleState,
    signed: &Signed,
    space: &tollgate_domain::Space,
    space_id: SpaceId,
    nonce: &FormNonce,
    entered: Entered,
) -> Result<Response, PageError> {
    let now = state.tokens.now();
    let page = new_token_page(
        state,
        signed,
        SpaceView::of(space, now),
        space_id,
        nonce,
        entered,
    );
    Ok(with_status(
        render(&page)?,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

fn show_issued(
    state: &ConsoleState,
    signed: &Signed,
    space_id: SpaceId,
    issued: IssuedToken,
    replaced: Option<String>,
) -> Result<Response, PageError> {
    let (view, secret) = issued.into_parts();
    secret_page(
        state,
        signed,
        space_id,
        Some((&view, secret.expose())),
        replaced,
    )
}

// ---------------------------------------------------------------------------------------------
// Revoke and rotate.

#[derive(Template)]
#[template(path = "revoke.html")]
struct RevokePage {
    title: &'static str,
    nav: Option<Nav>,
    csrf: String,
    token: TokenRow,
    action: String,
    cancel_url: String,
}

/// `GET /admin/spaces/{id}/tokens/{token}/revoke`: the confirmation.
pub(crate) async fn revoke_confirm(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path((space_id, token_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (space_id, Some(token_id)) = ids(&space_id, Some(&token_id))? else {
        return Err(PageError::NotFound);
    };
    let view = state.tokens.get(signed.actor(), space_id, token_id).await?;
    let row = TokenRow::of(signed.actor(), &view, state.tokens.now());
    render(&RevokePage {
        title: "Revoke token",
        nav: Some(signed.nav()),
        csrf: signed.csrf(),
        action: row.revoke_url.clone(),
        cancel_url: tokens_url(space_id),
        token: row,
    })
}

/// `POST /admin/spaces/{id}/tokens/{token}/revoke`: then back to the table.
pub(crate) async fn revoke(
    State(state): State<ConsoleState>,
    Path((space_id, token_id)): Path<(String, String)>,
    SignedForm { signed, .. }: SignedForm<RevokeForm>,
) -> Result<Response, PageError> {
    let (space_id, Some(token_id)) = ids(&space_id, Some(&token_id))? else {
        return Err(PageError::NotFound);
    };
    state
        .tokens
        .revoke(signed.actor(), space_id, token_id)
        .await?;
    Ok(see_other(&tokens_url(space_id)))
}

/// `POST /admin/spaces/{id}/tokens/{token}/suspend`: the token stops working until resumed
/// (its console sessions end); then back to the table.
pub(crate) async fn suspend(
    State(state): State<ConsoleState>,
    Path((space_id, token_id)): Path<(String, String)>,
    SignedForm { signed, .. }: SignedForm<SuspensionForm>,
) -> Result<Response, PageError> {
    let (space_id, Some(token_id)) = ids(&space_id, Some(&token_id))? else {
        return Err(PageError::NotFound);
    };
    state
        .tokens
        .suspend(signed.actor(), space_id, token_id)
        .await?;
    Ok(see_other(&tokens_url(space_id)))
}

/// `POST /admin/spaces/{id}/tokens/{token}/resume`: the token works again; then back to the
/// table.
pub(crate) async fn resume(
    State(state): State<ConsoleState>,
    Path((space_id, token_id)): Path<(String, String)>,
    SignedForm { signed, .. }: SignedForm<SuspensionForm>,
) -> Result<Response, PageError> {
    let (space_id, Some(token_id)) = ids(&space_id, Some(&token_id))? else {
        return Err(PageError::NotFound);
    };
    state
        .tokens
        .resume(signed.actor(), space_id, token_id)
        .await?;
    Ok(see_other(&tokens_url(space_id)))
}

/// A grace period the rotate form offers.
#[derive(Debug)]
struct GraceChoice {
    seconds: u64,
    label: &'static str,
}

const GRACE_CHOICES: [GraceChoice; 5] = [
    GraceChoice {
        seconds: 0,
        label: "None: the old token stops now",
    },
    GraceChoice {
        seconds: 3_600,
        label: "1 hour",
    },
    GraceChoice {
        seconds: 86_400,
        label: "1 day",
    },
    GraceChoice {
        seconds: 259_200,
        label: "3 days",
    },
    GraceChoice {
        seconds: 604_800,
        label: "7 days",
    },
];

#[derive(Template)]
#[template(path = "rotate.html")]
struct RotatePage {
    title: &'static str,
    nav: Option<Nav>,
    csrf: String,
    nonce: String,
    token: TokenRow,
    graces: &'static [GraceChoice],
    action: String,
    cancel_url: String,
    error: Option<String>,
}

/// `GET /admin/spaces/{id}/tokens/{token}/rotate`: the grace choice.
pub(crate) async fn rotate_form(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path((space_id, token_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (space_id, Some(token_id)) = ids(&space_id, Some(&token_id))? else {
        return Err(PageError::NotFound);
    };
    rotate_page(
        &state,
        &signed,
        space_id,
        token_id,
        &new_form_nonce()?,
        None,
    )
    .await
}

async fn rotate_page(
    state: &ConsoleState,
    signed: &Signed,
    space_id: SpaceId,
    token_id: TokenId,
    nonce: &FormNonce,
    error: Option<String>,
) -> Result<Response, PageError> {
    let view = state.tokens.get(signed.actor(), space_id, token_id).await?;
    let row = TokenRow::of(signed.actor(), &view, state.tokens.now());
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let page = RotatePage {
        title: "Rotate token",
        nav: Some(signed.nav()),
        csrf: signed.csrf(),
        nonce: form_nonce_to_field(nonce),
        action: row.rotate_url.clone(),
        cancel_url: tokens_url(space_id),
        token: row,
        graces: &GRACE_CHOICES,
        error,
    };
    Ok(with_status(render(&page)?, status))
}

/// `POST /admin/spaces/{id}/tokens/{token}/rotate`: answers 200 with the replacement, once.
pub(crate) async fn rotate(
    State(state): State<ConsoleState>,
    Path((space_id, token_id)): Path<(String, String)>,
    SignedForm { signed, form }: SignedForm<RotateForm>,
) -> Result<Response, PageError> {
    let (space_id, Some(token_id)) = ids(&space_id, Some(&token_id))? else {
        return Err(PageError::NotFound);
    };
    let bad_form = PageError::BadRequest(
        "The form could not be read. Open the page again and send it from there.",
    );
    let nonce = form_nonce_from_field(&form.nonce).ok_or(bad_form)?;
    let grace_period = form
        .grace_period_seconds
        .parse::<u64>()
        .ok()
        .and_then(|s| GracePeriod::from_seconds(s).ok())
        .ok_or(PageError::BadRequest(
            "Choose a grace period from the list.",
        ))?;
    if !state
        .sessions
        .claim_nonce(&signed.signed_in, &nonce)
        .await?
    {
        return secret_page(&state, &signed, space_id, None, None);
    }
    match state
        .tokens
        .rotate(
            signed.actor(),
            space_id,
            token_id,
            RotateToken { grace_period },
        )
        .await
    {
        Ok(issued) => {
            let old = issued.token().name().as_str().to_owned();
            show_issued(&state, &signed, space_id, issued, Some(old))
        }
        Err(error) => {
            state
                .sessions
                .release_nonce(&signed.signed_in, &nonce)
                .await?;
            match error {
                RotateTokenError::NotActive(status) => {
                    let message = format!(
                        "Only an active token can be rotated; this one is {}.",
                        status.as_str()
                    );
                    rotate_page(&state, &signed, space_id, token_id, &nonce, Some(message)).await
                }
                other => Err(other.into()),
            }
        }
    }
}

/// `value` percent-encoded for a query string: every byte but the unreserved ones of RFC 3986.
fn query_value(value: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}
