//! The declaration of an operation (D12, D13): its path, its request and response tables, its
//! codes, its encryption and whether it changes state. Everything the HTTP adapter says or
//! checks about an operation comes from its declaration: the pipeline validates bodies by
//! walking the request table, `/openapi.json` describes both tables, and the error tables of
//! `docs/API.md` are rendered from the codes (a test keeps them equal).

use prepaid_domain::{ErrorCode, Rule};
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization as _;

use crate::error::ApiError;

/// One operation of the API.
#[derive(Debug)]
pub struct Operation {
    /// The OpenAPI `operationId`.
    pub id: &'static str,
    /// The platform's name of the operation.
    pub summary: &'static str,
    /// What it does, for the documentation.
    pub description: &'static str,
    /// The path under a base path.
    pub path: &'static str,
    /// The request body, in the order its fields are checked (D2, D12).
    pub request: &'static [Member],
    /// The success payload, beside `response`.
    pub response: &'static [Member],
    /// The codes this operation answers besides those every operation answers
    /// ([`COMMON_CODES`]), each with when.
    pub codes: &'static [(ErrorCode, &'static str)],
    /// Whether a project that is not allowed plaintext must encrypt the request (D13).
    pub encrypted_request: bool,
    /// Whether the answer is encrypted even to a plaintext request (D13).
    pub encrypted_response: bool,
    /// Whether it changes state: a retry with the same correlation id answers the first outcome
    /// (D14). Inquiries record nothing.
    pub changes_state: bool,
    /// The Test Data scenarios: requests and the answers they get from the sandbox.
    pub scenarios: &'static [Scenario],
    /// What a success lets a client do next (OpenAPI links).
    pub links: &'static [Link],
}

/// An operation a success leads to, with the request it can send: an OpenAPI link.
#[derive(Debug)]
pub struct Link {
    /// The link's name.
    pub name: &'static str,
    /// What it means.
    pub description: &'static str,
    /// The operation it leads to.
    pub to: &'static Operation,
    /// Its request body: JSON whose string members may be runtime expressions over the answer
    /// (`$response.body#/pointer`).
    pub request_body: &'static str,
}

/// A Test Data scenario.
#[derive(Debug)]
pub struct Scenario {
    /// Its key in the documentation's examples.
    pub name: &'static str,
    /// What it shows.
    pub summary: &'static str,
    /// The request body (JSON).
    pub request: &'static str,
    /// The code it is answered with.
    pub code: ErrorCode,
    /// The field path of the answer's description, for field errors.
    pub path: Option<&'static str>,
    /// The success payload (JSON, without `response`).
    pub payload: Option<&'static str>,
    /// What must be sent first, for a scenario about something made just before (a cancel is
    /// only allowed on the day of application).
    pub prepare: Option<Prepare>,
}

/// A scenario sent first, whose answer gives a member of the scenario's request.
#[derive(Debug)]
pub struct Prepare {
    /// The operation sent first.
    pub operation: &'static Operation,
    /// Its scenario whose request is sent.
    pub scenario: &'static str,
    /// The member of its answer, and the member of this request it replaces, if any (without
    /// one, the request is about what the first one made, as a whole).
    pub member: Option<(&'static str, &'static str)>,
}

/// The codes every operation can answer, with when: headers, authentication, encryption,
/// the body's shape, size and the service's failures (D1-D6).
pub const COMMON_CODES: &[(ErrorCode, &str)] = &[
    (ErrorCode::Success, "The request succeeded."),
    (
        ErrorCode::InvalidInput,
        "A header or body value has the wrong type, format or value; the body is not a JSON object.",
    ),
    (
        ErrorCode::MissingValue,
        "A required header or body value is absent or null.",
    ),
    (
        ErrorCode::LengthMismatch,
        "A header or body value is outside its length.",
    ),
    (
        ErrorCode::AuthenticationFailed,
        "Unknown ASP id, or an access key that is unknown, inactive, discarded or another ASP's.",
    ),
    (
        ErrorCode::InvalidTranToken,
        "The tran token is malformed or its HMAC does not match the body.",
    ),
    (
        ErrorCode::RequestTimeOutOfWindow,
        "The request time is more than 5 minutes from the server clock, or the token time differs from X-KM-Tran-Time.",
    ),
    (
        ErrorCode::ReplayedTranToken,
        "The tran token was already accepted for another request.",
    ),
    (
        ErrorCode::DecryptionFailed,
        "The encrypted body could not be decrypted.",
    ),
    (
        ErrorCode::PayloadTooLarge,
        "The body is larger than 64 KiB.",
    ),
    (
        ErrorCode::SystemError,
        "The service failed; retry with the same correlation id.",
    ),
];

