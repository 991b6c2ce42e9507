"""The installed jcollapse version, for the records that results carry."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("jcollapse")
except PackageNotFoundError:  # a source tree that is not installed
    VERSION = "0.0.0+unknown"
