//! `GET /api/tickets/{id}/deliveries`: the mail a ticket caused and what became of each.

use axum::extract::State;
use growdesk_domain::Delivery;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, Caller};
use crate::routes::List;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_ticket_deliveries))
}

/// The mail a ticket caused, newest first (staff).
///
/// The newest 100 replies, acknowledgements and resolved notices sent to the requester, each
/// with its status (`queued`, `sent`, `failed` or `bounced`), attempts and last error.
#[utoipa::path(get, path = "/api/tickets/{id}/deliveries", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The ticket's mail", body = List<Delivery>, example = json!({"items": [{"mail_id": "5d6e7f80-91a2-4b3c-8d4e-5f60718293a4", "kind": "reply", "recipient": "cy@example.com", "status": "sent", "attempts": 1, "last_error": null, "created_at": "2026-03-02T09:20:00Z", "sent_at": "2026-03-02T09:20:03Z"}], "next_cursor": null})),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_ticket_deliveries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<List<Delivery>>, ApiError> {
    Ok(axum::Json(List::whole(
        state.service.tickets().deliveries(&caller, id).await?,
    )))
}