/// The code a retry with the same correlation id and another payload gets, on operations that
/// change state (D14).
pub const RETRY_CODE: (ErrorCode, &str) = (
    ErrorCode::CorrelationIdConflict,
    "The correlation id was already used with another payload or on another operation.",
);

impl Operation {
    /// Every code this operation can answer, each once, with when: the common ones, the
    /// retry conflict when it changes state, then its own.
    pub fn all_codes(&self) -> Vec<(ErrorCode, &'static str)> {
        let mut codes: Vec<(ErrorCode, &'static str)> = COMMON_CODES.to_vec();
        if self.changes_state {
            codes.push(RETRY_CODE);
        }
        for own in self.codes {
            if let Some(known) = codes.iter_mut().find(|(code, _)| *code == own.0) {
                known.1 = own.1;
            } else {
                codes.push(*own);
            }
        }
        codes.sort_by_key(|(code, _)| code.code());
        codes
    }
}

/// A member of a JSON object, as a row of a request or response table.
#[derive(Debug)]
pub struct Member {
    /// Its name in the object.
    pub name: &'static str,
    /// Its path in messages (D2): dotted from the body's root.
    pub path: &'static str,
    /// Whether it must be there.
    pub presence: Presence,
    /// Its JSON type and rules.
    pub kind: Kind,
    /// What it means, for the documentation.
    pub description: &'static str,
    /// What it names, when a refusal of a later field must first say that it does not exist.
    pub reference: Option<Reference>,
}

/// Whether a member must be present (absent and `null` are the same, D2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Always required: `000_003` when absent.
    Required,
    /// May be absent.
    Optional,
    /// Required unless the boolean member named here, beside it, is `false`; when that member
    /// is `false` or not a boolean, this member is ignored, whatever it holds.
    RequiredUnlessFalse(&'static str),
    /// Exactly one of this member and the member named here, which comes later in the table
    /// and is declared optional: neither is `000_003`, both `000_002`, each at this member's
    /// path.
    OneOf(&'static str),
}

/// A checker of a value's text: the domain type's own constructor, reduced to the rule broken.
pub type Check = fn(&str) -> Result<(), Rule>;

/// A member's JSON type and its rules.
#[derive(Debug)]
pub enum Kind {
    /// A string.
    Text(Text),
    /// An integer (its exact text is checked, beyond 64 bits too).
    Integer {
        /// The smallest value.
        min: u64,
        /// The largest value.
        max: u64,
        /// The check of the number's text.
        check: Check,
    },
    /// A boolean.
    Boolean {
        /// The value when absent.
        default: Option<bool>,
    },
    /// An object.
    Object(&'static [Member]),
    /// An array; a problem with an item is reported at the array's path (D12).
    List {
        /// The fewest items.
        min: usize,
        /// The most items.
        max: usize,
        /// The items' type.
        item: &'static Kind,
    },
}

/// A string's rules.
#[derive(Debug)]
pub struct Text {
    /// The fewest characters.
    pub min: usize,
    /// The most characters.
    pub max: usize,
    /// The characters allowed, as a regular expression for the documentation.
    pub pattern: Option<&'static str>,
    /// The values allowed, when it is an enumeration.
    pub values: &'static [&'static str],
    /// Whether the text is taken in Unicode normalization form C before it is checked.
    pub normalized: bool,
    /// The check (the domain's constructor), lengths included.
    pub check: Check,
}

/// What a member names, to be looked up before a later field's refusal is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// A product id: an unknown product is `000_002` at its own place in the order (D2).
    Product,
}

/// A body refused by its table: the first problem, and the references that were valid before
/// it (to be looked up first).
#[derive(Debug)]
pub struct Refusal {
    /// The first problem in the table's order.
    pub error: ApiError,
    /// The members with a [`Reference`] that were valid before the problem, with their text.
    pub references: Vec<(Reference, &'static str, String)>,
}

/// Checks `body` against `table`, member by member in the table's order, and answers the first
/// problem (D2: presence, type, length, value).
pub fn validate(table: &'static [Member], body: &Map<String, Value>) -> Result<(), Refusal> {
    let mut references = Vec::new();
    walk(table, body, &mut references).map_err(|error| Refusal { error, references })
}

/// The member `name` of `object`: `None` when absent or `null` (both are "missing", D2).
pub fn present<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|value| !value.is_null())
}

