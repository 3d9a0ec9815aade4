"""PS — PubSub, Channels, Presence: payload size, authorization, thundering herds.

Importing this package registers PS001–PS003.
"""

from analyzers.rules.pubsub import (  # noqa: F401 - imported to register rules
    broadcasts,
    channels,
)
