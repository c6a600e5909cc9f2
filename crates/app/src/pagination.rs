//! Keyset pagination: a bounded page size and an opaque cursor naming the last item seen.

use std::fmt;

use uuid::Uuid;

/// How many items a page may hold: 1 to 100, 50 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

/// A page size outside 1 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("limit must be between {} and {}", PageLimit::MIN, PageLimit::MAX)]
pub struct PageLimitError;

impl PageLimit {
    /// The smallest page.
    pub const MIN: u32 = 1;
    /// The largest page.
    pub const MAX: u32 = 100;
    /// The page size when none is asked for.
    pub const DEFAULT: Self = Self(50);

    /// Validates a page size.
    ///
    /// # Errors
    /// [`PageLimitError`] outside 1 to 100.
    pub const fn new(limit: u32) -> Result<Self, PageLimitError> {
        if limit >= Self::MIN && limit <= Self::MAX {
            Ok(Self(limit))
        } else {
            Err(PageLimitError)
        }
    }

    /// The size.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// An opaque position in a listing: the id of the last item of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor(Uuid);

/// A cursor that this service did not hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cursor is not valid; pass back the next_cursor of a previous page")]
pub struct CursorError;

impl Cursor {
    const PREFIX: &'static str = "c1";

    /// A cursor after the item with this id.
    #[must_use]
    pub const fn after(id: Uuid) -> Self {
        Self(id)
    }

    /// The id of the last item seen.
    #[must_use]
    pub const fn last_id(self) -> Uuid {
        self.0
    }

    /// Reads a cursor from its text form.
    ///
    /// # Errors
    /// [`CursorError`] for anything this service did not produce.
    pub fn parse(raw: &str) -> Result<Self, CursorError> {
        let hex = raw.strip_prefix(Self::PREFIX).ok_or(CursorError)?;
        if hex.len() != 32 {
            return Err(CursorError);
        }
        Uuid::try_parse(hex).map(Self).map_err(|_| CursorError)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.0.simple())
    }
}

/// What page to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Page size.
    pub limit: PageLimit,
    /// Where to continue, or `None` for the first page.
    pub cursor: Option<Cursor>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in listing order.
    pub items: Vec<T>,
    /// Where the next page starts, or `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

impl<T> Page<T> {
    /// An empty, final page.
    #[must_use]
    pub const fn empty() -> Self {
        Self {
            items: Vec::new(),
            next_cursor: None,
        }
    }

    /// Builds a page from up to `limit + 1` items read from a store: the extra item, if
    /// present, only says that another page exists.
    #[must_use]
    pub fn from_overfetch(mut items: Vec<T>, limit: PageLimit, id: impl Fn(&T) -> Uuid) -> Self {
        let limit = limit.get() as usize;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|last| Cursor::after(id(last)))
        } else {
            None
        };
        Self { items, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_a_hundred_are_refused() {
        assert_eq!(PageLimit::new(0), Err(PageLimitError));
        assert_eq!(PageLimit::new(101), Err(PageLimitError));
        assert_eq!(PageLimit::new(100).map(PageLimit::get), Ok(100));
        assert_eq!(PageLimit::default().get(), 50);
    }

    #[test]
    fn cursors_round_trip_and_reject_foreign_text() {
        let cursor = Cursor::after(Uuid::from_u128(0xabc));
        assert_eq!(Cursor::parse(&cursor.to_string()), Ok(cursor));
        for bad in [
            "",
            "c1",
            "c1zz",
            "00000000-0000-0000-0000-000000000abc",
            "c1 0000000000000000000000000000abc",
        ] {
            assert_eq!(Cursor::parse(bad), Err(CursorError), "{bad:?}");
        }
    }

    #[test]
    fn overfetched_items_become_a_cursor() {
        let limit = PageLimit::new(2).unwrap_or_default();
        let page = Page::from_overfetch(vec![1u128, 2, 3], limit, |n| Uuid::from_u128(*n));
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(Cursor::after(Uuid::from_u128(2))));
        let last = Page::from_overfetch(vec![1u128, 2], limit, |n| Uuid::from_u128(*n));
        assert_eq!(last.next_cursor, None);
    }
}
