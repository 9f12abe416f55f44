//! Card numbers by keyed permutation (D7): the Feistel network of
//! `prepaid_domain::numbering` with HMAC-SHA256 as its round function.

use prepaid_application::ports::CardNumbering;
use prepaid_domain::Bin;
use prepaid_domain::numbering::account_number;

use crate::keys::IndexKey;
use crate::secrets::HmacKey;

/// The permutation's key is derived from the index key with this label: a key of its own, and
/// one more secret to keep rather than a new one to configure. It must never change for a BIN
/// that has issued cards (another key is another permutation, whose numbers would meet the
/// ones issued): when the index key is rotated, the permutation keeps the key it was derived
/// from.
const LABEL: &[u8] = b"prepaid card numbering v1";

/// Account numbers as a keyed permutation of each BIN's serials.
#[derive(Clone, Debug)]
pub struct HmacCardNumbering {
    key: HmacKey,
}

impl HmacCardNumbering {
    /// The numbering keyed from `index_key`.
    pub fn new(index_key: &IndexKey) -> Self {
        let derived = HmacKey::new(&index_key.0).mac(&[LABEL]);
        Self {
            key: HmacKey::new(&derived),
        }
    }
}

impl CardNumbering for HmacCardNumbering {
    fn account_number(&self, bin: &Bin, capacity: u64, serial: u64) -> Option<u64> {
        // The BIN and the space are in every round's input: each BIN gets its own permutation.
        let space = capacity.to_be_bytes();
        account_number(capacity, serial, &mut |round, half| {
            let digest = self.key.mac(&[
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

    fn numbering(seed: u8) -> HmacCardNumbering {
        HmacCardNumbering::new(&IndexKey([seed; 32]))
    }

    #[test]
    fn a_small_space_is_filled_to_its_last_number_each_number_once() {
        let bin = Bin::parse("94351200").unwrap();
        let numbering = numbering(1);
        let numbers: HashSet<u64> = (0..5_000)
            .map(|serial| numbering.account_number(&bin, 5_000, serial).unwrap())
            .collect();
        assert_eq!(numbers.len(), 5_000);
        assert!(numbers.iter().all(|number| *number < 5_000));
        assert_eq!(numbering.account_number(&bin, 5_000, 5_000), None);
    }

    /// The account numbers of the first 20 serials of `bin` in a space of 10⁷.
    fn first_twenty(numbering: &HmacCardNumbering, bin: &str) -> Vec<u64> {
        let bin = Bin::parse(bin).unwrap();
        (0..20)
            .map(|serial| numbering.account_number(&bin, 10_000_000, serial).unwrap())
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
}
