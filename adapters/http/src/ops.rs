//! The operator interface of the fulfilment partner (D18), under `/ops/v1`: the deliveries in
//! progress, status changes reported, and (in the sandbox) a produced card's printed data.
//!
//! Not the ASP API: a request carries `Authorization: Bearer ops_...`, a token the admin command
//! made, and none of the ASP headers. ASP credentials open nothing here, and an operator token
//! opens no ASP operation. Answers use the ASP API's envelope and codes.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use prepaid_application::{
    AuthenticateOperators, DeliveryOrder, DeliveryReport, FulfilDeliveries, FulfilmentError,
    OperatorAuthError, OrderAddress,
};
use prepaid_domain::{
    CardApplyNo, DeliveryHistory, DeliveryStatus, ErrorCode, OperatorName, TimeZone,
};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::pipeline::{envelope, error_chain, serialize};

/// The operator interface's base path.
pub const OPS_PATH: &str = "/ops/v1";

/// The most deliveries a listing answers when no `limit` is given.
const DEFAULT_LIMIT: usize = 100;

/// What the operator interface runs on.
#[derive(Clone)]
pub struct OpsPorts {
    /// Operator tokens.
    pub operators: Arc<dyn AuthenticateOperators>,
    /// The partner's use cases.
    pub fulfilment: Arc<dyn FulfilDeliveries>,
}

/// Adds the operator interface's routes.
pub fn configure(config: &mut web::ServiceConfig, ports: &OpsPorts) {
    config.service(
        web::scope(OPS_PATH)
            .app_data(web::Data::new(ports.clone()))
            .route("/deliveries", web::get().to(list))
            .route("/deliveries/{number}/status", web::post().to(report))
            .route("/deliveries/{number}/redelivery", web::post().to(redeliver))
            .route(
                "/deliveries/{number}/printed-card",
                web::get().to(printed_card),
            )
            .default_service(web::to(crate::pipeline::not_found)),
    );
}

/// A JSON answer: the envelope with `payload`'s members beside it, or the error's.
fn answer(result: Result<Vec<u8>, ApiError>) -> HttpResponse {
    let (status, body) = match result {
        Ok(payload) => (
            StatusCode::OK,
            envelope(
                ErrorCode::Success,
                ErrorCode::Success.message().to_owned(),
                Some(&payload),
            ),
        ),
        Err(error) => (
            error.status(),
            envelope(error.code(), error.description(), None),
        ),
    };
    HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        // Addresses and printed cards are never kept by a cache on the way.
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(body)
}

/// The operator the request's bearer token names, or the refusal (`000_090` for anything but a
/// token made for an operator; the answer never says what was wrong).
async fn operator(request: &HttpRequest, ports: &OpsPorts) -> Result<OperatorName, ApiError> {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(ApiError::new(ErrorCode::AuthenticationFailed))?;
    ports
        .operators
        .authenticate(bearer.trim())
        .await
        .map_err(|error| match error {
            OperatorAuthError::Refused => ApiError::new(ErrorCode::AuthenticationFailed),
            OperatorAuthError::Unavailable(cause) => {
                tracing::error!(error = %error_chain(&cause), "operator tokens unavailable");
                ApiError::new(ErrorCode::SystemError)
            }
        })
}

/// The error answered for a use case's refusal; a failure is logged.
fn refused(error: &FulfilmentError) -> ApiError {
    match error {
        FulfilmentError::Unavailable(cause) => {
            tracing::error!(error = %error_chain(cause), "fulfilment unavailable");
            ApiError::new(ErrorCode::SystemError)
        }
        FulfilmentError::Refused(_) => ApiError::at(error.code(), "status"),
        FulfilmentError::UnknownDelivery | FulfilmentError::NoPrintedCard => {
            ApiError::at(error.code(), "cardApplyNo")
        }
    }
}

/// An application number from the path.
fn number(path: &str) -> Result<CardApplyNo, ApiError> {
    CardApplyNo::parse(path).map_err(|error| ApiError::at(error.code(), "cardApplyNo"))
}

/// One status a delivery reached.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StepDto {
    status: &'static str,
    changed_at: String,
}

fn history(history: &DeliveryHistory) -> Vec<StepDto> {
    history
        .steps()
        .iter()
        .map(|step| StepDto {
            status: step.status.as_str(),
            // A step outside years 1 to 9999 cannot be stored: the store refuses it as corrupt.
            changed_at: step
                .at
                .civil(TimeZone::Kst)
                .map(|civil| civil.to_digits14())
                .unwrap_or_default(),
        })
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddressDto<'a> {
    address: &'a str,
    address_detail: &'a str,
    zip_code: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderDto<'a> {
    asp_id: &'a str,
    card_apply_no: &'a str,
    status: &'static str,
    status_history: Vec<StepDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_info: Option<AddressDto<'a>>,
}

impl<'a> From<&'a DeliveryOrder> for OrderDto<'a> {
    fn from(order: &'a DeliveryOrder) -> Self {
        Self {
            asp_id: order.asp_id.as_str(),
            card_apply_no: order.application.as_str(),
            status: order.history.current().as_str(),
            status_history: history(&order.history),
            address_info: match &order.address {
                OrderAddress::Open(address) => Some(AddressDto {
                    address: address.address.as_str(),
                    address_detail: address.detail.as_str(),
                    zip_code: address.zip_code.as_str(),
                }),
                OrderAddress::NotSealedYet => None,
                OrderAddress::Unreadable => {
                    tracing::error!(
                        card_apply_no = order.application.as_str(),
                        "a delivery address does not open with this instance's keys"
                    );
                    None
                }
            },
        }
    }
}

