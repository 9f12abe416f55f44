//! The request body: the encrypted envelope (D5) and the issue-and-delivery payload, each field
//! checked for presence, type, length and format in the order the source page lists them (D2).

use prepaid_domain::{
    AddressDetail, DeliveryAddress, DeliveryChoice, Field, FieldError, IssuanceRequest, MemberId,
    Purpose, RoadAddress, ServiceId, ZipCode,
};
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization as _;

use crate::error::ApiError;

/// Parses `bytes` as a JSON object; anything else is `000_002` with no path. An object with a
/// member name twice, at any depth, is refused too: `serde_json` keeps the last one, while a
/// gateway in front may have read the first, and the two would disagree on what was asked.
pub fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) if !has_duplicate_members(bytes) => Ok(object),
        _ => Err(ApiError::malformed_body()),
    }
}

/// Whether some object in the JSON text `bytes` names a member twice (`true` also when the text
/// is not JSON at all).
fn has_duplicate_members(bytes: &[u8]) -> bool {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde::de::DeserializeSeed::deserialize(UniqueMembers, &mut deserializer).is_err()
}

/// Walks a JSON value and fails on the first object that repeats a member name. Numbers read
/// with `arbitrary_precision` arrive as one-member maps, which never repeat.
#[derive(Clone, Copy)]
struct UniqueMembers;

impl<'de> serde::de::DeserializeSeed<'de> for UniqueMembers {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for UniqueMembers {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("JSON whose objects name each member once")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while items.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut members: A) -> Result<(), A::Error> {
        let mut names = std::collections::HashSet::new();
        while let Some(name) = members.next_key::<std::borrow::Cow<'de, str>>()? {
            if !names.insert(name) {
                return Err(serde::de::Error::custom("a member name repeated"));
            }
            members.next_value_seed(self)?;
        }
        Ok(())
    }
}

/// The member `name` of `object`: `None` when absent or `null` (both are "missing", D2).
fn present<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|value| !value.is_null())
}

fn required<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    field: Field,
) -> Result<&'a Value, FieldError> {
    present(object, name).ok_or(FieldError::missing(field))
}

fn string(value: &Value, field: Field) -> Result<&str, FieldError> {
    value.as_str().ok_or(FieldError::invalid(field))
}

fn object(value: &Value, field: Field) -> Result<&Map<String, Value>, FieldError> {
    value.as_object().ok_or(FieldError::invalid(field))
}

/// The compact JWE of an encrypted body `{"encData": "..."}`.
pub fn enc_data(bytes: &[u8]) -> Result<String, ApiError> {
    let envelope = json_object(bytes)?;
    let value = required(&envelope, "encData", Field::EncData)?;
    Ok(string(value, Field::EncData)?.to_owned())
}

/// Why a payload was refused: its first problem in the source page's order, and, when that
/// problem lies after `serviceId`, the product asked for. The caller checks that the product is
/// offered first: an unknown product is reported at its own place in the order (D2), before
/// `isDeliveryRequired` or `purpose`.
#[derive(Debug)]
pub struct BodyRefusal {
    /// The problem.
    pub error: ApiError,
    /// The well-formed `serviceId`, when the problem came after it.
    pub after_product: Option<ServiceId>,
}

impl<E: Into<ApiError>> From<E> for BodyRefusal {
    fn from(error: E) -> Self {
        Self {
            error: error.into(),
            after_product: None,
        }
    }
}

