//! Natural ordering of action refs, so that 1.2 comes before 1.10 and 2.1.
//!
//! Real plans number actions "1.1", "1.10", "2.3a", "A1": digits compare as numbers,
//! everything else as text, and the original spelling is kept for display.

use std::cmp::Ordering;

/// A ref that sorts naturally. Equality is by the exact text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefOrder(String);

impl RefOrder {
    pub fn new(reference: &str) -> RefOrder {
        RefOrder(reference.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Splits a ref into runs of digits and runs of other characters.
fn chunks(text: &str) -> impl Iterator<Item = (bool, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let digit = first.is_ascii_digit();
        let end = rest
            .find(|c: char| c.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some((digit, chunk))
    })
}

fn natural(a: &str, b: &str) -> Ordering {
    let mut left = chunks(a);
    let mut right = chunks(b);
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((true, x)), Some((true, y))) => {
                let x = x.trim_start_matches('0');
                let y = y.trim_start_matches('0');
                let by_number = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
                if by_number != Ordering::Equal {
                    return by_number;
                }
            }
            (Some((_, x)), Some((_, y))) => {
                if x != y {
                    return x.cmp(y);
                }
            }
        }
    }
}

impl Ord for RefOrder {
    fn cmp(&self, other: &Self) -> Ordering {
        natural(&self.0, &other.0).then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for RefOrder {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_sort_naturally() {
        let mut refs: Vec<RefOrder> = ["2.1", "1.10", "1.2", "A1", "1.2a", "01.3", "10.1"]
            .into_iter()
            .map(RefOrder::new)
            .collect();
        refs.sort();
        let sorted: Vec<&str> = refs.iter().map(RefOrder::as_str).collect();
        assert_eq!(sorted, ["1.2", "1.2a", "01.3", "1.10", "2.1", "10.1", "A1"]);
    }
}
