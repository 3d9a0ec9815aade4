"""LV — Phoenix LiveView: memory, blocking callbacks, double submits, subscriptions.

Importing this package registers the LV rules.
"""
