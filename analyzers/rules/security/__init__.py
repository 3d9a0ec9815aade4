"""SC — Phoenix security-relevant config: router pipelines and raw HTML in templates.

Importing this package registers the SC rules.
"""

from analyzers.rules.security import (  # noqa: F401 - imported to register rules
    router,  # SC001, SC002
    templates,  # SC003
)
