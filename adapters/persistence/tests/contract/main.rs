//! The port-contract suite, written once and run against SQLite (a temporary file) and, when
//! `PREPAID_TEST_DATABASE_URL` names a PostgreSQL database, against PostgreSQL.
//!
//! This binary has its own harness (`harness = false`) so it can say, uncaptured, whether the
//! PostgreSQL half ran. With `CI=true` an unset or unreachable PostgreSQL fails the run.

mod cases;
mod files;
mod lifecycle;
mod members;
mod operators;
mod serials;
mod support;

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use support::Backend;

type Case = fn(Backend) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! cases {
    ($($module:ident :: $name:ident),* $(,)?) => {
        &[$((stringify!($name), |backend| Box::pin($module::$name(backend)) as Pin<Box<dyn Future<Output = ()> + Send>>)),*]
    };
}

const CASES: &[(&str, Case)] = cases![
    cases::an_issuance_with_card_and_delivery_is_found_again_by_its_key,
    cases::an_issuance_without_card_is_found_again_without_card,
    cases::a_second_claim_of_a_key_is_refused_and_writes_nothing,
    cases::the_same_correlation_id_under_another_asp_is_another_key,
    cases::a_member_belongs_to_its_project_and_another_may_hold_the_same_id,
    cases::an_issuance_for_a_member_of_another_project_is_not_recorded,
    cases::a_colliding_par_is_reported_and_writes_nothing,
    cases::a_colliding_pan_fingerprint_is_reported_and_writes_nothing,
    cases::a_colliding_application_number_is_reported_and_writes_nothing,
    cases::the_largest_member_id_round_trips_exactly,
    cases::a_sealed_address_round_trips_exactly,
    cases::addresses_written_before_sealing_are_sealed_once_and_their_plaintext_deleted,
    cases::products_round_trip_and_update_in_place,
    cases::members_can_be_cancelled,
    cases::projects_round_trip_with_sealed_secrets,
    cases::secrets_sealed_with_an_old_key_are_sealed_again_with_the_current_one,
    cases::a_signature_belongs_to_one_correlation_id_until_it_expires,
    cases::of_64_concurrent_correlation_ids_one_binds_a_signature,
    cases::purging_removes_only_expired_idempotency_records,
    cases::many_tasks_with_one_key_record_exactly_one_issuance,
    cases::many_tasks_with_distinct_keys_record_every_issuance,
    files::the_wal_is_copied_into_the_database_file_beside_the_writer,
    files::past_its_frame_limit_the_wal_starts_again_from_its_beginning,
    cases::two_instances_sharing_one_database_record_one_issuance_per_key,
    files::one_process_serves_an_sqlite_file_and_admin_tools_open_it_beside,
    files::the_database_reports_ready_after_migrations,
    files::a_closed_database_leaves_no_wal_behind,
    serials::serials_are_reserved_in_order_each_once_up_to_the_last,
    serials::a_bin_keeps_the_numbering_key_it_started_with,
    serials::concurrent_reservations_from_two_handles_never_share_a_serial,
    lifecycle::an_application_and_its_delivery_are_read_by_number_in_their_project_only,
    lifecycle::an_application_without_delivery_has_none,
    lifecycle::a_members_applications_and_cards_are_listed_oldest_first_in_their_project_only,
    lifecycle::a_card_is_read_by_par_fingerprint_and_application_with_everything_but_its_pan,
    lifecycle::a_lifecycle_change_moves_every_status_and_version_and_records_its_claim,
    lifecycle::a_stale_version_anywhere_in_a_change_makes_nothing_of_it,
    lifecycle::another_projects_objects_are_never_changed,
    lifecycle::a_claimed_key_makes_nothing_of_the_change,
    lifecycle::of_many_writers_from_one_version_exactly_one_changes_it,
    lifecycle::a_deliverys_history_starts_when_it_is_asked_for_and_keeps_every_change_with_its_time,
    lifecycle::a_fixture_application_is_written_once_with_its_whole_history_in_its_project,
    lifecycle::a_change_makes_a_card_with_its_delivery_step_and_then_links_and_counts_on_it,
    lifecycle::a_made_card_whose_number_is_taken_makes_nothing_of_the_change,
    lifecycle::a_card_is_never_made_for_another_projects_application,
    lifecycle::deliveries_in_progress_are_listed_across_projects_longest_unchanged_first,
    lifecycle::a_change_links_a_card_to_one_it_makes,
    lifecycle::an_application_that_replaces_a_card_changes_it_in_its_transaction,
    lifecycle::an_application_whose_replaced_card_moved_is_not_recorded,
    lifecycle::an_application_never_changes_another_projects_card,
    lifecycle::of_many_replacements_of_one_card_read_at_one_version_one_is_recorded,
    lifecycle::a_membership_cancellation_takes_the_cards_with_the_member_or_makes_nothing,
    lifecycle::a_cancellation_that_did_not_know_a_card_and_an_issuance_after_it_make_nothing,
    operators::an_operator_is_found_by_its_token_and_by_no_other,
    members::a_sign_up_is_read_by_id_and_by_each_fingerprint_in_its_project_only,
    members::a_value_another_member_of_the_project_holds_writes_nothing,
    members::a_claimed_key_makes_nothing_of_the_sign_up,
    members::of_many_sign_ups_with_one_login_id_at_once_one_is_recorded,
    members::of_64_password_attempts_at_once_five_are_counted_and_a_clear_starts_again,
    members::a_saved_member_gets_fixture_details_once,
    members::a_profile_change_is_written_over_the_profile_as_read_or_not_at_all,
    members::a_refused_profile_change_leaves_the_member_as_they_were,
    members::a_cancelled_member_s_profile_does_not_change,
    members::of_16_changes_of_one_member_read_at_once_one_is_written,
    members::members_under_older_keys_are_listed_in_every_project,
    members::a_rekey_is_written_over_what_was_read_and_never_over_a_held_value,
    members::a_password_hash_is_replaced_only_over_the_one_read,
    members::a_sign_up_with_a_basic_card_writes_both_or_neither,
];

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut failed = 0;
    let mut ran = 0;

    let mut backends = vec![Backend::Sqlite];
    match std::env::var("PREPAID_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => backends.push(Backend::Postgres(url)),
        _ if std::env::var("CI").is_ok_and(|value| value == "true") => {
            println!("contract suite: PREPAID_TEST_DATABASE_URL is not set but CI=true: failing");
            std::process::exit(1);
        }
        _ => println!(
            "contract suite: PostgreSQL SKIPPED (set PREPAID_TEST_DATABASE_URL=postgres://... to run it)"
        ),
    }

    for backend in backends {
        for (name, case) in CASES {
            if filter
                .as_deref()
                .is_some_and(|wanted| !name.contains(wanted))
            {
                continue;
            }
            let started = Instant::now();
            let backend = backend.clone();
            let label = backend.label();
            let outcome = runtime.block_on(async move { tokio::spawn(case(backend)).await });
            ran += 1;
            match outcome {
                Ok(()) => println!("test {label}::{name} ... ok ({:?})", started.elapsed()),
                Err(error) => {
                    failed += 1;
                    println!("test {label}::{name} ... FAILED: {error}");
                }
            }
        }
    }
    println!("\ncontract suite: {ran} run, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
