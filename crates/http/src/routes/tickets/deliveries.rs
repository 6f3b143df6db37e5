//! `GET /api/tickets/{id}/deliveries`: the mail a ticket caused and what became of each.

use axum::extract::State;
use growdesk_domain::Delivery;
use growdesk_service::pagination::PageRequest;
use growdesk_service::tickets::DeliveryPosition;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::PageQuery;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::routes::List;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_ticket_deliveries))
}

/// The mail a ticket caused, newest first (staff).
///
/// The replies, acknowledgements and resolved notices sent to the requester, each with its
/// status (`queued`, `sent`, `failed` or `bounced`), attempts and last error. Paged with `limit`
/// and `cursor`.
#[utoipa::path(get, path = "/api/tickets/{id}/deliveries", tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), PageQuery),
    responses(
        (status = 200, description = "A page of the ticket's mail", body = List<Delivery>, example = json!({"items": [{"mail_id": "5d6e7f80-91a2-4b3c-8d4e-5f60718293a4", "kind": "reply", "recipient": "cy@example.com", "status": "sent", "attempts": 1, "last_error": null, "created_at": "2026-03-02T09:20:00Z", "sent_at": "2026-03-02T09:20:03Z"}], "next_cursor": null})),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `limit` or a cursor this list did not issue", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_ticket_deliveries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<axum::Json<List<Delivery>>, ApiError> {
    let page = PageRequest::<DeliveryPosition>::parse(query.limit, query.cursor.as_deref())?;
    Ok(axum::Json(
        state
            .service
            .tickets()
            .deliveries(&caller, id, page)
            .await?
            .into(),
    ))
}
