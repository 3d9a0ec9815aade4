"""PS — PubSub, Channels, Presence: payload size, authorization, thundering herds."""
