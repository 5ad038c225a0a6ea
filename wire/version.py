"""wire's version: the one place it is written.

The request writer puts it in ``User-Agent: wire/<version>``, the HAR
document in its ``creator``, the CLI in ``--version``. They import it from
here, so loading any of them never loads the package ``wire`` (the client,
the fake server) just to read a string.
"""

__version__ = "0.1.0"
