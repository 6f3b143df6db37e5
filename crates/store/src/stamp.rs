//! `Stamp`: a UTC timestamp stored so that both backends compare and sort it correctly.
//!
//! PostgreSQL has `timestamptz`. SQLite has no time type, and sqlx writes `OffsetDateTime` as
//! RFC 3339 with as many fraction digits as needed, so `…:05Z` sorts after `…:05.1Z` as text.
//! `Stamp` always writes six fraction digits in UTC, which makes text order time order.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use time::format_description::BorrowedFormatItem;
use time::macros::{datetime, format_description};
use time::{OffsetDateTime, UtcOffset};

const SQLITE_FORMAT: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// A point in time as stored in either backend. Microsecond precision, like PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(OffsetDateTime);

impl Stamp {
    /// The first instant both backends store and order alike: PostgreSQL's `timestamptz` refuses
    /// years before 4713 BC, and SQLite's text sorts as time only with four-digit years.
    pub const FIRST: Self = Self(datetime!(0001-01-01 00:00:00 UTC));
    /// The last instant both backends store and order alike.
    pub const LAST: Self = Self(datetime!(9999-12-31 23:59:59.999999 UTC));

    /// `time` as a stamp, or `None` when it lies outside the years 1 to 9999 that both backends
    /// store (a value from a client: a cursor, an imported date).
    pub fn checked(time: OffsetDateTime) -> Option<Self> {
        (Self::FIRST.0..=Self::LAST.0)
            .contains(&time)
            .then(|| Self::from(time))
    }

    /// The stamp `micros` microseconds after the Unix epoch, if both backends store it.
    pub fn from_unix_micros(micros: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .ok()
            .and_then(Self::checked)
    }

    /// `by` later, or `LAST` when that is past what a database stores (a lifetime setting of
    /// millions of days must neither overflow nor be refused by the database).
    pub fn saturating_add(self, by: std::time::Duration) -> Self {
        time::Duration::try_from(by)
            .ok()
            .and_then(|by| self.0.checked_add(by))
            .and_then(Self::checked)
            .unwrap_or(Self::LAST)
    }

    /// `by` earlier, or `FIRST` when that is before what a database stores.
    pub fn saturating_sub(self, by: std::time::Duration) -> Self {
        time::Duration::try_from(by)
            .ok()
            .and_then(|by| self.0.checked_sub(by))
            .and_then(Self::checked)
            .unwrap_or(Self::FIRST)
    }

    /// Microseconds since the Unix epoch (every stamp's fit in an `i64`).
    pub fn unix_micros(self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
    }

    /// The current time, truncated to what the database keeps so that values read back compare
    /// equal to values written.
    pub fn now() -> Self {
        Self::from(OffsetDateTime::now_utc())
    }

    /// The wrapped time, in UTC.
    pub fn into_inner(self) -> OffsetDateTime {
        self.0
    }
}

impl From<OffsetDateTime> for Stamp {
    fn from(value: OffsetDateTime) -> Self {
        let utc = value.to_offset(UtcOffset::UTC);
        let micros = utc.microsecond();
        Self(utc.replace_microsecond(micros).unwrap_or(utc))
    }
}

impl From<Stamp> for OffsetDateTime {
    fn from(value: Stamp) -> Self {
        value.0
    }
}

impl Type<Sqlite> for Stamp {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <OffsetDateTime as Type<Sqlite>>::compatible(ty) || <String as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Stamp {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.0.format(SQLITE_FORMAT)?, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Stamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        <OffsetDateTime as Decode<Sqlite>>::decode(value).map(Self::from)
    }
}

impl Type<Postgres> for Stamp {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Stamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Stamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <OffsetDateTime as Decode<Postgres>>::decode(value).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_is_fixed_width_utc() {
        let whole = Stamp::from(datetime!(2026-01-02 03:04:05 +02:00));
        let text = whole.0.format(SQLITE_FORMAT).unwrap();
        assert_eq!(text, "2026-01-02T01:04:05.000000Z");
        let fraction = Stamp::from(datetime!(2026-01-02 01:04:05.1 UTC));
        assert!(fraction.0.format(SQLITE_FORMAT).unwrap() > text);
    }

    #[test]
    fn only_years_both_backends_store_are_accepted() {
        let now = Stamp::now();
        assert_eq!(Stamp::from_unix_micros(now.unix_micros()), Some(now));
        assert_eq!(
            Stamp::from_unix_micros(Stamp::FIRST.unix_micros()),
            Some(Stamp::FIRST)
        );
        assert_eq!(Stamp::checked(Stamp::LAST.0), Some(Stamp::LAST));
        for micros in [
            i64::MIN,
            i64::MAX,
            -62_135_596_800_000_001,
            253_402_300_800_000_000,
        ] {
            assert_eq!(Stamp::from_unix_micros(micros), None, "{micros}");
        }
    }

    #[test]
    fn arithmetic_stops_at_the_years_stored() {
        let now = Stamp::now();
        let day = std::time::Duration::from_secs(86_400);
        assert_eq!(now.saturating_add(day).saturating_sub(day), now);
        assert_eq!(now.saturating_sub(std::time::Duration::ZERO), now);
        for far in [day * 3_000_000, std::time::Duration::MAX] {
            assert_eq!(now.saturating_add(far), Stamp::LAST);
            assert_eq!(now.saturating_sub(far), Stamp::FIRST);
        }
    }

    #[test]
    fn now_drops_nanoseconds() {
        assert_eq!(Stamp::now().0.nanosecond() % 1_000, 0);
    }
}
