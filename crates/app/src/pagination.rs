//! Keyset pagination: a bounded page size and an opaque cursor naming the last item seen,
//! sealed to the listing that handed it out.
//!
//! A cursor is `c2`, the id of the last item of the page, and an HMAC-SHA-256 tag (128 bits)
//! over that id and the [`Listing`]: the route's kind, its space and every filter of the
//! request. So a cursor is tamper-evident, and one from another space, route or filter is
//! refused ([`CursorError`]) rather than silently continuing some other listing. A cursor
//! authorizes nothing: the actor, the space and the filters always come from the request, and
//! the tag only says that this server handed out this position for this very listing. The key
//! ([`CursorKey`]) is the server's: nodes share it through the store or configuration.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
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

/// An opaque position in a listing: the id of the last item of the previous page and the tag
/// that seals it to its listing. Read by [`Cursor::parse`] (its form only); only
/// [`Pager::position`] says whether it belongs to the listing at hand.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor {
    id: Uuid,
    tag: [u8; TAG_BYTES],
}

/// How much of the HMAC a cursor carries: 128 bits, past any guessing.
const TAG_BYTES: usize = 16;

/// A cursor that this service did not hand out, or handed out for another listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "cursor is not valid for this listing; pass back the next_cursor of a previous page of the \
     same listing (same space, route and filters)"
)]
pub struct CursorError;

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({self})")
    }
}

impl Cursor {
    const PREFIX: &'static str = "c2";

    /// Reads a cursor's text form. Only its form: whether it belongs to a listing is
    /// [`Pager::position`]'s to say.
    ///
    /// # Errors
    /// [`CursorError`] for anything that does not have a cursor's form.
    pub fn parse(raw: &str) -> Result<Self, CursorError> {
        let hex = raw.strip_prefix(Self::PREFIX).ok_or(CursorError)?;
        // Only hexadecimal digits: `u8::from_str_radix` alone would take a `+` sign as well.
        if hex.len() != 32 + 2 * TAG_BYTES || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CursorError);
        }
        let (id, tag_hex) = hex.split_at(32);
        let id = Uuid::try_parse(id).map_err(|_| CursorError)?;
        let mut tag = [0; TAG_BYTES];
        for (byte, pair) in tag.iter_mut().zip(tag_hex.as_bytes().chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| CursorError)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| CursorError)?;
        }
        Ok(Self { id, tag })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.id.simple())?;
        self.tag.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// The server's key for sealing cursors: 256 bits. Nodes that serve the same store must share
/// it, or a cursor from one is refused by the next; the binary keeps it in the store (or takes
/// `TOLLGATE_CURSOR_KEY`). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct CursorKey([u8; 32]);

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

impl CursorKey {
    /// The key of these bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key from the OS, for a service no other node shares.
    ///
    /// # Panics
    /// If the OS has no randomness to give, as every other secret this service makes does.
    #[must_use]
    #[allow(clippy::expect_used)] // no randomness is no service at all
    pub fn random() -> Self {
        let mut bytes = [0; 32];
        getrandom::fill(&mut bytes).expect("the OS random source failed");
        Self(bytes)
    }

    /// The bytes, for a store to keep.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn mac(&self, listing: &Listing, id: Uuid) -> Hmac<Sha256> {
        #[allow(clippy::expect_used)] // HMAC takes a key of any length
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(listing.0.as_bytes());
        mac.update(b"\0");
        mac.update(id.as_bytes());
        mac
    }

    /// Pages of `listing`, sealed with this key.
    #[must_use]
    pub const fn pager(&self, listing: Listing) -> Pager<'_> {
        Pager { key: self, listing }
    }
}

/// What a cursor is bound to: the kind of listing and each of its parameters, in a fixed
/// order, as one canonical text. Build it from the request (its space and filters), never from
/// a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing(String);

impl Listing {
    /// A listing of this kind (`tokens`, `spaces`, `events`), with no parameter yet.
    #[must_use]
    pub fn of(kind: &str) -> Self {
        Self(kind.to_owned())
    }

    /// The listing with one more parameter. `value` is written with its length, so no two
    /// sets of values read as the same text.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl fmt::Display) -> Self {
        let value = value.to_string();
        self.0.push_str(&format!("|{name}:{}:{value}", value.len()));
        self
    }
}

/// Cursors of one listing: opens the one a request brought and seals the next page's.
#[derive(Debug)]
pub struct Pager<'k> {
    key: &'k CursorKey,
    listing: Listing,
}

