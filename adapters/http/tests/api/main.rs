//! The HTTP adapter through the actix test server, over fakes of the ports.

mod auth;
mod body;
mod cards;
mod declarations;
mod deliveries;
mod fakes;
mod headers;
mod lookups;
mod members;
mod ops;
mod people;
mod pipeline;
mod pre_issued;
mod products;
mod properties;
mod registrations;
mod replacements;
mod scenarios;
mod support;
mod try_it;
