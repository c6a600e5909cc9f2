//! The operator commands' arguments: `tollgate space ...` and `tollgate token ...`, which work
//! directly on the configured store (docs/operations.md, "The operator CLI").

use clap::{Args, Subcommand, ValueEnum};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tollgate_domain::{SpaceId, TokenId, TokenLevel, TokenStatus};
use uuid::Uuid;

use crate::config::{DatabaseArgs, HashingArgs, LifetimeArgs};

/// How a command prints what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Output {
    /// Aligned columns, for people.
    #[default]
    Table,
    /// The REST API's JSON (one document: an object, or an array for a list), for scripts.
    Json,
}

/// What every command on the store takes.
#[derive(Clone, Args)]
pub struct StoreArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// How to print the result.
    #[arg(long, short, value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
}

/// The store arguments plus what creating tokens takes: the same hashing and lifetime settings
/// as `tollgate serve`, read from the same variables, so a token the CLI makes is one the
/// server would have made.
#[derive(Clone, Args)]
pub struct IssuingArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub hashing: HashingArgs,
    #[command(flatten)]
    pub lifetimes: LifetimeArgs,
}

#[derive(Subcommand)]
pub enum SpaceCommand {
    /// Create a space and print it.
    #[command(after_help = "Example:\n  tollgate space create \"Acme\"")]
    Create {
        /// Its name (1 to 100 characters).
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Rename a space.
    #[command(after_help = "Example:\n  tollgate space rename 0190a5c2-... \"Acme (EU)\"")]
    Rename {
        /// The space.
        #[arg(value_parser = parse_space_id)]
        space_id: SpaceId,
        /// Its new name (1 to 100 characters).
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete a space: every one of its tokens stops working at once, on every node; its events
    /// are kept. Final.
    #[command(after_help = "Example:\n  tollgate space delete 0190a5c2-...")]
    Delete {
        /// The space.
        #[arg(value_parser = parse_space_id)]
        space_id: SpaceId,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List every space, oldest first.
    #[command(after_help = "Example:\n  tollgate space list --output json | jq -r '.[].id'")]
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Which token a command acts on: one of a space, or an instance admin token.
#[derive(Clone, Args)]
pub struct TokenTarget {
    /// The token's id (as `id` in `tollgate token list`).
    #[arg(value_parser = parse_token_id)]
    pub token_id: TokenId,
    #[command(flatten)]
    pub home: Home,
}

/// A space, or the instance.
#[derive(Clone, Args)]
#[group(required = true, multiple = false)]
pub struct Home {
    /// The space of the token(s).
    #[arg(long, value_name = "SPACE_ID", value_parser = parse_space_id)]
    pub space: Option<SpaceId>,
    /// Instance admin tokens, which belong to no space.
    #[arg(long)]
    pub instance_admin: bool,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Print a fresh, well-formed instance admin token without touching any store, e.g. for
    /// TOLLGATE_BOOTSTRAP_TOKEN.
    #[command(
        after_help = "Example:\n  export TOLLGATE_BOOTSTRAP_TOKEN=$(tollgate token mint --instance-admin)"
    )]
    Mint {
        /// Mint an instance admin token (`tgi_...`), the only kind that can be minted offline.
        #[arg(long, required = true)]
        instance_admin: bool,
    },
    /// Check a token string's format and checksum offline (no store): exit 0 and print its kind
    /// and id if it is well formed, exit 1 if not. Whether it is valid only the store can say.
    #[command(
        after_help = "Examples:\n  tollgate token check < token.txt\n  printenv API_TOKEN | tollgate token check -"
    )]
    Check {
        /// The token; read from standard input when `-` or left out (command lines are visible
        /// to other users of the machine).
        token: Option<String>,
        /// How to print the result.
        #[arg(long, short, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Create a token; its secret goes to standard output, alone (shown this once).
    #[command(
        after_help = "Examples:\n  tollgate token create --space 0190a5c2-... --name ci --level client --expires-in-days 90\n  tollgate token create --instance-admin --name break-glass > admin-token.txt"
    )]
    Create {
        #[command(flatten)]
        home: Home,
        /// Its name (1 to 100 characters).
        #[arg(long)]
        name: String,
        /// Its level, for a space token: `client` or `admin`.
        #[arg(long, value_parser = parse_level, required_unless_present = "instance_admin")]
        level: Option<TokenLevel>,
        #[command(flatten)]
        expiry: NewExpiry,
        #[command(flatten)]
        issuing: IssuingArgs,
    },
    /// List a space's tokens (or the instance admin tokens), oldest first.
    #[command(
        after_help = "Example:\n  tollgate token list --space 0190a5c2-... --status active,suspended --level admin"
    )]
    List {
        #[command(flatten)]
        home: Home,
        /// Only these statuses, comma-separated (default: active).
        #[arg(long, value_delimiter = ',', value_parser = parse_status)]
        status: Vec<TokenStatus>,
        /// Only this level.
        #[arg(long, value_parser = parse_level)]
        level: Option<TokenLevel>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Show one token's metadata, whatever its status.
    #[command(after_help = "Example:\n  tollgate token get --space 0190a5c2-... 0190a5c3-...")]
    Get {
        #[command(flatten)]
        target: TokenTarget,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Rename a token, describe it or change its expiry.
    #[command(
        after_help = "Example:\n  tollgate token update --space 0190a5c2-... 0190a5c3-... --name deploy --expires-at 2027-06-30T00:00:00Z"
    )]
    Update {
        #[command(flatten)]
        target: TokenTarget,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new description (up to 500 characters).
        #[arg(long, conflicts_with = "no_description")]
        description: Option<String>,
        /// Remove the description.
        #[arg(long)]
        no_description: bool,
        /// A new expiry (RFC 3339); shortened at any time, extended within the lifetime policy.
        #[arg(long, value_parser = parse_instant, conflicts_with = "never_expires")]
        expires_at: Option<OffsetDateTime>,
        /// Never expire (only where no maximum lifetime is set).
        #[arg(long)]
        never_expires: bool,
        #[command(flatten)]
        issuing: IssuingArgs,
    },
    /// Switch a token off until it is resumed; it fails like a revoked one meanwhile.
    #[command(after_help = "Example:\n  tollgate token suspend --space 0190a5c2-... 0190a5c3-...")]
    Suspend {
        #[command(flatten)]
        target: TokenTarget,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Switch a suspended token on again.
    #[command(after_help = "Example:\n  tollgate token resume --space 0190a5c2-... 0190a5c3-...")]
    Resume {
        #[command(flatten)]
        target: TokenTarget,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token for good.
    #[command(after_help = "Example:\n  tollgate token revoke --space 0190a5c2-... 0190a5c3-...")]
    Revoke {
        #[command(flatten)]
        target: TokenTarget,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Replace a token by a new one; the new secret goes to standard output, alone.
    #[command(
        after_help = "Example:\n  tollgate token rotate --space 0190a5c2-... 0190a5c3-... --grace-seconds 3600"
    )]
    Rotate {
        #[command(flatten)]
        target: TokenTarget,
        /// How long the old token keeps working (0 to 604800 seconds).
        #[arg(long, default_value_t = 0)]
        grace_seconds: u64,
        #[command(flatten)]
        issuing: IssuingArgs,
    },
}

