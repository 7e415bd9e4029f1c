"""djctl: the supervision cycle of an organ party-work committee, from the command line."""

__version__ = "0.1.0"
