//! Making new cards: a card number from the BIN's serials, a PAR, an expiry, a CVC key, the PAN
//! protected and fingerprinted. Shared by every use case that issues a card (an application's
//! mobile card, a physical card produced for a delivery, a mobile card issued at registration),
//! so that every card number comes from one reservation of serials per instance.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use prepaid_domain::{
    Bin, CardId, CardKind, CardProduct, CardStatus, Cvc, Expiry, IssuedCard, MemberId, Pan, Par,
    Timestamp,
};

use crate::ports::{
    CardNumberSerials, CardNumbering, CardSecrets, CardVerification, NewIssuedCard, PanBinding,
    PortError, RandomSource,
};

/// How many serials of a BIN an instance reserves at once: one write for this many cards. A
/// restart loses the unused rest of its block (a gap in the serials, never a repeat): at most
/// 1,000 numbers of 10⁷ per restart.
pub(crate) const SERIAL_BLOCK: u64 = 1_000;

/// The ports a card is made through.
#[derive(Clone)]
pub struct CardMintPorts {
    /// PAN encryption and fingerprints.
    pub secrets: Arc<dyn CardSecrets>,
    /// CVC derivation.
    pub verification: Arc<dyn CardVerification>,
    /// Randomness for ids and PARs.
    pub random: Arc<dyn RandomSource>,
    /// The card-number permutation.
    pub numbering: Arc<dyn CardNumbering>,
    /// The serials of each BIN.
    pub serials: Arc<dyn CardNumberSerials>,
}

/// What a new card is.
#[derive(Clone, Copy, Debug)]
pub struct CardBlank<'a> {
    /// The product: its BIN and validity.
    pub product: &'a CardProduct,
    /// The member it is issued to.
    pub owner: MemberId,
    /// Mobile or physical.
    pub kind: CardKind,
    /// Its first state.
    pub status: CardStatus,
    /// When it is made: its expiry counts from here.
    pub now: Timestamp,
}

/// A card just made: what is recorded, and its printed data (shown once, never stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MintedCard {
    /// What the store records.
    pub record: NewIssuedCard,
    /// Its card number.
    pub pan: Pan,
    /// Its verification code (derived, never stored).
    pub cvc: Cvc,
}

/// Makes cards; clones share one instance's reserved serials.
#[derive(Clone)]
pub struct CardMint {
    ports: CardMintPorts,
    serials: Arc<Mutex<SerialBlocks>>,
}

/// The serials this instance reserved and has not used yet, and what was left of each BIN's
/// space at its last reservation.
#[derive(Default)]
struct SerialBlocks {
    blocks: HashMap<Bin, (Range<u64>, String)>,
    unreserved: HashMap<Bin, u64>,
}

impl CardMint {
    /// A mint working through `ports`.
    pub fn new(ports: CardMintPorts) -> Self {
        Self {
            ports,
            serials: Arc::default(),
        }
    }

    /// How many card numbers are left under each BIN this instance issued from: those never
    /// reserved (as of its last reservation) and those of its own block not used yet.
    pub fn card_numbers_left(&self) -> Vec<(Bin, u64)> {
        let serials = self.serials.lock().unwrap_or_else(PoisonError::into_inner);
        let mut left: Vec<(Bin, u64)> = serials
            .unreserved
            .iter()
            .map(|(bin, unreserved)| {
                let own = serials
                    .blocks
                    .get(bin)
                    .map_or(0, |(block, _)| block.end - block.start);
                (bin.clone(), unreserved + own)
            })
            .collect();
        left.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        left
    }

    /// The next serial of `bin` and the BIN's numbering key id, from this instance's block or
    /// a new one.
    pub(crate) async fn next_serial(&self, bin: &Bin) -> Result<(u64, String), PortError> {
        loop {
            {
                let mut serials = self.serials.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some((block, key_id)) = serials.blocks.get_mut(bin)
                    && let Some(serial) = block.next()
                {
                    return Ok((serial, key_id.clone()));
                }
            }
            let capacity = bin.account_capacity();
            let current = self.ports.numbering.current_key_id();
            let reserved = self
                .ports
                .serials
                .reserve(bin, SERIAL_BLOCK, capacity, &current)
                .await?;
            let block = reserved.serials;
            if block.is_empty() {
                return Err(PortError::msg(format!(
                    "every card number under BIN {} is taken",
                    bin.as_str()
                )));
            }
            let mut serials = self.serials.lock().unwrap_or_else(PoisonError::into_inner);
            serials
                .unreserved
                .insert(bin.clone(), capacity.saturating_sub(block.end));
            // A block reserved meanwhile by a concurrent request is used up first; its rest is
            // a gap, never a repeat.
            serials.blocks.insert(bin.clone(), (block, reserved.key_id));
        }
    }

