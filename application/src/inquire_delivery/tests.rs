use mockall::predicate::eq;
use prepaid_domain::{
    ApplicationStatus, ApplicationType, CardApplication, DeliveryStatus, Member, ServiceId,
    Timestamp,
};

use super::*;
use crate::ports::{
    MockCardApplicationStore, MockDeliveryStore, MockMemberDirectory, StoredApplication,
    StoredDelivery,
};

const AT: Timestamp = Timestamp::from_millis(1_795_964_400_000);

fn asp() -> AspId {
    AspId::parse("ASPSANDBOX00001").unwrap()
}

fn member(id: u64) -> MemberId {
    MemberId::new(id).unwrap()
}

fn number() -> CardApplyNo {
    CardApplyNo::parse("2611301200000000000001").unwrap()
}

fn inquiry() -> DeliveryInquiry {
    DeliveryInquiry {
        asp_id: asp(),
        member: member(1001),
        application: number(),
    }
}

fn members(status: Option<MemberStatus>) -> MockMemberDirectory {
    let mut members = MockMemberDirectory::new();
    members
        .expect_find()
        .with(eq(asp()), eq(member(1001)))
        .returning(move |_, id| Ok(status.map(|status| Member { id, status })));
    members
}

fn applications(owner: Option<u64>) -> MockCardApplicationStore {
    let mut applications = MockCardApplicationStore::new();
    applications
        .expect_application()
        .with(eq(asp()), eq(number()))
        .returning(move |_, number| {
            Ok(owner.map(|owner| StoredApplication {
                application: CardApplication {
                    number: number.clone(),
                    member: member(owner),
                    product: ServiceId::parse("000170000002000").unwrap(),
                    application_type: ApplicationType::Issue,
                    status: ApplicationStatus::PhysicalIssued,
                    purpose: None,
                    created_at: AT,
                },
                replaces: None,
                version: 0,
            }))
        });
    applications
}

fn shipped() -> DeliveryHistory {
    [
        DeliveryStatus::Receipt,
        DeliveryStatus::PreShipping,
        DeliveryStatus::Shipping,
    ]
    .iter()
    .zip(1..)
    .fold(DeliveryHistory::start(AT), |history, (status, minute)| {
        history
            .advance(*status, AT.plus_millis(60_000 * minute))
            .unwrap()
    })
}

fn deliveries(history: Option<DeliveryHistory>) -> MockDeliveryStore {
    let mut deliveries = MockDeliveryStore::new();
    deliveries
        .expect_delivery()
        .with(eq(asp()), eq(number()))
        .returning(move |_, number| {
            Ok(history.clone().map(|history| StoredDelivery {
                application: number.clone(),
                address: None,
                version: 3,
                history,
            }))
        });
    deliveries
}

fn never_read_deliveries() -> MockDeliveryStore {
    let mut deliveries = MockDeliveryStore::new();
    deliveries.expect_delivery().never();
    deliveries
}

fn never_read_applications() -> MockCardApplicationStore {
    let mut applications = MockCardApplicationStore::new();
    applications.expect_application().never();
    applications
}

fn service(
    members: MockMemberDirectory,
    applications: MockCardApplicationStore,
    deliveries: MockDeliveryStore,
) -> DeliveryInquiryService {
    DeliveryInquiryService::new(
        Arc::new(members),
        Arc::new(applications),
        Arc::new(deliveries),
    )
}

#[tokio::test]
async fn a_member_reads_the_whole_history_of_their_applications_delivery() {
    let service = service(
        members(Some(MemberStatus::Active)),
        applications(Some(1001)),
        deliveries(Some(shipped())),
    );
    let history = service.delivery(&inquiry()).await.unwrap();
    assert_eq!(history, shipped());
    assert_eq!(history.current(), DeliveryStatus::Shipping);
}

#[tokio::test]
async fn a_non_member_or_a_cancelled_member_learns_nothing_about_any_application() {
    for status in [None, Some(MemberStatus::Cancelled)] {
        let service = service(
            members(status),
            never_read_applications(),
            never_read_deliveries(),
        );
        let refused = service.delivery(&inquiry()).await.unwrap_err();
        assert!(
            matches!(refused, DeliveryInquiryError::NotAMember),
            "{status:?}"
        );
        assert_eq!(refused.code().code(), "001_006");
    }
}

#[tokio::test]
async fn another_members_or_an_unknown_application_is_not_found_and_its_delivery_never_read() {
    for owner in [Some(1002), None] {
        let service = service(
            members(Some(MemberStatus::Active)),
            applications(owner),
            never_read_deliveries(),
        );
        let refused = service.delivery(&inquiry()).await.unwrap_err();
        assert!(
            matches!(refused, DeliveryInquiryError::NotFound),
            "{owner:?}"
        );
        assert_eq!(refused.code().code(), "003_001");
    }
}

#[tokio::test]
async fn an_application_without_a_delivery_is_not_found() {
    let service = service(
        members(Some(MemberStatus::Active)),
        applications(Some(1001)),
        deliveries(None),
    );
    assert!(matches!(
        service.delivery(&inquiry()).await,
        Err(DeliveryInquiryError::NotFound)
    ));
}

#[tokio::test]
async fn a_store_that_cannot_be_read_is_a_system_error() {
    let mut failing = MockDeliveryStore::new();
    failing
        .expect_delivery()
        .returning(|_, _| Err(PortError::new("down", std::io::Error::other("down"))));
    let service = service(
        members(Some(MemberStatus::Active)),
        applications(Some(1001)),
        failing,
    );
    let refused = service.delivery(&inquiry()).await.unwrap_err();
    assert!(matches!(refused, DeliveryInquiryError::Unavailable(_)));
    assert_eq!(refused.code().code(), "000_099");
}
