//! Projects and their access keys, secret keys sealed.

use super::{
    AccessKey, AccessKeyRow, AccessKeyState, Arc, AspId, CryptoKeyId, CryptoKeyRef, CryptoKeyRow,
    Database, DatabaseError, ExpressionMethods, OptionalExtension, PortError, Project,
    ProjectAccessKey, ProjectDirectory, ProjectRow, QueryDsl, RunQueryDsl, SecretVault,
    SelectableHelper, access_keys, async_trait, crypto_keys, projects, with_conn,
};

/// Projects kept in the database, secret keys sealed.
#[derive(Clone)]
pub struct DieselProjectDirectory {
    pub(super) database: Database,
    pub(super) vault: Arc<dyn SecretVault>,
}

#[async_trait]
impl ProjectDirectory for DieselProjectDirectory {
    async fn find(&self, asp_id: &AspId) -> Result<Option<Project>, PortError> {
        let asp = asp_id.as_str().to_owned();
        let found = self
            .database
            .blocking(move |pools| {
                with_conn!(pools, |conn| {
                    let Some(project) = projects::table
                        .find(&asp)
                        .select(ProjectRow::as_select())
                        .get_result(conn)
                        .optional()?
                    else {
                        return Ok(None);
                    };
                    let keys: Vec<AccessKeyRow> = access_keys::table
                        .filter(access_keys::asp_id.eq(&asp))
                        .select(AccessKeyRow::as_select())
                        .load(conn)?;
                    let crypto: Vec<CryptoKeyRow> = crypto_keys::table
                        .filter(crypto_keys::asp_id.eq(&asp))
                        .order(crypto_keys::position)
                        .select(CryptoKeyRow::as_select())
                        .load(conn)?;
                    Ok(Some((project, keys, crypto)))
                })
            })
            .await?;
        let Some((project, keys, crypto)) = found else {
            return Ok(None);
        };
        let mut access_keys = Vec::with_capacity(keys.len());
        for key in keys {
            access_keys.push(ProjectAccessKey {
                secret_key: self.vault.unseal(&key.sealed_secret, &key.access_key)?,
                access_key: AccessKey::parse(&key.access_key)
                    .map_err(|_| DatabaseError::Corrupt("access_key"))?,
                state: AccessKeyState::parse(&key.state)
                    .ok_or(DatabaseError::Corrupt("access key state"))?,
            });
        }
        let crypto_keys = crypto
            .into_iter()
            .map(|key| {
                CryptoKeyId::parse(&key.key_id)
                    .map(|id| CryptoKeyRef { id })
                    .map_err(|_| DatabaseError::Corrupt("crypto key id"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Project {
            asp_id: AspId::parse(&project.asp_id).map_err(|_| DatabaseError::Corrupt("asp_id"))?,
            access_keys,
            crypto_keys,
            plaintext_allowed: project.plaintext_allowed,
        }))
    }
}

#[async_trait]
impl prepaid_application::ports::BasicProducts for Database {
    async fn basic_product(
        &self,
        asp_id: &AspId,
    ) -> Result<Option<prepaid_domain::ServiceId>, PortError> {
        let asp = asp_id.as_str().to_owned();
        let named: Option<Option<String>> = self
            .read(move |source| {
                super::on_conn!(source, |conn| Ok(projects::table
                    .find(&asp)
                    .select(projects::basic_service_id)
                    .get_result(conn)
                    .optional()?))
            })
            .await?;
        Ok(named
            .flatten()
            .map(|id| {
                prepaid_domain::ServiceId::parse(&id)
                    .map_err(|_| DatabaseError::Corrupt("projects.basic_service_id"))
            })
            .transpose()?)
    }
}

impl Database {
    /// Names `product` (or none) the basic product of project `asp_id`: `Ok(false)` when there
    /// is no such project. Whether it is a mobile product is the caller's to check.
    ///
    /// # Errors
    /// [`DatabaseError`] when the store cannot be written.
    pub async fn set_basic_product(
        &self,
        asp_id: &AspId,
        product: Option<&prepaid_domain::ServiceId>,
    ) -> Result<bool, DatabaseError> {
        let asp = asp_id.as_str().to_owned();
        let product = product.map(|id| id.as_str().to_owned());
        let updated = self
            .execute(move |source| {
                super::on_conn!(source, |conn| diesel::update(projects::table.find(&asp))
                    .set(projects::basic_service_id.eq(&product))
                    .execute(conn))
            })
            .await?
            .map_err(DatabaseError::from)?;
        Ok(updated == 1)
    }
}
