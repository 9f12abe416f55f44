//! Members and card products, read by key.

use super::{
    AspId, Bin, CardProduct, Database, DatabaseError, Member, MemberDirectory, MemberId, MemberRow,
    MemberStatus, OptionalExtension, PortError, ProductCatalogue, ProductName, ProductRow,
    ProductType, QueryDsl, RunQueryDsl, SelectableHelper, ServiceId, Validity, async_trait,
    card_products, members, on_conn, with_conn,
};

#[async_trait]
impl MemberDirectory for Database {
    async fn find(&self, asp_id: &AspId, id: MemberId) -> Result<Option<Member>, PortError> {
        let key = (asp_id.as_str().to_owned(), id.get().to_string());
        let row = self
            .read(move |source| {
                on_conn!(source, |conn| Ok(members::table
                    .find((&key.0, &key.1))
                    .select(MemberRow::as_select())
                    .get_result(conn)
                    .optional()?))
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id =
            MemberId::parse(&row.member_id).map_err(|_| DatabaseError::Corrupt("member_id"))?;
        let status =
            MemberStatus::parse(&row.status).ok_or(DatabaseError::Corrupt("member status"))?;
        Ok(Some(Member { id, status }))
    }
}

fn product_from_row(row: &ProductRow) -> Result<CardProduct, DatabaseError> {
    let corrupt = |what| move |_| DatabaseError::Corrupt(what);
    Ok(CardProduct {
        id: ServiceId::parse(&row.service_id).map_err(corrupt("service_id"))?,
        name: ProductName::parse(&row.name).map_err(corrupt("product name"))?,
        bin: Bin::parse(&row.bin).map_err(corrupt("bin"))?,
        product_type: ProductType::parse(&row.product_type)
            .ok_or(DatabaseError::Corrupt("product_type"))?,
        pre_issuance: row.pre_issuance,
        giftable: row.giftable,
        validity: u8::try_from(row.validity_years)
            .ok()
            .and_then(|years| Validity::from_years(years).ok())
            .ok_or(DatabaseError::Corrupt("validity_years"))?,
        active: row.active,
    })
}

#[async_trait]
impl ProductCatalogue for Database {
    async fn find(&self, id: &ServiceId) -> Result<Option<CardProduct>, PortError> {
        let key = id.as_str().to_owned();
        let row = self
            .blocking(move |pools| {
                with_conn!(pools, |conn| Ok(card_products::table
                    .find(&key)
                    .select(ProductRow::as_select())
                    .get_result(conn)
                    .optional()?))
            })
            .await?;
        Ok(row.as_ref().map(product_from_row).transpose()?)
    }

    async fn all(&self) -> Result<Vec<CardProduct>, PortError> {
        let rows = self
            .blocking(move |pools| {
                with_conn!(pools, |conn| Ok(card_products::table
                    .order(card_products::service_id)
                    .select(ProductRow::as_select())
                    .load(conn)?))
            })
            .await?;
        Ok(rows
            .iter()
            .map(product_from_row)
            .collect::<Result<Vec<_>, _>>()?)
    }
}