impl Pager<'_> {
    /// The id the page starts after: `None` for the first page.
    ///
    /// # Errors
    /// [`CursorError`] if the cursor was not handed out for this listing by a holder of the key.
    pub fn position(&self, page: &PageRequest) -> Result<Option<Uuid>, CursorError> {
        let Some(cursor) = page.cursor else {
            return Ok(None);
        };
        self.key
            .mac(&self.listing, cursor.id)
            .verify_truncated_left(&cursor.tag)
            .map(|()| Some(cursor.id))
            .map_err(|_| CursorError)
    }

    /// The cursor after the item with this id, sealed to this listing.
    #[must_use]
    pub fn after(&self, id: Uuid) -> Cursor {
        let full = self.key.mac(&self.listing, id).finalize().into_bytes();
        let mut tag = [0; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        Cursor { id, tag }
    }

    /// A page from up to `limit + 1` items read from a store: the extra item, if present, only
    /// says that another page exists, and the next cursor is sealed to this listing.
    #[must_use]
    pub fn page<T>(&self, mut items: Vec<T>, limit: PageLimit, id: impl Fn(&T) -> Uuid) -> Page<T> {
        let limit = limit.get() as usize;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|last| self.after(id(last)))
        } else {
            None
        };
        Page { items, next_cursor }
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

    fn tokens_of(space: u128) -> Listing {
        Listing::of("tokens").with("space", Uuid::from_u128(space))
    }

    fn request(cursor: Cursor) -> PageRequest {
        PageRequest {
            limit: PageLimit::DEFAULT,
            cursor: Some(cursor),
        }
    }

    #[test]
    fn a_cursor_round_trips_through_its_text_and_opens_on_its_own_listing() {
        let key = CursorKey::from_bytes([7; 32]);
        let pager = key.pager(tokens_of(1));
        let cursor = pager.after(Uuid::from_u128(0xabc));
        let text = cursor.to_string();
        assert_eq!(text.len(), 2 + 32 + 32);
        assert_eq!(Cursor::parse(&text), Ok(cursor));
        assert_eq!(
            pager.position(&request(cursor)),
            Ok(Some(Uuid::from_u128(0xabc)))
        );
        assert_eq!(pager.position(&PageRequest::default()), Ok(None));
    }

    #[test]
    fn a_cursor_is_refused_by_another_listing_another_filter_or_another_key() {
        let key = CursorKey::from_bytes([7; 32]);
        let cursor = key.pager(tokens_of(1)).after(Uuid::from_u128(0xabc));
        for (other_key, listing) in [
            (key.clone(), tokens_of(2)),
            (
                key.clone(),
                Listing::of("events").with("space", Uuid::from_u128(1)),
            ),
            (key, tokens_of(1).with("level", "admin")),
            (CursorKey::from_bytes([8; 32]), tokens_of(1)),
        ] {
            assert_eq!(
                other_key.pager(listing.clone()).position(&request(cursor)),
                Err(CursorError),
                "{listing:?}"
            );
        }
    }

    #[test]
    fn a_cursor_changed_anywhere_is_refused() {
        let key = CursorKey::from_bytes([7; 32]);
        let pager = key.pager(tokens_of(1));
        let text = pager.after(Uuid::from_u128(0xabc)).to_string();
        for at in 2..text.len() {
            let mut changed = text.clone().into_bytes();
            changed[at] = if changed[at] == b'0' { b'1' } else { b'0' };
            let changed = String::from_utf8(changed).unwrap_or_default();
            let opened = Cursor::parse(&changed).and_then(|c| pager.position(&request(c)));
            assert_eq!(opened, Err(CursorError), "{changed}");
        }
    }

    #[test]
    fn values_cannot_run_into_each_other() {
        assert_ne!(
            Listing::of("t").with("a", "b|c:1:d"),
            Listing::of("t").with("a", "b").with("c", "d")
        );
    }

    #[test]
    fn text_without_a_cursors_form_is_refused() {
        for bad in [
            "",
            "c2",
            "c2zz",
            "c10000000000000000000000000000abc",
            "00000000-0000-0000-0000-000000000abc",
            "c2 0000000000000000000000000000abc00000000000000000000000000000000",
            "c20000000000000000000000000000abcé000000000000000000000000000000",
            // A sign where a digit of the tag belongs, which `from_str_radix` would read.
            "c200000000000000000000000000000abc+f000000000000000000000000000000",
        ] {
            assert_eq!(Cursor::parse(bad), Err(CursorError), "{bad:?}");
        }
    }

    #[test]
    fn overfetched_items_become_a_sealed_cursor() {
        let key = CursorKey::from_bytes([7; 32]);
        let pager = key.pager(tokens_of(1));
        let limit = PageLimit::new(2).unwrap_or_default();
        let page = pager.page(vec![1u128, 2, 3], limit, |n| Uuid::from_u128(*n));
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(pager.after(Uuid::from_u128(2))));
        let last = pager.page(vec![1u128, 2], limit, |n| Uuid::from_u128(*n));
        assert_eq!(last.next_cursor, None);
    }
}
