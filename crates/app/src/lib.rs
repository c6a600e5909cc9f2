#![doc = include_str!("../README.md")]

pub mod adapters;
pub mod auth_limits;
pub mod error;
pub mod pagination;
pub mod ports;
pub mod services;
pub mod store_contents;
pub mod stored;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod trusted_proxies;

pub use error::{BoxError, StoreError};
pub use pagination::{
    Cursor, CursorError, CursorKey, Listing, Page, PageLimit, PageLimitError, PageRequest, Pager,
};
pub use services::*;
pub use store_contents::{ContentsError, RecordCounts, RecordId, StoreContents};
pub use trusted_proxies::{TrustedProxies, TrustedProxiesError};
