//! The handlers, and [`api`]: the one list of routes that both the router and the OpenAPI
//! document are built from. Handlers are thin: extract, convert the DTO into a command, call one
//! service method, answer a typed response.

mod credentials;
mod events;
pub(crate) mod forward_auth;
mod instance_tokens;
mod introspect;
pub(crate) mod meta;
mod spaces;
mod tokens;

use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) use self::credentials::LEAK_REPORT_PATH;
use crate::middleware::body_limit_for;
use crate::openapi::ApiDoc;
use crate::RouterState;

/// Every route with its documentation. Only routes registered here exist.
pub(crate) fn api() -> OpenApiRouter<RouterState> {
    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(meta::healthz))
        .routes(routes!(meta::readyz))
        .routes(routes!(meta::openapi_json))
        .routes(routes!(tokens::whoami))
        .routes(routes!(introspect::introspect))
        .routes(routes!(spaces::create_space, spaces::list_spaces))
        .routes(routes!(
            spaces::get_space,
            spaces::rename_space,
            spaces::delete_space
        ))
        .routes(routes!(tokens::create_token, tokens::list_tokens))
        .routes(routes!(
            tokens::get_token,
            tokens::update_token,
            tokens::revoke_token
        ))
        .routes(routes!(tokens::rotate_token))
        .routes(routes!(tokens::suspend_token))
        .routes(routes!(tokens::resume_token))
        .routes(routes!(events::list_events))
        .routes(routes!(
            instance_tokens::list_instance_tokens,
            instance_tokens::create_instance_token
        ))
        .routes(routes!(
            instance_tokens::get_instance_token,
            instance_tokens::update_instance_token,
            instance_tokens::revoke_instance_token
        ))
        .routes(routes!(instance_tokens::rotate_instance_token));
    // A full leak report is larger than the 64 KiB other bodies may have.
    let (schemas, paths, report) = routes!(credentials::report_leaked);
    let report = report.layer(DefaultBodyLimit::max(body_limit_for(Some(
        LEAK_REPORT_PATH,
    ))));
    let api = api.routes((schemas, paths, report));
    forward_auth::routes(api)
}