#[derive(Serialize)]
struct OrdersDto<'a> {
    deliveries: Vec<OrderDto<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    limit: Option<String>,
    asp_id: Option<String>,
}

/// `GET /ops/v1/deliveries?limit=N&aspId=...`: the deliveries in progress (of one project when
/// `aspId` is given), the longest unchanged first.
async fn list(
    request: HttpRequest,
    query: Option<web::Query<ListQuery>>,
    ports: web::Data<OpsPorts>,
) -> HttpResponse {
    answer(
        async {
            operator(&request, &ports).await?;
            let ListQuery { limit, asp_id } = query.map_or(
                ListQuery {
                    limit: None,
                    asp_id: None,
                },
                web::Query::into_inner,
            );
            let project = asp_id
                .map(|text| {
                    prepaid_domain::AspId::parse(&text)
                        .map_err(|error| ApiError::at(error.code(), "aspId"))
                })
                .transpose()?;
            let limit = match limit {
                None => DEFAULT_LIMIT,
                Some(text) => text
                    .parse::<usize>()
                    .ok()
                    .filter(|limit| (1..=prepaid_application::MOST_ORDERS).contains(limit))
                    .ok_or(ApiError::at(ErrorCode::InvalidInput, "limit"))?,
            };
            let orders = ports
                .fulfilment
                .orders(project, limit)
                .await
                .map_err(|error| refused(&error))?;
            Ok(serialize(&OrdersDto {
                deliveries: orders.iter().map(OrderDto::from).collect(),
            }))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct ReportBody {
    status: Option<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportDto<'a> {
    asp_id: &'a str,
    card_apply_no: &'a str,
    status: &'static str,
    status_history: Vec<StepDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_card_par: Option<&'a str>,
    changed: bool,
}

impl<'a> From<&'a DeliveryReport> for ReportDto<'a> {
    fn from(report: &'a DeliveryReport) -> Self {
        Self {
            asp_id: report.asp_id.as_str(),
            card_apply_no: report.application.as_str(),
            status: report.history.current().as_str(),
            status_history: history(&report.history),
            physical_card_par: report
                .physical_card
                .as_ref()
                .map(prepaid_domain::Par::as_str),
            changed: report.changed,
        }
    }
}

/// The status a report names: a delivery status (`000_003` absent, `000_002` anything else).
fn reported_status(body: &[u8]) -> Result<DeliveryStatus, ApiError> {
    let parsed: ReportBody =
        serde_json::from_slice(body).map_err(|_| ApiError::malformed_body())?;
    match parsed.status {
        None | Some(serde_json::Value::Null) => {
            Err(ApiError::at(ErrorCode::MissingValue, "status"))
        }
        Some(serde_json::Value::String(text)) => {
            DeliveryStatus::parse(&text).ok_or(ApiError::at(ErrorCode::InvalidInput, "status"))
        }
        Some(_) => Err(ApiError::at(ErrorCode::InvalidInput, "status")),
    }
}

/// `POST /ops/v1/deliveries/{cardApplyNo}/status` with `{"status": "..."}`: the delivery
/// reached that status, as the table allows (`003_091` otherwise, and nothing changes).
async fn report(
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    ports: web::Data<OpsPorts>,
) -> HttpResponse {
    answer(
        async {
            let operator = operator(&request, &ports).await?;
            let number = number(&path)?;
            let next = reported_status(&body)?;
            let report = ports
                .fulfilment
                .report(&number, next)
                .await
                .map_err(|error| refused(&error))?;
            tracing::info!(
                operator = operator.as_str(),
                card_apply_no = number.as_str(),
                status = next.as_str(),
                changed = report.changed,
                "delivery status reported"
            );
            Ok(serialize(&ReportDto::from(&report)))
        }
        .await,
    )
}

/// `POST /ops/v1/deliveries/{cardApplyNo}/redelivery`: a lost or returned delivery is sent
/// again, a new leg from `READY` (`003_091` for any other delivery, and nothing changes).
async fn redeliver(
    request: HttpRequest,
    path: web::Path<String>,
    ports: web::Data<OpsPorts>,
) -> HttpResponse {
    answer(
        async {
            let operator = operator(&request, &ports).await?;
            let number = number(&path)?;
            let report =
                ports
                    .fulfilment
                    .redeliver(&number)
                    .await
                    .map_err(|error| match error {
                        FulfilmentError::Refused(_) => ApiError::new(error.code()),
                        other => refused(&other),
                    })?;
            tracing::info!(
                operator = operator.as_str(),
                card_apply_no = number.as_str(),
                "delivery sent again"
            );
            Ok(serialize(&ReportDto::from(&report)))
        }
        .await,
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PrintedDto<'a> {
    par: &'a str,
    card_no: &'a str,
    expiry_date: String,
    card_cvc: &'a str,
    card_status: &'static str,
}

/// `GET /ops/v1/deliveries/{cardApplyNo}/printed-card`: the produced card as printed, in the
/// sandbox only (elsewhere `003_001`, as for a delivery without a card).
async fn printed_card(
    request: HttpRequest,
    path: web::Path<String>,
    ports: web::Data<OpsPorts>,
) -> HttpResponse {
    answer(
        async {
            operator(&request, &ports).await?;
            let number = number(&path)?;
            let card = ports
                .fulfilment
                .printed_card(&number)
                .await
                .map_err(|error| refused(&error))?;
            Ok(serialize(&PrintedDto {
                par: card.par.as_str(),
                card_no: card.pan.expose(),
                expiry_date: card.expiry.to_yymm(),
                card_cvc: card.cvc.expose(),
                card_status: card.status.as_str(),
            }))
        }
        .await,
    )
}