impl TokenCommand {
    /// Whether the command opens the store (all but `mint` and `check`).
    pub const fn works_on_store(&self) -> bool {
        !matches!(self, Self::Mint { .. } | Self::Check { .. })
    }
}

/// When a new token expires: at most one of these; neither gives the lifetime policy's default.
#[derive(Clone, Args)]
#[group(multiple = false)]
pub struct NewExpiry {
    /// Expire at this instant (RFC 3339, e.g. 2027-01-31T00:00:00Z).
    #[arg(long, value_parser = parse_instant)]
    pub expires_at: Option<OffsetDateTime>,
    /// Expire this many days from now.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub expires_in_days: Option<u32>,
}

fn parse_uuid(raw: &str) -> Result<Uuid, String> {
    Uuid::parse_str(raw.trim()).map_err(|_| format!("{raw:?} is not an id (a UUID)"))
}

fn parse_space_id(raw: &str) -> Result<SpaceId, String> {
    parse_uuid(raw).map(SpaceId::from_uuid)
}

fn parse_token_id(raw: &str) -> Result<TokenId, String> {
    parse_uuid(raw).map(TokenId::from_uuid)
}

fn parse_level(raw: &str) -> Result<TokenLevel, String> {
    raw.parse()
        .map_err(|_| format!("{raw:?} is not a level: client or admin"))
}

fn parse_status(raw: &str) -> Result<TokenStatus, String> {
    raw.parse().map_err(|_| {
        let known: Vec<&str> = TokenStatus::ALL.iter().map(|s| s.as_str()).collect();
        format!("{raw:?} is not a status: {}", known.join(", "))
    })
}

fn parse_instant(raw: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .map_err(|_| format!("{raw:?} is not an RFC 3339 instant such as 2027-01-31T00:00:00Z"))
}
