//! Card-number serials, reserved in blocks (D7: card numbers unique by construction).

use super::{
    Bin, CardNumberSerials, Database, DatabaseError, DieselError, ExpressionMethods, PortError,
    QueryDsl, RunQueryDsl, SerialBlock, async_trait, card_number_serials, on_conn,
};

/// Reserves up to `$count` serials of `$bin` below `$capacity` on `$conn` (any backend), inside
/// the caller's transaction: `Some((start, end, numbering key id))`, or `None` when a
/// concurrent reservation moved the BIN on between the read and the update (PostgreSQL, read
/// committed): the caller tries again. The BIN's row is made at its first reservation, with
/// `$key_id` as its numbering key.
macro_rules! reserve_serial_block {
    ($conn:expr, $bin:expr, $count:expr, $capacity:expr, $key_id:expr, $now:expr) => {{
        let conn = $conn;
        let (bin, count, capacity, key_id, now): (&str, i64, i64, &str, i64) =
            ($bin, $count, $capacity, $key_id, $now);
        diesel::insert_into(card_number_serials::table)
            .values((
                card_number_serials::bin.eq(bin),
                card_number_serials::next.eq(0_i64),
                card_number_serials::updated_at.eq(now),
                card_number_serials::numbering_key_id.eq(key_id),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        let (start, numbering_key): (i64, String) = card_number_serials::table
            .find(bin)
            .select((
                card_number_serials::next,
                card_number_serials::numbering_key_id,
            ))
            .get_result(conn)?;
        let end = start.saturating_add(count).min(capacity).max(start);
        let moved = diesel::update(
            card_number_serials::table
                .find(bin)
                .filter(card_number_serials::next.eq(start)),
        )
        .set((
            card_number_serials::next.eq(end),
            card_number_serials::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok::<_, DieselError>((moved == 1).then_some((start, end, numbering_key)))
    }};
}

#[async_trait]
impl CardNumberSerials for Database {
    async fn reserve(
        &self,
        bin: &Bin,
        count: u64,
        capacity: u64,
        key_id: &str,
    ) -> Result<SerialBlock, PortError> {
        let bin = bin.as_str().to_owned();
        let key_id = key_id.to_owned();
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let capacity = i64::try_from(capacity).unwrap_or(i64::MAX);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
            });
        // A concurrent reservation (PostgreSQL, read committed; or another instance) moves the
        // BIN on between the read and the update: try again. Through the SQLite writer nothing
        // interleaves, so the first try succeeds.
        let (start, end, numbering_key) = loop {
            let (bin, key_id) = (bin.clone(), key_id.clone());
            let reserved = self
                .execute(move |source| {
                    on_conn!(source, |conn| reserve_serial_block!(
                        conn, &bin, count, capacity, &key_id, now
                    ))
                })
                .await?
                .map_err(DatabaseError::from)?;
            if let Some(reserved) = reserved {
                break reserved;
            }
        };
        let start = u64::try_from(start).map_err(|_| DatabaseError::Corrupt("serial"))?;
        let end = u64::try_from(end).map_err(|_| DatabaseError::Corrupt("serial"))?;
        Ok(SerialBlock {
            serials: start..end,
            key_id: numbering_key,
        })
    }
}