    /// A card as `blank` says, numbered by `serial` under the BIN's key `numbering_key`.
    ///
    /// # Errors
    /// A serial outside its BIN or a numbering key gone, a clock outside the supported years,
    /// or a key the card cannot be protected or verified with.
    pub(crate) fn make(
        &self,
        blank: &CardBlank<'_>,
        serial: u64,
        numbering_key: &str,
    ) -> Result<MintedCard, PortError> {
        let ports = &self.ports;
        let bin = &blank.product.bin;
        let mut random = || ports.random.next_u64();
        let account = ports
            .numbering
            .account_number(numbering_key, bin, bin.account_capacity(), serial)
            .ok_or_else(|| {
                PortError::msg("card serial outside its BIN, or its numbering key is gone")
            })?;
        let pan = Pan::compose(bin, account);
        let id = CardId::generate(blank.now, &mut random);
        let par = Par::generate(&mut random);
        let expiry = Expiry::from_issue_instant(blank.now, blank.product.validity)
            .ok_or_else(|| PortError::msg("clock outside the supported years"))?;
        let cvk_id = ports.verification.current_key_id();
        let cvc = ports.verification.derive(&cvk_id, &pan, expiry)?;
        let record = NewIssuedCard {
            protected_pan: ports.secrets.protect(&pan, PanBinding::Card(&id))?,
            card: IssuedCard {
                id,
                par,
                owner: blank.owner,
                linked_to: None,
                expiry,
                kind: blank.kind,
                status: blank.status,
            },
            pan_fingerprint: ports.secrets.fingerprint(&pan),
            cvk_id,
        };
        Ok(MintedCard { record, pan, cvc })
    }

    /// A card as `blank` says, with the next card number of its product's BIN.
    ///
    /// # Errors
    /// As [`CardMint::make`], or the serials cannot be reserved.
    pub async fn mint(&self, blank: &CardBlank<'_>) -> Result<MintedCard, PortError> {
        let (serial, key_id) = self.next_serial(&blank.product.bin).await?;
        self.make(blank, serial, &key_id)
    }
}

/// A mint over mocks for the use cases' tests: serials from 0 under `num-1`, account numbers
/// from the serials, CVC `999`, PANs "protected" as their digits, one fingerprint for all.
#[cfg(test)]
pub(crate) fn test_mint() -> CardMint {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::ports::{
        MockCardNumberSerials, MockCardNumbering, MockCardSecrets, MockCardVerification,
        MockRandomSource, PanFingerprint, ProtectedPan, SerialBlock,
    };

    let mut numbering = MockCardNumbering::new();
    numbering
        .expect_current_key_id()
        .returning(|| "num-1".to_owned());
    numbering
        .expect_account_number()
        .returning(|_, _, _, serial| Some(4_242 + serial));
    let mut serials = MockCardNumberSerials::new();
    serials.expect_reserve().returning(|_, count, _, key_id| {
        Ok(SerialBlock {
            serials: 0..count,
            key_id: key_id.to_owned(),
        })
    });
    let mut verification = MockCardVerification::new();
    verification
        .expect_current_key_id()
        .returning(|| "cvk-2".to_owned());
    verification
        .expect_derive()
        .returning(|_, _, _| Ok(Cvc::parse("999").unwrap()));
    let mut secrets = MockCardSecrets::new();
    secrets.expect_protect().returning(|pan, _| {
        Ok(ProtectedPan {
            key_id: "pan-1".to_owned(),
            ciphertext: pan.expose().as_bytes().to_vec(),
        })
    });
    secrets.expect_fingerprint().returning(|_| PanFingerprint {
        key_id: "idx-1".to_owned(),
        digest: [5; 32],
    });
    let mut random = MockRandomSource::new();
    let draws = AtomicUsize::new(1);
    random
        .expect_next_u64()
        .returning(move || u64::try_from(draws.fetch_add(1, Ordering::SeqCst)).unwrap() * 104_729);
    CardMint::new(CardMintPorts {
        secrets: Arc::new(secrets),
        verification: Arc::new(verification),
        random: Arc::new(random),
        numbering: Arc::new(numbering),
        serials: Arc::new(serials),
    })
}
