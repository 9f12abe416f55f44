//! The status tables of applications (D16) and deliveries (D18), and a delivery's history.
//!
//! Every status change of an application or a delivery goes through these tables: a change
//! the table does not list is refused and changes nothing.

use crate::application::{ApplicationStatus, DeliveryStatus};
use crate::time::Timestamp;

impl ApplicationStatus {
    /// Whether no change may follow: `COMPLETED`, `CANCELLED`, `COST_PAY_FAILED` (D16).
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Cancelled | Self::CostPayFailed
        )
    }

    /// Whether an application in this status may change to `next` (D16):
    /// - `READY` → `COST_PAYING` (a reissue's fee), `DIGITAL_ISSUED`, `PHYSICAL_ISSUED`,
    ///   `COMPLETED` (a mobile-only application fulfilled), `CANCELLED`;
    /// - `COST_PAYING` → `COST_PAID`, `COST_PAY_FAILED`;
    /// - `COST_PAID` → `DIGITAL_ISSUED`, `PHYSICAL_ISSUED`, `COMPLETED`, `CANCELLED`;
    /// - `DIGITAL_ISSUED` → `PHYSICAL_ISSUED`, `COMPLETED`, `CANCELLED`;
    /// - `PHYSICAL_ISSUED` → `COMPLETED`.
    pub const fn can_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (
                Self::Ready,
                Self::CostPaying
                    | Self::DigitalIssued
                    | Self::PhysicalIssued
                    | Self::Completed
                    | Self::Cancelled
            ) | (Self::CostPaying, Self::CostPaid | Self::CostPayFailed)
                | (
                    Self::CostPaid,
                    Self::DigitalIssued | Self::PhysicalIssued | Self::Completed | Self::Cancelled
                )
                | (
                    Self::DigitalIssued,
                    Self::PhysicalIssued | Self::Completed | Self::Cancelled
                )
                | (Self::PhysicalIssued, Self::Completed)
        )
    }
}

impl DeliveryStatus {
    /// Whether no change may follow: `ARRIVAL`, `LOST`, `RETURN`, `CANCEL` (D18).
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            Self::Arrival | Self::Lost | Self::Return | Self::Cancel
        )
    }

    /// The next status on the way to the member, when all goes well: `READY` → `RECEIPT` →
    /// `PRE_SHIPPING` → `SHIPPING` → `ARRIVAL`. `None` for a final status and for `ETC` (whose
    /// way back depends on the status it left).
    pub const fn next_along(self) -> Option<Self> {
        match self {
            Self::Ready => Some(Self::Receipt),
            Self::Receipt => Some(Self::PreShipping),
            Self::PreShipping => Some(Self::Shipping),
            Self::Shipping => Some(Self::Arrival),
            Self::Arrival | Self::Lost | Self::Return | Self::Cancel | Self::Etc => None,
        }
    }

    /// The steps of the table that do not involve `ETC`: `READY` → `RECEIPT` →
    /// `PRE_SHIPPING` → `SHIPPING` → `ARRIVAL`; `SHIPPING` → `LOST` or `RETURN`;
    /// `READY`/`RECEIPT` → `CANCEL`. Any status that is not final may also go to `ETC`, and
    /// `ETC` back to the status it left: [`DeliveryHistory::advance`] knows which.
    const fn is_step(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::Ready, Self::Receipt | Self::Cancel)
                | (Self::Receipt, Self::PreShipping | Self::Cancel)
                | (Self::PreShipping, Self::Shipping)
                | (Self::Shipping, Self::Arrival | Self::Lost | Self::Return)
        )
    }
}

/// Why a delivery's status may not change as asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryChangeRefused {
    /// The delivery is in a final status.
    Final(DeliveryStatus),
    /// The table has no such change.
    NotAllowed {
        /// The status now.
        from: DeliveryStatus,
        /// The status asked for.
        to: DeliveryStatus,
    },
    /// The change is dated before the last one.
    BeforeTheLastChange,
    /// Going to `ETC` now would leave no room in the history for the way back and the rest of
    /// the journey ([`DeliveryHistory::MOST_STEPS`]).
    TooManyFailures,
}

impl std::fmt::Display for DeliveryChangeRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Final(status) => write!(f, "the delivery is {} (final)", status.as_str()),
            Self::NotAllowed { from, to } => write!(
                f,
                "a delivery cannot go from {} to {}",
                from.as_str(),
                to.as_str()
            ),
            Self::BeforeTheLastChange => f.write_str("the change is dated before the last one"),
            Self::TooManyFailures => {
                f.write_str("the delivery has failed too often to record another failure")
            }
        }
    }
}

impl std::error::Error for DeliveryChangeRefused {}

/// One status of a delivery and when it was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryStep {
    /// The status.
    pub status: DeliveryStatus,
    /// When it was reached.
    pub at: Timestamp,
}

/// Every status a delivery went through, in order, starting at `READY` (D18). It only grows,
/// each change allowed by the table and dated no earlier than the one before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryHistory(Vec<DeliveryStep>);

impl DeliveryHistory {
    /// The most steps a history holds, so that an inquiry's answer is bounded. Only `ETC` can
    /// make a history long, and it is refused unless the way back and the longest way on from
    /// there (four steps, `READY` to `ARRIVAL`) still fit: every other change is always allowed.
    pub const MOST_STEPS: usize = 64;

