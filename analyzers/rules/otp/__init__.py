"""OT — OTP / BEAM runtime: unsupervised processes, atom leaks, bottlenecks.

Importing this package registers OT001–OT006.
"""

from analyzers.rules.otp import (  # noqa: F401 - imported to register rules
    genserver,
    processes,
    terms,
)
