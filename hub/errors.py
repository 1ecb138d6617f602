"""Every exception the hub raises, in one hierarchy.

    HubError                      base; ``exit_code`` is the CLI's exit status
    ├── ConfigurationError        exit 2: the user must change a setting
    │   ├── ConnectorNotFoundError    no connector of that name is installed
    │   ├── ConnectorBlockedError     the connector is installed but blocked by
    │   │                             SECODA_HUB_BLOCK
    │   ├── AmbiguousConnectorError   several distributions provide the name
    │   ├── MissingCredentialsError   required credential fields are unset
    │   ├── CredentialStoreError      the store is unreadable, unsafe or absent
    │   ├── CatalogURLError           the catalog path or URL is invalid
    │   │   ├── CatalogNotFoundError      no catalog exists there yet
    │   │   └── CatalogOutdatedError      a query found an older schema version
    │   └── RegistryError             a registry file or URL is invalid
    ├── ConnectorLoadError        exit 1: a connector failed to import or is
    │                             not a SecodaIntegration subclass
    ├── ConnectorRunError         exit 1: a connector raised during its run
    │   └── RunInterruptedError       exit 130: Ctrl-C (SIGINT) stopped the run
    ├── CatalogError              exit 1: the catalog failed while in use
    ├── OutputError               exit 1: a run's upload files could not be
    │                             written after its sync was merged
    ├── PublishError              exit 1: a connector failed publication checks
    │   └── ChecksumMismatchError     a wheel's sha256 differs from the registry
    └── IntegrationError          exit 1: raised by connector code or the SDK
        ├── AuthenticationError       the source rejected the credentials
        ├── ValidationError           a declared model breaks Secoda's rules
        │   └── SQLParseError             a query given for SQL lineage does not parse
        └── HTTPError                 an HTTP request of the SDK failed
            ├── EgressDeniedError         the host is not on the allowlist;
            │                             no connection was opened
            ├── PaginationError           a server repeated a page or passed
            │                             the page cap
            ├── RetriableHTTPError        a transient failure (connect error,
            │                             429, 502, 503, 504) that outlasted
            │                             every retry
            └── FatalHTTPError            a failure retrying cannot fix

The CLI turns these into click exceptions; library code never prints.
"""

# The exit status of a command stopped by Ctrl-C (SIGINT), as shells report it.
INTERRUPTED_EXIT_CODE = 130


class HubError(Exception):
    """Base class of the hub's errors."""

    exit_code = 1


class ConfigurationError(HubError):
    """A setting, option or stored value must change before a retry can work."""

    exit_code = 2


class ConnectorNotFoundError(ConfigurationError):
    """No installed connector has the requested name."""


class ConnectorBlockedError(ConfigurationError):
    """The requested connector is installed, but ``SECODA_HUB_BLOCK`` hides it."""


class AmbiguousConnectorError(ConfigurationError):
    """Several installed distributions provide a connector of the requested name."""


class MissingCredentialsError(ConfigurationError):
    """Required credential fields have no stored, environment or default value."""

    def __init__(self, message: str, missing: list[str]):
        super().__init__(message)
        self.missing = missing


class CredentialStoreError(ConfigurationError):
    """The credential store cannot be read or written safely."""


class CatalogURLError(ConfigurationError):
    """The catalog location names an unsupported or invalid database."""


class CatalogNotFoundError(CatalogURLError):
    """A read-only command found no catalog: a missing file or an empty database.

    Only ``hub run`` creates a catalog.
    """

    def __init__(self, location: str):
        super().__init__(
            f"no catalog exists yet at {location}; run a connector with "
            "`hub run NAME` first, or pass --catalog"
        )
        self.location = location


class CatalogOutdatedError(CatalogURLError):
    """A read-only command found a catalog of an older schema version."""

    def __init__(self, message: str, version: int):
        super().__init__(message)
        self.version = version


class RegistryError(ConfigurationError):
    """A registry cannot be read, or holds an invalid document."""


class ConnectorLoadError(HubError):
    """A connector's module failed to import or holds no usable class."""


class ConnectorRunError(HubError):
    """A connector raised during its run; the cause is chained."""


class RunInterruptedError(ConnectorRunError):
    """A run stopped by Ctrl-C (SIGINT), which shells report as exit status 130."""

    exit_code = INTERRUPTED_EXIT_CODE


class CatalogError(HubError):
    """A catalog operation failed after the catalog was opened."""


class OutputError(HubError):
    """A run's upload files could not be written after its sync was merged."""


class PublishError(HubError):
    """A connector distribution failed one or more publication checks."""


class ChecksumMismatchError(PublishError):
    """A wheel's sha256 differs from the one the registry records."""


class IntegrationError(HubError):
    """Raised by connector code for a failure it can describe in one line."""


class AuthenticationError(IntegrationError):
    """The source rejected the credentials (a failed sign-in)."""


class ValidationError(IntegrationError):
    """A declared resource or lineage edge breaks one of Secoda's rules."""


class SQLParseError(ValidationError):
    """A query given for SQL lineage does not parse, so its tables are unknown."""


class HTTPError(IntegrationError):
    """An HTTP request made through the SDK failed."""


class EgressDeniedError(HTTPError):
    """A request named a host the connector may not call; nothing was sent."""


class PaginationError(HTTPError):
    """A paginated listing repeated a page token or passed the page cap."""


class RetriableHTTPError(HTTPError):
    """A transient failure that was still failing after the last retry."""


class FatalHTTPError(HTTPError):
    """A failure that retrying cannot fix."""