    /// The longest way from a status back out of `ETC` to a final status: `ETC`, the status
    /// left, then at most four steps on.
    const ROOM_FOR_A_FAILURE: usize = 6;

    /// The steps of a new leg, `READY` to a final status: a redelivery is refused unless they
    /// all fit.
    const A_WHOLE_LEG: usize = 5;

    /// A new delivery: `READY` at `at`.
    pub fn start(at: Timestamp) -> Self {
        Self(vec![DeliveryStep {
            status: DeliveryStatus::Ready,
            at,
        }])
    }

    /// A history read back from storage, checked step by step as if it happened now.
    ///
    /// # Errors
    /// The first step the table refuses (an empty history, or one that does not start at
    /// `READY`, is refused as going from `READY` to its first status).
    pub fn from_steps(steps: &[DeliveryStep]) -> Result<Self, DeliveryChangeRefused> {
        let Some((first, rest)) = steps.split_first() else {
            return Err(DeliveryChangeRefused::BeforeTheLastChange);
        };
        if first.status != DeliveryStatus::Ready {
            return Err(DeliveryChangeRefused::NotAllowed {
                from: DeliveryStatus::Ready,
                to: first.status,
            });
        }
        let mut history = Self::start(first.at);
        for step in rest {
            let ended = matches!(
                history.current(),
                DeliveryStatus::Lost | DeliveryStatus::Return
            );
            history = if step.status == DeliveryStatus::Ready && ended {
                history.redeliver(step.at)?
            } else {
                history.advance(step.status, step.at)?
            };
        }
        Ok(history)
    }

    /// The status now.
    pub fn current(&self) -> DeliveryStatus {
        self.last().status
    }

    /// The steps, oldest first.
    pub fn steps(&self) -> &[DeliveryStep] {
        &self.0
    }

    /// Whether the delivery ever reached `status`.
    pub fn reached(&self, status: DeliveryStatus) -> bool {
        self.0.iter().any(|step| step.status == status)
    }

    /// Whether the delivery reached `status` since it last started (at `READY`: the first
    /// time, or at its latest redelivery).
    pub fn reached_on_this_leg(&self, status: DeliveryStatus) -> bool {
        let start = self
            .0
            .iter()
            .rposition(|step| step.status == DeliveryStatus::Ready)
            .unwrap_or(0);
        self.0[start..].iter().any(|step| step.status == status)
    }

    /// The history of a delivery sent again after it was `LOST` or `RETURN`ed: a new leg,
    /// `READY` at `at` (D18); this one is left as it was.
    ///
    /// # Errors
    /// A delivery that is not lost or returned; one with no room left in its history for a
    /// whole new leg ([`DeliveryHistory::MOST_STEPS`]); a date before the last change.
    pub fn redeliver(&self, at: Timestamp) -> Result<Self, DeliveryChangeRefused> {
        let last = self.last();
        if !matches!(last.status, DeliveryStatus::Lost | DeliveryStatus::Return) {
            return Err(DeliveryChangeRefused::NotAllowed {
                from: last.status,
                to: DeliveryStatus::Ready,
            });
        }
        if self.0.len() + Self::A_WHOLE_LEG > Self::MOST_STEPS {
            return Err(DeliveryChangeRefused::TooManyFailures);
        }
        if at < last.at {
            return Err(DeliveryChangeRefused::BeforeTheLastChange);
        }
        let mut steps = self.0.clone();
        steps.push(DeliveryStep {
            status: DeliveryStatus::Ready,
            at,
        });
        Ok(Self(steps))
    }

    /// The history with `next` reached at `at`; this one is left as it was.
    ///
    /// # Errors
    /// A final status, a change the table does not list (from `ETC`, only back to the status
    /// it left), or a date before the last change.
    pub fn advance(
        &self,
        next: DeliveryStatus,
        at: Timestamp,
    ) -> Result<Self, DeliveryChangeRefused> {
        let last = self.last();
        if last.status.is_final() {
            return Err(DeliveryChangeRefused::Final(last.status));
        }
        let allowed = match (last.status, next) {
            (DeliveryStatus::Etc, _) => Some(next) == self.left_for_etc(),
            (_, DeliveryStatus::Etc) => true,
            (from, to) => from.is_step(to),
        };
        if !allowed {
            return Err(DeliveryChangeRefused::NotAllowed {
                from: last.status,
                to: next,
            });
        }
        if next == DeliveryStatus::Etc && self.0.len() + Self::ROOM_FOR_A_FAILURE > Self::MOST_STEPS
        {
            return Err(DeliveryChangeRefused::TooManyFailures);
        }
        if at < last.at {
            return Err(DeliveryChangeRefused::BeforeTheLastChange);
        }
        let mut steps = self.0.clone();
        steps.push(DeliveryStep { status: next, at });
        Ok(Self(steps))
    }

    /// The status the delivery had before its last `ETC`, the one it may go back to.
    fn left_for_etc(&self) -> Option<DeliveryStatus> {
        let count = self.0.len();
        (count >= 2).then(|| self.0[count - 2].status)
    }

    fn last(&self) -> &DeliveryStep {
        // Never empty: every constructor starts at READY and steps are only added.
        &self.0[self.0.len() - 1]
    }
}

#[cfg(test)]
mod tests;
