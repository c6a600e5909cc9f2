//! Editing a token's name and description from the console (its expiry is the API's), through
//! the same use case as `PATCH /v1/spaces/{id}/tokens/{token}`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use tollgate_app::UpdateTokenError;
use tollgate_domain::{SpaceId, TokenDescription, TokenId, TokenName, TokenUpdate};

use super::spaces::sentence;
use super::{parse_id, render};
use crate::auth::{Signed, SignedForm};
use crate::error::{see_other, PageError};
use crate::forms::EditTokenForm;
use crate::view::{tokens_url, Nav, TokenRow};
use crate::ConsoleState;

#[derive(Template)]
#[template(path = "edit_token.html")]
struct EditTokenPage {
    title: &'static str,
    nav: Option<Nav>,
    csrf: String,
    space_name: String,
    token: TokenRow,
    action: String,
    cancel_url: String,
    name: String,
    name_error: Option<String>,
    description: String,
    description_error: Option<String>,
    error: Option<String>,
}

/// What the form holds when it is shown (again).
#[derive(Debug, Default)]
struct Entered {
    name: Option<String>,
    description: Option<String>,
    name_error: Option<String>,
    description_error: Option<String>,
    error: Option<String>,
}

fn ids(space_id: &str, token_id: &str) -> Result<(SpaceId, TokenId), PageError> {
    Ok((
        SpaceId::from_uuid(parse_id(space_id)?),
        TokenId::from_uuid(parse_id(token_id)?),
    ))
}

async fn page(
    state: &ConsoleState,
    signed: &Signed,
    space_id: SpaceId,
    token_id: TokenId,
    entered: Entered,
) -> Result<Response, PageError> {
    let space = state.spaces.get(signed.actor(), space_id).await?;
    let view = state.tokens.get(signed.actor(), space_id, token_id).await?;
    let row = TokenRow::of(signed.actor(), &view, state.tokens.now());
    let status = if entered.error.is_some() {
        Some(StatusCode::CONFLICT)
    } else if entered.name_error.is_some() || entered.description_error.is_some() {
        Some(StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        None
    };
    let page = EditTokenPage {
        title: "Edit token",
        nav: Some(signed.nav()),
        csrf: signed.csrf(),
        space_name: space.name.as_str().to_owned(),
        action: row.edit_url.clone(),
        cancel_url: tokens_url(space_id),
        name: entered
            .name
            .unwrap_or_else(|| view.token.name().as_str().to_owned()),
        description: entered.description.unwrap_or_else(|| {
            view.token
                .description()
                .map_or_else(String::new, |d| d.as_str().to_owned())
        }),
        name_error: entered.name_error,
        description_error: entered.description_error,
        error: entered.error,
        token: row,
    };
    let mut response = render(&page)?;
    if let Some(status) = status {
        *response.status_mut() = status;
    }
    Ok(response)
}

/// `GET /admin/spaces/{id}/tokens/{token}/edit`.
pub(crate) async fn form(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path((space_id, token_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (space_id, token_id) = ids(&space_id, &token_id)?;
    page(&state, &signed, space_id, token_id, Entered::default()).await
}

/// `POST /admin/spaces/{id}/tokens/{token}/edit`: back to the table, or the form again with
/// the error next to its field.
pub(crate) async fn save(
    State(state): State<ConsoleState>,
    Path((space_id, token_id)): Path<(String, String)>,
    SignedForm { signed, form }: SignedForm<EditTokenForm>,
) -> Result<Response, PageError> {
    let (space_id, token_id) = ids(&space_id, &token_id)?;
    let mut entered = Entered {
        name: Some(form.name.clone()),
        description: Some(form.description.clone()),
        ..Entered::default()
    };
    let name = TokenName::parse(&form.name)
        .map_err(|e| entered.name_error = Some(sentence(&e)))
        .ok();
    // An empty field removes the description.
    let description = if form.description.trim().is_empty() {
        Some(None)
    } else {
        TokenDescription::parse(&form.description)
            .map_err(|e| entered.description_error = Some(sentence(&e)))
            .ok()
            .map(Some)
    };
    let (Some(name), Some(description)) = (name, description) else {
        return page(&state, &signed, space_id, token_id, entered).await;
    };
    let changes = TokenUpdate {
        name: Some(name),
        description: Some(description),
        expires_at: None,
    };
    match state
        .tokens
        .update(signed.actor(), space_id, token_id, changes)
        .await
    {
        Ok(_) => Ok(see_other(&tokens_url(space_id))),
        Err(UpdateTokenError::Ended(status)) => {
            entered.error = Some(format!(
                "This token is {}: it can no longer be edited.",
                status.as_str()
            ));
            page(&state, &signed, space_id, token_id, entered).await
        }
        Err(other) => Err(other.into()),
    }
}
