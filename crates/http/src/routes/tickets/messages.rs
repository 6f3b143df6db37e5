//! A ticket's conversation: `GET` and `POST /api/tickets/{id}/messages` (JSON or a multipart
//! form with files) and `GET /api/attachments/{id}` downloads.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use growdesk_domain::{Message, ValidationErrors};
use growdesk_service::messages::{MessageDraft, Upload};
use growdesk_service::pagination::PageRequest;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{PageQuery, idempotency_key};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::List;
use crate::schemas;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages, post_message))
        .routes(routes!(download_attachment))
}

/// A message to post as JSON; with files, send the same fields as `multipart/form-data`
/// (`body`, `internal`, and one `files` part per file).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MessageRequest {
    #[schema(schema_with = schemas::message_body)]
    body: String,
    /// An internal note, never shown to customers (staff only).
    #[serde(default)]
    internal: bool,
}

/// A conversation's messages, oldest first.
///
/// Customers never see internal notes. Each message lists its attachments and the `channel` it
/// came by (`web`, `widget`, `email`, `api`, `import` or `system`); staff also see the
/// `delivery` of a message that was mailed. Paged with `limit` and `cursor`.
#[utoipa::path(get, path = "/api/tickets/{id}/messages", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), PageQuery),
    responses(
        (status = 200, description = "A page of messages", body = List<Message>),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_messages(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<axum::Json<List<Message>>, ApiError> {
    let page = PageRequest::<Uuid>::parse(query.limit, query.cursor.as_deref())?;
    Ok(axum::Json(
        state
            .service
            .messages()
            .list(&caller, id, page)
            .await?
            .into(),
    ))
}

/// Reply, or write an internal note.
///
/// JSON, or `multipart/form-data` with `body`, `internal` and one `files` part per file (at most
/// GROWDESK_ATTACHMENT_MAX_BYTES per message). Internal notes are for staff only. A customer's
/// reply reopens a pending or resolved ticket; a closed ticket takes internal notes only (409).
/// Honours `Idempotency-Key` as POST /api/tickets does. An agent's public reply to a requester who
/// wrote by email (or a widget visitor who has left) is mailed to them: for staff, `delivery`
/// says where that mail stands (GET /api/tickets/{id}/deliveries lists them all).
#[utoipa::path(post, path = "/api/tickets/{id}/messages", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes retries safe: 1 to 255 visible ASCII characters")),
    request_body(content(
        (MessageRequest = "application/json", example = json!({"body": "A refund is on its way.", "internal": false})),
        (MessageRequest = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Posted", body = Message, example = json!({"id": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f", "ticket_id": "0b8e2f4c-5d6a-4e7b-8c9d-0e1f2a3b4c5d", "author": {"id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b", "name": "Ana", "role": "agent"}, "body": "A refund is on its way.", "internal": false, "created_at": "2026-03-02T09:20:00Z", "attachments": [], "channel": "web", "delivery": {"mail_id": "5d6e7f80-91a2-4b3c-8d4e-5f60718293a4", "kind": "reply", "recipient": "cy@example.com", "status": "queued", "attempts": 0, "last_error": null, "created_at": "2026-03-02T09:20:00Z", "sent_at": null}})),
        (status = 403, description = "Internal note from a customer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The ticket is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Files too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
async fn post_message(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, axum::Json<Message>), ApiError> {
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    let draft = if multipart {
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|rejection| ApiError::Refused {
                status: rejection.status(),
                detail: rejection.body_text(),
            })?;
        read_message_form(form).await?
    } else {
        let ApiJson(body) = ApiJson::<MessageRequest>::from_request(request, &state).await?;
        MessageDraft {
            body: body.body,
            internal: body.internal,
            files: Vec::new(),
        }
    };
    let message = state
        .service
        .messages()
        .post(&caller, id, draft, idempotency_key(&headers)?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(message)))
}

async fn read_message_form(mut form: Multipart) -> Result<MessageDraft, ApiError> {
    let bad = |detail: String| ApiError::Refused {
        status: StatusCode::BAD_REQUEST,
        detail,
    };
    let mut draft = MessageDraft::default();
    let mut body = None;
    while let Some(field) = form.next_field().await.map_err(|error| ApiError::Refused {
        status: error.status(),
        detail: error.body_text(),
    })? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "body" => body = Some(field.text().await.map_err(|error| bad(error.body_text()))?),
            "internal" => {
                let text = field.text().await.map_err(|error| bad(error.body_text()))?;
                draft.internal = match text.trim() {
                    "true" | "1" => true,
                    "false" | "0" | "" => false,
                    _ => {
                        return Err(
                            ValidationErrors::single("internal", "must be true or false").into(),
                        );
                    }
                };
            }
            "files" | "file" => {
                let filename = field.file_name().unwrap_or("attachment").to_owned();
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let bytes = field.bytes().await.map_err(|error| ApiError::Refused {
                    status: error.status(),
                    detail: error.body_text(),
                })?;
                draft.files.push(Upload {
                    filename,
                    content_type,
                    bytes: bytes.to_vec(),
                });
            }
            other => {
                return Err(ValidationErrors::single(other, "is not a field of a message").into());
            }
        }
    }
    draft.body = body.ok_or_else(|| ValidationErrors::single("body", "is required"))?;
    Ok(draft)
}

/// `filename*` per RFC 5987: UTF-8, percent-encoded.
fn encode_filename(name: &str) -> String {
    name.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Download an attachment.
///
/// Only to those who may see its message (404 otherwise), always as a file, never shown inline
/// (`Content-Disposition: attachment`, `X-Content-Type-Options: nosniff` and a sandboxing CSP).
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "tickets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, description = "No such attachment, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn download_attachment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let (attachment, path) = state.service.messages().attachment(&caller, id).await?;
    let file = tokio::fs::File::open(&path).await.map_err(|error| {
        ApiError::Service(growdesk_service::ServiceError::Internal(Box::new(error)))
    })?;
    let ascii: String = attachment
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode_filename(&attachment.filename)
    );
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&attachment.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(attachment.size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_percent_encoded() {
        assert_eq!(
            encode_filename("Facturación 1.pdf"),
            "Facturaci%C3%B3n%201.pdf"
        );
        assert_eq!(encode_filename("a\"b;c"), "a%22b%3Bc");
    }
}
