"""Errors a user can act on. Each message says what happened and what to do next; the CLI and the app show
`str(error)` as it is, without a traceback."""


class SkinSegError(Exception):
    """Base class for expected, user-facing failures."""


class ImageReadError(SkinSegError):
    """A photo or mask could not be read (not an image, empty, truncated, unsupported, too large)."""


class CheckpointError(SkinSegError):
    """A model file is missing, damaged, truncated or does not match its configuration."""


class DeviceError(SkinSegError):
    """The requested compute device (cuda, mps) is not available on this machine."""


class DataError(SkinSegError):
    """A training or evaluation folder is missing, empty, or its photos and masks do not pair up."""
