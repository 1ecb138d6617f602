"""Every exception the hub raises, in one hierarchy.

    HubError                      base; ``exit_code`` is the CLI's exit status
    ├── ConfigurationError        exit 2: the user must change a setting
    │   ├── ConnectorNotFoundError    no connector of that name is installed
    │   ├── MissingCredentialsError   required credential fields are unset
    │   ├── CredentialStoreError      the store file is unreadable or unsafe
    │   └── CatalogURLError           the catalog path or URL is invalid
    ├── ConnectorLoadError        exit 1: a connector failed to import or is
    │                             not a SecodaIntegration subclass
    ├── ConnectorRunError         exit 1: a connector raised during its run
    └── IntegrationError          exit 1: raised by connector code itself
        └── AuthenticationError       the source rejected the credentials

The CLI turns these into click exceptions; library code never prints.
"""


class HubError(Exception):
    """Base class of the hub's errors."""

    exit_code = 1


class ConfigurationError(HubError):
    """A setting, option or stored value must change before a retry can work."""

    exit_code = 2


class ConnectorNotFoundError(ConfigurationError):
    """No installed connector has the requested name."""


class MissingCredentialsError(ConfigurationError):
    """Required credential fields have no stored, environment or default value."""

    def __init__(self, message: str, missing: list[str]):
        super().__init__(message)
        self.missing = missing


class CredentialStoreError(ConfigurationError):
    """The credential store cannot be read or written safely."""


class CatalogURLError(ConfigurationError):
    """The catalog location names an unsupported or invalid database."""


class ConnectorLoadError(HubError):
    """A connector's module failed to import or holds no usable class."""


class ConnectorRunError(HubError):
    """A connector raised during its run; the cause is chained."""


class IntegrationError(HubError):
    """Raised by connector code for a failure it can describe in one line."""


class AuthenticationError(IntegrationError):
    """The source rejected the credentials (a failed sign-in)."""
