//! Card numbers unique by construction (D7): the account digits of the n-th card under a BIN
//! are a keyed permutation of n over the BIN's account space, so no two serials ever give one
//! number and nothing is drawn again, while the numbers do not show the order they were issued
//! in. The permutation is pure (a Feistel network with cycle walking); its keyed round function
//! is supplied by the caller (a cryptographic PRF in the crypto adapter).

/// Feistel rounds. Four make a pseudorandom permutation from a pseudorandom function
/// (Luby-Rackoff); ten leave a wide margin, as NIST's FF1 does.
pub const FEISTEL_ROUNDS: u8 = 10;

/// The largest account space the permutation takes: 2⁶² (the halves and the walk stay in a u64).
pub const MAX_CAPACITY: u64 = 1 << 62;

/// The account number of `serial` in a space of `capacity` numbers: a permutation of
/// `0..capacity`, keyed by `round`, which maps (round number, right half) to pseudorandom bits.
/// `None` when `serial` is outside the space or the space is empty or too large.
///
/// A balanced Feistel network over the smallest even number of bits that holds `capacity` is a
/// permutation of that power of two whatever `round` is; walking its cycle from `serial` until
/// the value falls inside the space again (cycle walking) makes it a permutation of the space.
/// The walk ends: the cycle holds `serial` itself. With at most four times the space in the
/// power of two, it takes fewer than four steps on average.
pub fn account_number(
    capacity: u64,
    serial: u64,
    round: &mut impl FnMut(u8, u64) -> u64,
) -> Option<u64> {
    if capacity == 0 || capacity > MAX_CAPACITY || serial >= capacity {
        return None;
    }
    let bits = (u64::BITS - (capacity - 1).leading_zeros()).max(2);
    let half = bits.div_ceil(2);
    let mask = (1_u64 << half) - 1;
    let mut value = serial;
    loop {
        let (mut left, mut right) = (value >> half, value & mask);
        for number in 0..FEISTEL_ROUNDS {
            (left, right) = (right, left ^ (round(number, right) & mask));
        }
        value = (left << half) | right;
        if value < capacity {
            return Some(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    /// A stand-in round function: any function will do for the permutation property.
    fn mixing(key: u64) -> impl FnMut(u8, u64) -> u64 {
        move |round, half| {
            let mut x = half ^ key ^ (u64::from(round) << 56);
            x = (x ^ (x >> 31)).wrapping_mul(0x7fb5_d329_728e_a185);
            x = (x ^ (x >> 27)).wrapping_mul(0x81da_def4_bc2d_d44d);
            x ^ (x >> 33)
        }
    }

    proptest! {
        #[test]
        fn every_serial_of_a_space_gets_its_own_number_inside_the_space(
            capacity in 1_u64..3_000,
            key in any::<u64>(),
        ) {
            let mut round = mixing(key);
            let numbers: HashSet<u64> = (0..capacity)
                .map(|serial| account_number(capacity, serial, &mut round).unwrap())
                .collect();
            prop_assert_eq!(numbers.len() as u64, capacity);
            prop_assert!(numbers.iter().all(|number| *number < capacity));
        }

        #[test]
        fn serials_outside_the_space_have_no_number(capacity in 1_u64..1_000_000, beyond in 0_u64..1_000) {
            prop_assert_eq!(account_number(capacity, capacity + beyond, &mut mixing(1)), None);
        }
    }

    #[test]
    fn a_space_of_ten_million_is_walked_within_its_2_to_the_24() {
        let mut round = mixing(7);
        let numbers: HashSet<u64> = (0..100_000)
            .map(|serial| account_number(10_000_000, serial, &mut round).unwrap())
            .collect();
        assert_eq!(numbers.len(), 100_000);
        assert!(numbers.iter().all(|number| *number < 10_000_000));
        // Not the identity, nor the order of issue: most numbers are far from their serial.
        let far = (0..1_000_u64)
            .filter(|serial| account_number(10_000_000, *serial, &mut round).unwrap() > 1_000_000)
            .count();
        assert!(
            far > 800,
            "{far} of 1,000 first serials landed past a million"
        );
    }

    #[test]
    fn empty_and_oversized_spaces_have_no_numbers() {
        assert_eq!(account_number(0, 0, &mut mixing(1)), None);
        assert_eq!(account_number(MAX_CAPACITY + 1, 0, &mut mixing(1)), None);
        assert!(account_number(MAX_CAPACITY, MAX_CAPACITY - 1, &mut mixing(1)).is_some());
        assert_eq!(account_number(1, 0, &mut mixing(1)), Some(0));
    }
}
