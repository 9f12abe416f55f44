//! Operator tokens, kept as SHA-256 digests (D18).

use prepaid_application::ports::OperatorTokens;
use prepaid_domain::{OperatorName, OperatorToken};
use sha2::{Digest as _, Sha256};

use super::{
    Database, DatabaseError, ExpressionMethods, OptionalExtension, PortError, QueryDsl,
    RunQueryDsl, Timestamp, async_trait, on_conn,
};
use crate::schema::operator_tokens;

/// What is stored of a token.
fn digest(token: &OperatorToken) -> Vec<u8> {
    Sha256::digest(token.expose().as_bytes()).to_vec()
}

#[async_trait]
impl OperatorTokens for Database {
    async fn operator(&self, token: &OperatorToken) -> Result<Option<OperatorName>, PortError> {
        let digest = digest(token);
        let name = self
            .read(move |source| {
                on_conn!(source, |conn| Ok(operator_tokens::table
                    .filter(operator_tokens::token_digest.eq(&digest))
                    .select(operator_tokens::name)
                    .get_result::<String>(conn)
                    .optional()?))
            })
            .await?;
        Ok(name
            .map(|name| OperatorName::parse(&name).ok_or(DatabaseError::Corrupt("operator name")))
            .transpose()?)
    }

    async fn add(
        &self,
        name: &OperatorName,
        token: &OperatorToken,
        at: Timestamp,
    ) -> Result<(), PortError> {
        let row = (
            operator_tokens::token_digest.eq(digest(token)),
            operator_tokens::name.eq(name.as_str().to_owned()),
            operator_tokens::created_at.eq(at.as_millis()),
        );
        self.execute(move |source| {
            on_conn!(source, |conn| diesel::insert_into(operator_tokens::table)
                .values(row.clone())
                .execute(conn)
                .map(drop))
        })
        .await?
        .map_err(|error| DatabaseError::from(error).into())
    }
}
