//! Tools around the prepaid-card service, kept out of the production crates: a client that
//! signs (and encrypts) requests as an integrator would, the load generator and the ceiling
//! measurements behind `docs/PERFORMANCE.md`. Nothing in the service depends on this crate.

pub mod ceilings;
pub mod client;
pub mod jwe;
pub mod loadgen;
