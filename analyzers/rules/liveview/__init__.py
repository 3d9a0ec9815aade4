"""LV — Phoenix LiveView: memory, blocking callbacks, double submits, subscriptions.

Importing this package registers the LV rules.
"""

from analyzers.rules.liveview import (  # noqa: F401 - imported to register rules
    callbacks,
    facts,
    memory,
    template_sources,
    templates,
)