/// Parses the issue-and-delivery payload into a domain request.
pub fn issuance_request(bytes: &[u8]) -> Result<IssuanceRequest, BodyRefusal> {
    let body = json_object(bytes)?;

    let user_info = object(
        required(&body, "userInfo", Field::UserInfo)?,
        Field::UserInfo,
    )?;
    let user_id = required(user_info, "userId", Field::UserId)?;
    let member = match user_id {
        // With `arbitrary_precision`, the number's text is exactly what was sent, so ids beyond
        // `u64`, fractions and exponents are all seen and refused by the domain.
        Value::Number(number) => MemberId::parse(&number.to_string())?,
        _ => return Err(FieldError::invalid(Field::UserId).into()),
    };

    // `isDeliveryRequired` decides whether `addressInfo` is required; its own errors are
    // reported at its place in the order, after `serviceId`.
    let delivery_flag = match present(&body, "isDeliveryRequired") {
        None => Ok(true),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(_) => Err(FieldError::invalid(Field::IsDeliveryRequired)),
    };
    let address = if delivery_flag == Ok(true) {
        Some(delivery_address(&body)?)
    } else {
        None
    };

    let service_id = ServiceId::parse(string(
        required(&body, "serviceId", Field::ServiceId)?,
        Field::ServiceId,
    )?)?;
    let after_product = || -> Result<(DeliveryChoice, Option<Purpose>), FieldError> {
        let delivery = match (delivery_flag?, address) {
            (true, Some(address)) => DeliveryChoice::Deliver(address),
            _ => DeliveryChoice::MobileOnly,
        };
        let purpose = present(&body, "purpose")
            .map(|value| string(value, Field::Purpose).and_then(Purpose::parse))
            .transpose()?;
        Ok((delivery, purpose))
    };
    match after_product() {
        Ok((delivery, purpose)) => Ok(IssuanceRequest {
            member,
            delivery,
            service_id,
            purpose,
        }),
        Err(error) => Err(BodyRefusal {
            error: error.into(),
            after_product: Some(service_id),
        }),
    }
}

fn delivery_address(body: &Map<String, Value>) -> Result<DeliveryAddress, FieldError> {
    let info = object(
        required(body, "addressInfo", Field::AddressInfo)?,
        Field::AddressInfo,
    )?;
    // Text is taken in Unicode normalization form C: the same Korean address sent precomposed
    // (NFC) or decomposed into its jamo (NFD, as some keyboards and macOS file names do) is one
    // address, of one length, with one fingerprint.
    let text = |name, field| {
        required(info, name, field)
            .and_then(|value| string(value, field))
            .map(|text| text.nfc().collect::<String>())
    };
    Ok(DeliveryAddress {
        address: RoadAddress::parse(&text("address", Field::Address)?)?,
        detail: AddressDetail::parse(&text("addressDetail", Field::AddressDetail)?)?,
        zip_code: ZipCode::parse(&text("zipCode", Field::ZipCode)?)?,
    })
}

#[cfg(test)]
mod tests {
    use prepaid_domain::ErrorCode;

    use super::*;

    fn error_of(json: &str) -> String {
        issuance_request(json.as_bytes())
            .unwrap_err()
            .error
            .description()
    }

    #[test]
    fn the_first_problem_in_source_page_order_is_reported() {
        assert_eq!(error_of("{}"), "Missing required values. userInfo");
        assert_eq!(
            error_of(r#"{"userInfo":{"userId":1},"serviceId":"x"}"#),
            "Missing required values. addressInfo"
        );
        assert_eq!(
            error_of(r#"{"userInfo":{"userId":1},"isDeliveryRequired":false,"serviceId":"x"}"#),
            "The length of value does not match. serviceId"
        );
        assert_eq!(
            error_of(
                r#"{"userInfo":{"userId":1},"isDeliveryRequired":"no","serviceId":"000170000002000"}"#
            ),
            "Invalid input parameter. isDeliveryRequired"
        );
    }

    #[test]
    fn a_body_that_is_not_a_json_object_names_no_field() {
        for body in ["", "[]", "\"x\"", "{", "null", "1"] {
            let error = issuance_request(body.as_bytes()).unwrap_err().error;
            assert_eq!(error.code(), ErrorCode::InvalidInput, "{body}");
            assert_eq!(error.description(), "Invalid input parameter.", "{body}");
        }
    }

    #[test]
    fn mobile_only_ignores_an_address_that_is_not_needed() {
        let request = issuance_request(
            br#"{"userInfo":{"userId":1},"addressInfo":{"address":""},"isDeliveryRequired":false,"serviceId":"000170000002000"}"#,
        )
        .unwrap();
        assert_eq!(request.delivery, DeliveryChoice::MobileOnly);
    }
}
