//! The card a mobile issuance makes: its own id, its owner, and its PAN bound to its id.

use super::*;

#[tokio::test]
async fn a_mobile_card_gets_its_own_id_its_owner_and_a_pan_bound_to_its_id() {
    let mut fixture = Fixture::new();
    let bindings = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&bindings);
    let mut secrets = secrets_without_pan_protection();
    secrets.expect_protect().returning(move |pan, binding| {
        seen.lock().unwrap().push(match binding {
            PanBinding::Card(id) => format!("card {}", id.as_str()),
            PanBinding::Par(par) => format!("par {}", par.as_str()),
        });
        Ok(reversed(pan))
    });
    fixture.secrets = secrets;
    let (service, recorded) = fixture.service();

    service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();
    let mut second = command(ACTIVE_MEMBER, MOBILE, false, None);
    second.key.correlation_id = CorrelationId::parse("261125153000-0000002").unwrap();
    service.issue_and_deliver(second).await.unwrap();

    let recorded = recorded.lock().unwrap();
    let first = &recorded[0].card.as_ref().unwrap().card;
    let second = &recorded[1].card.as_ref().unwrap().card;
    assert_eq!(first.owner.get(), ACTIVE_MEMBER);
    assert_eq!(first.linked_to, None);
    assert_ne!(first.id, second.id, "each card its own id");
    assert_eq!(
        *bindings.lock().unwrap(),
        [
            format!("card {}", first.id.as_str()),
            format!("card {}", second.id.as_str())
        ]
    );
}

#[tokio::test]
async fn a_retry_reveals_the_pan_with_the_binding_it_was_stored_with() {
    let mut fixture = Fixture::new();
    let seen = Arc::new(Mutex::new(Vec::<bool>::new()));
    let kept = Arc::clone(&fixture.recorded);
    fixture.store = MockCardApplicationStore::new();
    let record_into = Arc::clone(&kept);
    fixture
        .store
        .expect_record_issuance()
        .returning(move |issuance| {
            record_into.lock().unwrap().push(issuance.clone());
            Ok(())
        });
    // As if issued before cards had ids: the PAN is bound to the PAR.
    fixture.store.expect_find_issuance().returning(move |_, _| {
        Ok(kept.lock().unwrap().first().map(|issuance| {
            let mut found = stored(issuance);
            if let Some(card) = found.card.as_mut() {
                card.pan_bound_to_id = false;
            }
            found
        }))
    });
    let mut secrets = secrets_without_pan_protection();
    secrets
        .expect_protect()
        .returning(|pan, _| Ok(reversed(pan)));
    let noted = Arc::clone(&seen);
    secrets
        .expect_reveal()
        .returning(move |protected, binding| {
            noted
                .lock()
                .unwrap()
                .push(matches!(binding, PanBinding::Par(_)));
            Ok(unreversed(protected))
        });
    fixture.secrets = secrets;
    let (service, _) = fixture.service();

    let first = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();
    let again = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();

    assert!(again.replayed);
    assert_eq!(
        again.mobile_card.unwrap().pan,
        first.mobile_card.unwrap().pan
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [true],
        "revealed with the PAR binding"
    );
}
