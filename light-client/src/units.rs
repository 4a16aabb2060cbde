//! TAO and rao. Balances on chain are integers of rao (10⁻⁹ TAO, `u64`); people read and type
//! TAO with up to nine decimals. Both directions are exact integer arithmetic: a float would
//! turn 0.1 TAO into 99 999 999 rao.

use std::fmt;

pub const RAO_PER_TAO: u64 = 1_000_000_000;
pub const DECIMALS: usize = 9;

/// "1.500000000": a rao amount as TAO with all nine decimals.
pub fn format_tao(rao: u64) -> String {
    format!("{}.{:09}", rao / RAO_PER_TAO, rao % RAO_PER_TAO)
}

/// "1 234 567.500000000": the same, with thin spaces between thousands for reading.
pub fn format_tao_grouped(rao: u64) -> String {
    let whole = (rao / RAO_PER_TAO).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('\u{2009}');
        }
        grouped.push(c);
    }
    format!("{grouped}.{:09}", rao % RAO_PER_TAO)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmountError {
    Empty,
    /// A character that is not a digit or the one decimal point.
    NotANumber(char),
    /// More than nine decimals: rao is the smallest unit.
    TooPrecise {
        decimals: usize,
    },
    /// More than `u64::MAX` rao.
    TooLarge,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::Empty => write!(f, "enter an amount of TAO"),
            AmountError::NotANumber(c) => write!(
                f,
                "'{c}' is not allowed in an amount; use digits and one '.'"
            ),
            AmountError::TooPrecise { decimals } => {
                write!(
                    f,
                    "{decimals} decimals given; TAO has at most 9 (1 rao = 0.000000001 TAO)"
                )
            }
            AmountError::TooLarge => write!(f, "amount is larger than any balance can be"),
        }
    }
}

impl std::error::Error for AmountError {}

/// Parses a TAO amount typed by a person ("1", "0.5", "12.000000001") into rao.
pub fn parse_tao(text: &str) -> Result<u64, AmountError> {
    let text = text.trim();
    if text.is_empty() || text == "." {
        return Err(AmountError::Empty);
    }
    if let Some(c) = text.chars().find(|c| !c.is_ascii_digit() && *c != '.') {
        return Err(AmountError::NotANumber(c));
    }
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if frac.contains('.') {
        return Err(AmountError::NotANumber('.'));
    }
    if frac.len() > DECIMALS {
        return Err(AmountError::TooPrecise {
            decimals: frac.len(),
        });
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| AmountError::TooLarge)?
    };
    let frac_rao: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}")
            .parse()
            .map_err(|_| AmountError::TooLarge)?
    };
    whole
        .checked_mul(RAO_PER_TAO)
        .and_then(|r| r.checked_add(frac_rao))
        .ok_or(AmountError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_nine_decimals() {
        assert_eq!(format_tao(0), "0.000000000");
        assert_eq!(format_tao(1), "0.000000001");
        assert_eq!(format_tao(1_500_000_000), "1.500000000");
        assert_eq!(format_tao(u64::MAX), "18446744073.709551615");
        assert_eq!(
            format_tao_grouped(1_234_567_500_000_000),
            "1\u{2009}234\u{2009}567.500000000"
        );
    }

    #[test]
    fn parses_exactly() {
        assert_eq!(parse_tao("0.1"), Ok(100_000_000));
        assert_eq!(parse_tao("1"), Ok(RAO_PER_TAO));
        assert_eq!(parse_tao(".5"), Ok(500_000_000));
        assert_eq!(parse_tao("12.000000001"), Ok(12_000_000_001));
        assert_eq!(parse_tao("18446744073.709551615"), Ok(u64::MAX));
    }

    #[test]
    fn rejects_what_cannot_be_an_amount() {
        assert_eq!(parse_tao(""), Err(AmountError::Empty));
        assert_eq!(parse_tao("1,5"), Err(AmountError::NotANumber(',')));
        assert_eq!(parse_tao("-1"), Err(AmountError::NotANumber('-')));
        assert_eq!(parse_tao("1.2.3"), Err(AmountError::NotANumber('.')));
        assert_eq!(
            parse_tao("0.0000000001"),
            Err(AmountError::TooPrecise { decimals: 10 })
        );
        assert_eq!(
            parse_tao("18446744073.709551616"),
            Err(AmountError::TooLarge)
        );
    }
}
