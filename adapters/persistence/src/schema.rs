//! The tables, as diesel sees them. Written by hand to match `migrations/` (both backends
//! share one shape); `tests/contract` checks them against the migrated databases.

diesel::table! {
    projects (asp_id) {
        asp_id -> Text,
        plaintext_allowed -> Bool,
        created_at -> BigInt,
        basic_service_id -> Nullable<Text>,
    }
}

diesel::table! {
    access_keys (access_key) {
        access_key -> Text,
        asp_id -> Text,
        sealed_secret -> Binary,
        state -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    crypto_keys (key_id) {
        key_id -> Text,
        asp_id -> Text,
        position -> SmallInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    members (asp_id, member_id) {
        asp_id -> Text,
        member_id -> Text,
        status -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    card_products (service_id) {
        service_id -> Text,
        name -> Text,
        bin -> Text,
        product_type -> Text,
        pre_issuance -> Bool,
        giftable -> Bool,
        validity_years -> SmallInt,
        active -> Bool,
        updated_at -> BigInt,
    }
}

diesel::table! {
    card_applications (apply_no) {
        apply_no -> Text,
        asp_id -> Text,
        member_id -> Text,
        service_id -> Text,
        application_type -> Text,
        status -> Text,
        purpose -> Nullable<Text>,
        created_at -> BigInt,
        version -> BigInt,
        updated_at -> BigInt,
        replaces_card_id -> Nullable<Text>,
    }
}

diesel::table! {
    cards (card_id) {
        card_id -> Text,
        par -> Text,
        asp_id -> Text,
        apply_no -> Text,
        member_id -> Text,
        kind -> Text,
        status -> Text,
        expiry -> Text,
        linked_card_id -> Nullable<Text>,
        pan_ciphertext -> Binary,
        pan_key_id -> Text,
        pan_bound_to -> Text,
        pan_fingerprint -> Binary,
        pan_fingerprint_key_id -> Text,
        cvk_id -> Text,
        version -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
        wrong_attempts -> SmallInt,
    }
}

diesel::table! {
    deliveries (apply_no) {
        apply_no -> Text,
        asp_id -> Text,
        status -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
        address_key_id -> Nullable<Text>,
        address_sealed -> Nullable<Binary>,
    }
}

diesel::table! {
    unsealed_addresses (apply_no) {
        apply_no -> Text,
        address -> Text,
        address_detail -> Text,
        zip_code -> Text,
    }
}

diesel::table! {
    delivery_steps (apply_no, step) {
        apply_no -> Text,
        step -> BigInt,
        status -> Text,
        reached_at -> BigInt,
    }
}

diesel::table! {
    idempotency_records (asp_id, correlation_id) {
        asp_id -> Text,
        correlation_id -> Text,
        operation -> Text,
        request_fingerprint -> Binary,
        request_fingerprint_key_id -> Text,
        outcome -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    operator_tokens (token_digest) {
        token_digest -> Binary,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    replay_bindings (asp_id, token_digest) {
        asp_id -> Text,
        token_digest -> Binary,
        correlation_id -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    card_number_serials (bin) {
        bin -> Text,
        next -> BigInt,
        updated_at -> BigInt,
        numbering_key_id -> Text,
    }
}

diesel::joinable!(access_keys -> projects (asp_id));
diesel::joinable!(crypto_keys -> projects (asp_id));
diesel::joinable!(card_applications -> card_products (service_id));
diesel::joinable!(cards -> card_applications (apply_no));
diesel::joinable!(deliveries -> card_applications (apply_no));
diesel::joinable!(delivery_steps -> deliveries (apply_no));
diesel::joinable!(unsealed_addresses -> deliveries (apply_no));

diesel::table! {
    member_profiles (asp_id, member_id) {
        asp_id -> Text,
        member_id -> Text,
        profile_key_id -> Text,
        profile_sealed -> Binary,
        login_fingerprint -> Binary,
        login_fingerprint_key_id -> Text,
        mobile_fingerprint -> Binary,
        mobile_fingerprint_key_id -> Text,
        ci_fingerprint -> Nullable<Binary>,
        ci_fingerprint_key_id -> Nullable<Text>,
        password_key_id -> Text,
        password_hash -> Text,
        wrong_passwords -> SmallInt,
        join_channel -> Nullable<Text>,
        version -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    member_profiles,
    projects,
    access_keys,
    crypto_keys,
    members,
    card_products,
    card_applications,
    cards,
    deliveries,
    delivery_steps,
    unsealed_addresses,
    idempotency_records,
    replay_bindings,
    card_number_serials,
    operator_tokens,
);