fn walk(
    table: &'static [Member],
    object: &Map<String, Value>,
    references: &mut Vec<(Reference, &'static str, String)>,
) -> Result<(), ApiError> {
    for member in table {
        let required = match member.presence {
            Presence::Required => true,
            Presence::Optional => false,
            Presence::RequiredUnlessFalse(flag) => match present(object, flag) {
                None | Some(Value::Bool(true)) => true,
                Some(_) => continue,
            },
            Presence::OneOf(other) => {
                match (present(object, member.name), present(object, other)) {
                    (None, None) => return Err(ApiError::at(ErrorCode::MissingValue, member.path)),
                    (Some(_), Some(_)) => {
                        return Err(ApiError::at(ErrorCode::InvalidInput, member.path));
                    }
                    (None, Some(_)) => continue,
                    (Some(_), None) => true,
                }
            }
        };
        let Some(value) = present(object, member.name) else {
            if required {
                return Err(ApiError::at(ErrorCode::MissingValue, member.path));
            }
            continue;
        };
        check(&member.kind, value, member.path, references)?;
        if let (Some(reference), Some(text)) = (member.reference, value.as_str()) {
            references.push((reference, member.path, text.to_owned()));
        }
    }
    Ok(())
}

fn check(
    kind: &'static Kind,
    value: &Value,
    path: &'static str,
    references: &mut Vec<(Reference, &'static str, String)>,
) -> Result<(), ApiError> {
    let invalid = ApiError::at(ErrorCode::InvalidInput, path);
    let broken = |rule: Rule| ApiError::at(rule.code(), path);
    match (kind, value) {
        (Kind::Text(text), Value::String(given)) if text.normalized => {
            (text.check)(&given.nfc().collect::<String>()).map_err(broken)
        }
        (Kind::Text(text), Value::String(given)) => (text.check)(given).map_err(broken),
        (Kind::Integer { check, .. }, Value::Number(number)) => {
            check(&number.to_string()).map_err(broken)
        }
        (Kind::Boolean { .. }, Value::Bool(_)) => Ok(()),
        (Kind::Object(table), Value::Object(object)) => walk(table, object, references),
        (Kind::List { min, max, item }, Value::Array(items)) => {
            if items.len() < *min || items.len() > *max {
                return Err(invalid);
            }
            for value in items {
                check(item, value, path, references)?;
            }
            Ok(())
        }
        _ => Err(invalid),
    }
}

/// Every member of `table` and of its nested objects (lists of objects included), depth first,
/// in order.
#[cfg(test)]
pub fn flatten(table: &'static [Member]) -> Vec<&'static Member> {
    let mut members = Vec::new();
    for member in table {
        members.push(member);
        match &member.kind {
            Kind::Object(inner)
            | Kind::List {
                item: Kind::Object(inner),
                ..
            } => members.extend(flatten(inner)),
            _ => {}
        }
    }
    members
}

#[cfg(test)]
mod tests {
    use prepaid_domain::ServiceId;
    use serde_json::json;

    use super::*;

    fn service_id(text: &str) -> Result<(), Rule> {
        ServiceId::parse(text)
            .map(drop)
            .map_err(|error| error.rule())
    }

    fn flag_check(text: &str) -> Result<(), Rule> {
        match text.chars().count() {
            1..=3 if text == "ONE" => Ok(()),
            1..=3 => Err(Rule::Invalid),
            _ => Err(Rule::Length),
        }
    }

    const ID: Kind = Kind::Text(Text {
        min: 15,
        max: 15,
        pattern: None,
        values: &[],
        normalized: false,
        check: service_id,
    });

    static INNER: [Member; 1] = [Member {
        name: "value",
        path: "outer.value",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 1,
            max: 3,
            pattern: None,
            values: &["ONE"],
            normalized: true,
            check: flag_check,
        }),
        description: "",
        reference: None,
    }];

    static TABLE: [Member; 4] = [
        Member {
            name: "outer",
            path: "outer",
            presence: Presence::RequiredUnlessFalse("wanted"),
            kind: Kind::Object(&INNER),
            description: "",
            reference: None,
        },
        Member {
            name: "id",
            path: "id",
            presence: Presence::Required,
            kind: ID,
            description: "",
            reference: Some(Reference::Product),
        },
        Member {
            name: "wanted",
            path: "wanted",
            presence: Presence::Optional,
            kind: Kind::Boolean {
                default: Some(true),
            },
            description: "",
            reference: None,
        },
        Member {
            name: "ids",
            path: "ids",
            presence: Presence::Optional,
            kind: Kind::List {
                min: 1,
                max: 2,
                item: &ID,
            },
            description: "",
            reference: None,
        },
    ];

    fn first_problem(body: &Value) -> Option<String> {
        validate(&TABLE, body.as_object().unwrap())
            .err()
            .map(|refusal| {
                format!(
                    "{} {}",
                    refusal.error.code().code(),
                    refusal.error.description()
                )
            })
    }

    #[test]
    fn members_are_checked_in_the_order_of_the_table() {
        assert_eq!(
            first_problem(&json!({})).as_deref(),
            Some("000_003 Missing required values. outer")
        );
        assert_eq!(
            first_problem(&json!({"outer": {"value": "ONE"}})).as_deref(),
            Some("000_003 Missing required values. id")
        );
        assert_eq!(
            first_problem(&json!({"outer": {"value": "FOUR"}, "id": 1})).as_deref(),
            Some("000_015 The length of value does not match. outer.value")
        );
        assert_eq!(
            first_problem(&json!({"outer": {"value": "TWO"}})).as_deref(),
            Some("000_002 Invalid input parameter. outer.value"),
        );
    }

    #[test]
    fn null_is_missing_and_a_wrong_json_type_is_invalid() {
        assert_eq!(
            first_problem(&json!({"outer": null, "id": "000170000002000"})).as_deref(),
            Some("000_003 Missing required values. outer")
        );
        assert_eq!(
            first_problem(&json!({"outer": "text", "id": "000170000002000"})).as_deref(),
            Some("000_002 Invalid input parameter. outer")
        );
        assert_eq!(
            first_problem(
                &json!({"outer": {"value": "ONE"}, "id": "000170000002000", "wanted": "yes"})
            )
            .as_deref(),
            Some("000_002 Invalid input parameter. wanted")
        );
    }

    #[test]
    fn a_member_required_unless_a_flag_is_false_is_ignored_when_it_is_false_or_not_a_flag() {
        assert_eq!(
            first_problem(
                &json!({"outer": {"value": 7}, "id": "000170000002000", "wanted": false})
            ),
            None
        );
        assert_eq!(
            first_problem(&json!({"id": "000170000002000", "wanted": "no"})).as_deref(),
            Some("000_002 Invalid input parameter. wanted")
        );
        assert_eq!(
            first_problem(&json!({"id": "000170000002000", "wanted": true})).as_deref(),
            Some("000_003 Missing required values. outer")
        );
    }

    static EITHER: [Member; 3] = [
        Member {
            name: "first",
            path: "first",
            presence: Presence::OneOf("second"),
            kind: ID,
            description: "",
            reference: None,
        },
        Member {
            name: "second",
            path: "second",
            presence: Presence::Optional,
            kind: ID,
            description: "",
            reference: None,
        },
        Member {
            name: "last",
            path: "last",
            presence: Presence::Required,
            kind: ID,
            description: "",
            reference: None,
        },
    ];

    fn first_problem_of_either(body: &Value) -> Option<String> {
        validate(&EITHER, body.as_object().unwrap())
            .err()
            .map(|refusal| {
                format!(
                    "{} {}",
                    refusal.error.code().code(),
                    refusal.error.description()
                )
            })
    }

    #[test]
    fn exactly_one_of_two_members_is_told_at_the_first_ones_place() {
        let id = "000170000002000";
        assert_eq!(
            first_problem_of_either(&json!({})).as_deref(),
            Some("000_003 Missing required values. first"),
            "neither, before the later member that is missing"
        );
        assert_eq!(
            first_problem_of_either(&json!({"first": null, "second": null, "last": id})).as_deref(),
            Some("000_003 Missing required values. first")
        );
        assert_eq!(
            first_problem_of_either(&json!({"first": id, "second": id, "last": id})).as_deref(),
            Some("000_002 Invalid input parameter. first")
        );
        assert_eq!(
            first_problem_of_either(&json!({"first": id, "last": id})),
            None
        );
        assert_eq!(
            first_problem_of_either(&json!({"second": id, "last": id})),
            None
        );
        assert_eq!(
            first_problem_of_either(&json!({"second": "short", "last": id})).as_deref(),
            Some("000_015 The length of value does not match. second"),
            "the one given is checked at its own place"
        );
        assert_eq!(
            first_problem_of_either(&json!({"first": "short", "last": id})).as_deref(),
            Some("000_015 The length of value does not match. first")
        );
    }

    #[test]
    fn text_is_normalized_before_it_is_checked_when_the_table_says_so() {
        // "ONE" cannot be decomposed; a decomposed Hangul syllable of one character composes
        // to one character and is then a wrong value, not a wrong length.
        assert_eq!(
            first_problem(
                &json!({"outer": {"value": "\u{1100}\u{1161}"}, "id": "000170000002000"})
            )
            .as_deref(),
            Some("000_002 Invalid input parameter. outer.value")
        );
    }

    #[test]
    fn text_not_marked_for_normalization_is_checked_exactly_as_sent() {
        // 14 characters, then `A` and a combining ring: 16 as sent, 15 once composed to `Å`.
        let decomposed = "00017000000200A\u{30a}";
        assert_eq!(
            first_problem(&json!({"outer": {"value": "ONE"}, "id": decomposed})).as_deref(),
            Some("000_015 The length of value does not match. id"),
            "counted as sent, not composed first"
        );
    }

    #[test]
    fn a_list_refuses_too_few_or_too_many_items_and_reports_an_item_at_its_own_path() {
        let body =
            |ids: Value| json!({"outer": {"value": "ONE"}, "id": "000170000002000", "ids": ids});
        assert_eq!(
            first_problem(&body(json!([]))).as_deref(),
            Some("000_002 Invalid input parameter. ids")
        );
        assert_eq!(
            first_problem(&body(json!([
                "000170000002000",
                "000170000002000",
                "000170000002000"
            ])))
            .as_deref(),
            Some("000_002 Invalid input parameter. ids")
        );
        assert_eq!(
            first_problem(&body(json!(["000170000002000", "short"]))).as_deref(),
            Some("000_015 The length of value does not match. ids")
        );
        assert_eq!(
            first_problem(&body(json!([15]))).as_deref(),
            Some("000_002 Invalid input parameter. ids")
        );
        assert_eq!(first_problem(&body(json!(["000170000002000"]))), None);
    }

    #[test]
    fn references_valid_before_the_problem_are_handed_back_to_be_looked_up() {
        let refusal = validate(
            &TABLE,
            json!({"outer": {"value": "ONE"}, "id": "000170000002000", "wanted": 1})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            refusal.references,
            vec![(Reference::Product, "id", "000170000002000".to_owned())]
        );
        let before = validate(
            &TABLE,
            json!({"outer": 1, "id": "000170000002000"})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert!(before.references.is_empty());
    }

    #[test]
    fn flatten_lists_nested_members_after_their_object() {
        static LISTED: [Member; 1] = [Member {
            name: "items",
            path: "items",
            presence: Presence::Required,
            kind: Kind::List {
                min: 0,
                max: 1,
                item: &Kind::Object(&INNER),
            },
            description: "",
            reference: None,
        }];
        let paths: Vec<&str> = flatten(&TABLE).iter().map(|member| member.path).collect();
        assert_eq!(paths, ["outer", "outer.value", "id", "wanted", "ids"]);
        let paths: Vec<&str> = flatten(&LISTED).iter().map(|member| member.path).collect();
        assert_eq!(paths, ["items", "outer.value"]);
    }
}
