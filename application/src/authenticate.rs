//! Authenticating a request (D3, D4): who sent it, with which key, when, and whether its body
//! is the one they signed.

use std::sync::Arc;

use prepaid_domain::{
    AccessKey, AspId, CorrelationId, ErrorCode, RequestWindow, TimeZone, TranTime, TranToken,
};

use crate::ports::{Clock, PortError, Project, ProjectDirectory, ReplayGuard, TranTokenSigner};

/// What a request presents to be authenticated.
#[derive(Clone, Copy, Debug)]
pub struct Credentials<'a> {
    /// `X-KM-User-AspId`.
    pub asp_id: &'a AspId,
    /// `X-KM-Access-Key`.
    pub access_key: &'a AccessKey,
    /// `X-KM-Tran-Token`.
    pub token: &'a TranToken,
    /// `X-KM-Tran-Time`.
    pub tran_time: TranTime,
    /// `X-KM-Time-Zone`.
    pub zone: TimeZone,
    /// `X-KM-Correlation-Id`: the request a signature is bound to.
    pub correlation_id: &'a CorrelationId,
    /// The raw body bytes exactly as received.
    pub body: &'a [u8],
}

/// Why a request was not authenticated (HTTP 401, D3/D4).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown ASP id, or an access key that is unknown, inactive, discarded or of another ASP.
    /// Deliberately one case: the answer never says which value was wrong.
    #[error("unknown caller")]
    UnknownCaller,
    /// The request time is outside the window, or the token time disagrees with
    /// `X-KM-Tran-Time`.
    #[error("request time out of window")]
    OutOfWindow,
    /// The HMAC does not match the body.
    #[error("tran token does not match the body")]
    BadSignature,
    /// The signature was already accepted for a request with another correlation id.
    #[error("tran token replayed")]
    Replayed,
    /// A port failed.
    #[error("authentication unavailable")]
    Unavailable(#[from] PortError),
}

impl AuthError {
    /// The catalogue code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownCaller => ErrorCode::AuthenticationFailed,
            Self::OutOfWindow => ErrorCode::RequestTimeOutOfWindow,
            Self::BadSignature => ErrorCode::InvalidTranToken,
            Self::Replayed => ErrorCode::ReplayedTranToken,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }

    /// A short reason for the audit log (never a key or a secret).
    pub fn audit_reason(&self) -> &'static str {
        match self {
            Self::UnknownCaller => "unknown ASP id or access key not active for it",
            Self::OutOfWindow => "request time outside the window or inconsistent",
            Self::BadSignature => "HMAC mismatch",
            Self::Replayed => "tran token signature already bound to another correlation id",
            Self::Unavailable(_) => "authentication store unavailable",
        }
    }
}

/// The authentication service.
#[derive(Clone)]
pub struct Authenticator {
    projects: Arc<dyn ProjectDirectory>,
    replay: Arc<dyn ReplayGuard>,
    signer: Arc<dyn TranTokenSigner>,
    clock: Arc<dyn Clock>,
    window: RequestWindow,
}

impl Authenticator {
    /// An authenticator over these ports, accepting request times within `window`.
    pub fn new(
        projects: Arc<dyn ProjectDirectory>,
        replay: Arc<dyn ReplayGuard>,
        signer: Arc<dyn TranTokenSigner>,
        clock: Arc<dyn Clock>,
        window: RequestWindow,
    ) -> Self {
        Self {
            projects,
            replay,
            signer,
            clock,
            window,
        }
    }

    /// Checks, in this order: the caller (ASP id and an active access key of it), the request
    /// time (token time equal to `X-KM-Tran-Time` and within the window, read in the given
    /// zone), the HMAC over the raw body, and that the signature is not bound to another
    /// request. The signature is bound only once everything else passed, so a forged request
    /// cannot burn a genuine one.
    ///
    /// The HMAC covers the body, not the token time (D4), so the same signature comes back with
    /// any time an attacker writes beside it: it is the signature, not the token, that is bound
    /// to the correlation id. The same request sent again (same correlation id) passes and is
    /// answered as a retry (D6); any other correlation id is a replay. The binding lasts a
    /// window past the later of the request time and now, plus a second.
    ///
    pub async fn authenticate(&self, credentials: Credentials<'_>) -> Result<Project, AuthError> {
        let project = self
            .projects
            .find(credentials.asp_id)
            .await?
            .ok_or(AuthError::UnknownCaller)?;
        let secret = project
            .active_key(credentials.access_key)
            .map(|key| key.secret_key.clone())
            .ok_or(AuthError::UnknownCaller)?;

        let token = credentials.token;
        if !token.agrees_with(&credentials.tran_time) {
            return Err(AuthError::OutOfWindow);
        }
        let sent = token.time().in_zone(credentials.zone);
        let now = self.clock.now();
        if !self.window.admits(sent, now) {
            return Err(AuthError::OutOfWindow);
        }
        if !self
            .signer
            .verify(&secret, credentials.body, token.signature_base64())
        {
            return Err(AuthError::BadSignature);
        }
        let replay_key = format!(
            "{}:{}",
            credentials.access_key.as_str(),
            token.signature_base64()
        );
        let window_millis = i64::try_from(self.window.millis()).unwrap_or(i64::MAX);
        let expires_at = sent
            .max(now)
            .plus_millis(window_millis.saturating_add(1_000));
        if !self
            .replay
            .bind(
                credentials.asp_id,
                &replay_key,
                credentials.correlation_id,
                expires_at,
            )
            .await?
        {
            return Err(AuthError::Replayed);
        }
        Ok(project)
    }
}

#[cfg(test)]
mod tests;
