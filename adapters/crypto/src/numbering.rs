//! Card numbers by keyed permutation (D7): the Feistel network of
//! `prepaid_domain::numbering` with HMAC-SHA256 as its round function.

use prepaid_application::ports::CardNumbering;
use prepaid_domain::Bin;
use prepaid_domain::numbering::account_number;

use crate::keys::IndexKey;
use crate::secrets::HmacKey;

/// The permutation's key is derived from an index key with this label: a key of its own, and
/// no new secret to configure. It must never change for a BIN that has issued cards (another
/// key is another permutation, whose numbers would meet the ones issued): the store records the
/// index key id each BIN started with, and a rotated index key stays configured as retired.
const LABEL: &[u8] = b"prepaid card numbering v1";

/// Account numbers as a keyed permutation of each BIN's serials, with a key derived from each
/// index key (current and retired): a BIN keeps the key it started with.
#[derive(Clone, Debug)]
pub struct HmacCardNumbering {
    current_id: String,
    keys: std::collections::HashMap<String, HmacKey>,
}

impl HmacCardNumbering {
    /// The numbering keyed from `index_key`, as index key
    /// [`crate::secrets::DEFAULT_INDEX_KEY_ID`].
    pub fn new(index_key: &IndexKey) -> Self {
        Self::with_keys(crate::secrets::DEFAULT_INDEX_KEY_ID, index_key, &[])
    }

    /// The numbering keyed from the index key `current` (id `current_id`) for BINs that start
    /// now, and from each of `retired` for the BINs that started with them.
    pub fn with_keys(current_id: &str, current: &IndexKey, retired: &[(String, IndexKey)]) -> Self {
        let derive = |key: &IndexKey| HmacKey::new(&HmacKey::new(&key.0).mac(&[LABEL]));
        let mut keys: std::collections::HashMap<String, HmacKey> = retired
            .iter()
            .map(|(id, key)| (id.clone(), derive(key)))
            .collect();
        keys.insert(current_id.to_owned(), derive(current));
        Self {
            current_id: current_id.to_owned(),
            keys,
        }
    }
}

impl CardNumbering for HmacCardNumbering {
    fn current_key_id(&self) -> String {
        self.current_id.clone()
    }

    fn account_number(&self, key_id: &str, bin: &Bin, capacity: u64, serial: u64) -> Option<u64> {
        let key = self.keys.get(key_id)?;
        // The BIN and the space are in every round's input: each BIN gets its own permutation.
        let space = capacity.to_be_bytes();
        account_number(capacity, serial, &mut |round, half| {
            let digest = key.mac(&[
                bin.as_str().as_bytes(),
                &[0],
                &space,
                &[round],
                &half.to_be_bytes(),
            ]);
            let mut first = [0; 8];
            first.copy_from_slice(&digest[..8]);
            u64::from_be_bytes(first)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::secrets::DEFAULT_INDEX_KEY_ID;

    fn numbering(seed: u8) -> HmacCardNumbering {
        HmacCardNumbering::new(&IndexKey([seed; 32]))
    }

    #[test]
    fn a_small_space_is_filled_to_its_last_number_each_number_once() {
        let bin = Bin::parse("94351200").unwrap();
        let numbering = numbering(1);
        let numbers: HashSet<u64> = (0..5_000)
            .map(|serial| {
                numbering
                    .account_number(DEFAULT_INDEX_KEY_ID, &bin, 5_000, serial)
                    .unwrap()
            })
            .collect();
        assert_eq!(numbers.len(), 5_000);
        assert!(numbers.iter().all(|number| *number < 5_000));
        assert_eq!(
            numbering.account_number(DEFAULT_INDEX_KEY_ID, &bin, 5_000, 5_000),
            None
        );
    }

    /// The account numbers of the first 20 serials of `bin` in a space of 10⁷.
    fn first_twenty(numbering: &HmacCardNumbering, bin: &str) -> Vec<u64> {
        let bin = Bin::parse(bin).unwrap();
        (0..20)
            .map(|serial| {
                numbering
                    .account_number(DEFAULT_INDEX_KEY_ID, &bin, 10_000_000, serial)
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn the_numbers_depend_on_the_key_and_the_bin_and_on_nothing_else() {
        let first = first_twenty(&numbering(1), "94351200");
        assert_eq!(
            first,
            first_twenty(&numbering(1), "94351200"),
            "one key, one permutation"
        );
        assert_ne!(first, first_twenty(&numbering(2), "94351200"));
        assert_ne!(first, first_twenty(&numbering(1), "94351300"));
        assert!(
            first.windows(2).any(|pair| pair[1] < pair[0]),
            "not in the order of issue: {first:?}"
        );
    }

    #[test]
    fn a_bin_keeps_its_key_after_the_index_key_rotates() {
        let bin = Bin::parse("94351200").unwrap();
        let before = HmacCardNumbering::with_keys("idx-1", &IndexKey([1; 32]), &[]);
        let after = HmacCardNumbering::with_keys(
            "idx-2",
            &IndexKey([2; 32]),
            &[("idx-1".to_owned(), IndexKey([1; 32]))],
        );
        assert_eq!(after.current_key_id(), "idx-2");
        for serial in 0..50 {
            assert_eq!(
                after.account_number("idx-1", &bin, 10_000_000, serial),
                before.account_number("idx-1", &bin, 10_000_000, serial)
            );
        }
        assert_ne!(
            after.account_number("idx-2", &bin, 10_000_000, 7),
            after.account_number("idx-1", &bin, 10_000_000, 7)
        );
        assert_eq!(before.account_number("idx-2", &bin, 10_000_000, 7), None);
    }
}
