//! [`ApiForm`]: an `application/x-www-form-urlencoded` body whose rejections speak
//! problem+json, for the one route that takes a form (introspection, as RFC 7662 has it).

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::Form;
use serde::de::DeserializeOwned;

use crate::error::{redact_tokens, ApiError, ErrorCode};
use crate::extract::payload_too_large;

/// What [`ApiForm`] can answer: another content type (415), a body over 64 KiB (413), a body
/// that could not be read (400), and a form that is not valid or lacks a field (400).
pub(crate) const FORM_CODES: &[ErrorCode] = &[
    ErrorCode::UnsupportedMediaType,
    ErrorCode::BadRequest,
    ErrorCode::PayloadTooLarge,
    ErrorCode::InvalidForm,
];

/// A form-encoded request body. Unknown fields are ignored (RFC 7662 lets a client send
/// extension parameters); a missing or repeated field is a 400 `invalid_form`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiForm<T>(pub T);

impl<S, T> FromRequest<S> for ApiForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(value)) => Ok(Self(value)),
            Err(rejection) => Err(form_rejection(&rejection)),
        }
    }
}

fn form_rejection(rejection: &FormRejection) -> ApiError {
    match rejection {
        FormRejection::InvalidFormContentType(_) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the body form-encoded, with `Content-Type: application/x-www-form-urlencoded`.",
        ),
        FormRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            payload_too_large(crate::BODY_LIMIT_BYTES)
        }
        FormRejection::BytesRejection(_) => {
            ApiError::new(ErrorCode::BadRequest, "The request body could not be read.")
        }
        // serde's messages may quote the caller's values; a token among them is redacted.
        other => ApiError::new(
            ErrorCode::InvalidForm,
            format!(
                "The form body is not valid: {}.",
                redact_tokens(&other.body_text())
            ),
        ),
    }
}
