//! The request body as JSON: one object naming each member once, and the encrypted envelope
//! (D5). The fields of each operation are checked by its table (`operation`).

use prepaid_domain::{Field, FieldError};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::operation::present;

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

/// The compact JWE of an encrypted body `{"encData": "..."}`; `None` for a JSON object without
/// `encData` (a plaintext body).
pub fn enc_data(bytes: &[u8]) -> Result<Option<String>, ApiError> {
    let envelope = json_object(bytes)?;
    match present(&envelope, "encData") {
        None => Ok(None),
        Some(Value::String(compact)) => Ok(Some(compact.clone())),
        Some(_) => Err(FieldError::invalid(Field::EncData).into()),
    }
}

#[cfg(test)]
mod tests {
    use prepaid_domain::ErrorCode;

    use super::*;

    #[test]
    fn a_body_that_is_not_a_json_object_names_no_field() {
        for body in ["", "[]", "\"x\"", "{", "null", "1"] {
            let error = json_object(body.as_bytes()).unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidInput, "{body}");
            assert_eq!(error.description(), "Invalid input parameter.", "{body}");
        }
    }

    #[test]
    fn an_object_naming_a_member_twice_at_any_depth_is_refused() {
        assert!(json_object(br#"{"a":1,"a":2}"#).is_err());
        assert!(json_object(br#"{"a":{"b":1,"b":1}}"#).is_err());
        assert!(json_object(br#"{"a":[{"b":1},{"b":1}]}"#).is_ok());
    }

    #[test]
    fn an_encrypted_body_needs_its_jwe_as_a_string() {
        assert_eq!(
            enc_data(br#"{"encData":"a.b.c.d.e"}"#).unwrap().as_deref(),
            Some("a.b.c.d.e")
        );
        assert_eq!(enc_data(br#"{"encData":null,"a":1}"#).unwrap(), None);
        assert_eq!(
            enc_data(br#"{"encData":1}"#).unwrap_err().description(),
            "Invalid input parameter. encData"
        );
    }
}
