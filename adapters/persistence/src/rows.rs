//! The rows: this adapter's own data shapes, converted to and from domain types at the seam.
//! Rows read back are parsed again through the domain constructors: the database is outside
//! the domain's trust boundary.

use diesel::prelude::*;

use crate::schema::{
    access_keys, card_applications, card_products, cards, crypto_keys, deliveries, delivery_steps,
    idempotency_records, member_profiles, members, projects, replay_bindings,
};

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = projects)]
pub struct NewProjectRow<'a> {
    pub asp_id: &'a str,
    pub plaintext_allowed: bool,
    pub created_at: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = projects)]
pub struct ProjectRow {
    pub asp_id: String,
    pub plaintext_allowed: bool,
}

#[derive(Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = access_keys)]
pub struct AccessKeyRow {
    pub access_key: String,
    pub asp_id: String,
    pub sealed_secret: Vec<u8>,
    pub state: String,
    pub created_at: i64,
}

#[derive(Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = crypto_keys)]
pub struct CryptoKeyRow {
    pub key_id: String,
    pub asp_id: String,
    pub position: i16,
    pub created_at: i64,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = members)]
pub struct NewMemberRow<'a> {
    pub asp_id: &'a str,
    pub member_id: &'a str,
    pub status: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = members)]
pub struct MemberRow {
    pub member_id: String,
    pub status: String,
}

/// A member's personal data as stored.
#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = member_profiles)]
pub struct MemberProfileRow {
    pub asp_id: String,
    pub member_id: String,
    pub profile_key_id: String,
    pub profile_sealed: Vec<u8>,
    pub login_fingerprint: Vec<u8>,
    pub login_fingerprint_key_id: String,
    pub mobile_fingerprint: Vec<u8>,
    pub mobile_fingerprint_key_id: String,
    pub ci_fingerprint: Option<Vec<u8>>,
    pub ci_fingerprint_key_id: Option<String>,
    pub password_key_id: String,
    pub password_hash: String,
    pub wrong_passwords: i16,
    pub join_channel: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Insertable, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = card_products)]
pub struct ProductRow {
    pub service_id: String,
    pub name: String,
    pub bin: String,
    pub product_type: String,
    pub pre_issuance: bool,
    pub giftable: bool,
    pub validity_years: i16,
    pub active: bool,
    pub updated_at: i64,
}

#[derive(Insertable)]
#[diesel(table_name = card_applications)]
pub struct NewApplicationRow<'a> {
    pub apply_no: &'a str,
    pub asp_id: &'a str,
    pub member_id: String,
    pub service_id: &'a str,
    pub application_type: &'a str,
    pub status: &'a str,
    pub purpose: Option<&'a str>,
    pub created_at: i64,
    pub updated_at: i64,
    pub replaces_card_id: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = cards)]
pub struct NewCardRow<'a> {
    pub card_id: &'a str,
    pub par: &'a str,
    pub asp_id: &'a str,
    pub apply_no: &'a str,
    pub member_id: String,
    pub kind: &'a str,
    pub status: &'a str,
    pub expiry: String,
    pub linked_card_id: Option<&'a str>,
    pub pan_ciphertext: &'a [u8],
    pub pan_key_id: &'a str,
    pub pan_bound_to: &'a str,
    pub pan_fingerprint: &'a [u8],
    pub pan_fingerprint_key_id: &'a str,
    pub cvk_id: &'a str,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What `pan_bound_to` holds for a PAN bound to the card's id.
pub const PAN_BOUND_TO_CARD_ID: &str = "CARD_ID";

#[derive(Queryable, Selectable)]
#[diesel(table_name = cards)]
pub struct CardRow {
    pub card_id: String,
    pub par: String,
    pub pan_ciphertext: Vec<u8>,
    pub pan_key_id: String,
    pub pan_bound_to: String,
    pub expiry: String,
    pub cvk_id: String,
}

#[derive(Insertable)]
#[diesel(table_name = deliveries)]
pub struct NewDeliveryRow<'a> {
    pub apply_no: &'a str,
    pub asp_id: &'a str,
    pub address_key_id: &'a str,
    pub address_sealed: &'a [u8],
    pub status: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One status a delivery reached: its number is the delivery's version then.
#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = delivery_steps)]
pub struct DeliveryStepRow {
    pub apply_no: String,
    pub step: i64,
    pub status: String,
    pub reached_at: i64,
}

#[derive(Insertable)]
#[diesel(table_name = idempotency_records)]
pub struct NewIdempotencyRow<'a> {
    pub asp_id: &'a str,
    pub correlation_id: &'a str,
    pub operation: &'a str,
    pub request_fingerprint: &'a [u8],
    pub request_fingerprint_key_id: &'a str,
    pub outcome: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_records)]
pub struct IdempotencyRow {
    pub operation: String,
    pub request_fingerprint: Vec<u8>,
    pub request_fingerprint_key_id: String,
    pub outcome: String,
    pub created_at: i64,
}

/// A replay binding: a signature's digest and the correlation id it belongs to.
#[derive(Clone, Debug, Insertable, Queryable, Selectable)]
#[diesel(table_name = replay_bindings)]
pub struct ReplayBindingRow {
    pub asp_id: String,
    pub token_digest: Vec<u8>,
    pub correlation_id: String,
    pub expires_at: i64,
}

/// An application as the lifecycle reads it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = card_applications)]
pub struct ApplicationRow {
    pub apply_no: String,
    pub member_id: String,
    pub service_id: String,
    pub application_type: String,
    pub status: String,
    pub purpose: Option<String>,
    pub created_at: i64,
    pub version: i64,
    pub replaces_card_id: Option<String>,
}

/// A delivery as the lifecycle reads it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRecordRow {
    pub apply_no: String,
    pub address_key_id: Option<String>,
    pub address_sealed: Option<Vec<u8>>,
    pub status: String,
    pub version: i64,
}

/// A card as the lifecycle reads it (everything but its timestamps).
#[derive(Queryable, Selectable)]
#[diesel(table_name = cards)]
pub struct CardRecordRow {
    pub card_id: String,
    pub par: String,
    pub apply_no: String,
    pub member_id: String,
    pub kind: String,
    pub status: String,
    pub expiry: String,
    pub linked_card_id: Option<String>,
    pub pan_ciphertext: Vec<u8>,
    pub pan_key_id: String,
    pub pan_bound_to: String,
    pub pan_fingerprint: Vec<u8>,
    pub pan_fingerprint_key_id: String,
    pub cvk_id: String,
    pub version: i64,
    pub wrong_attempts: i16,
}
