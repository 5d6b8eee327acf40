"""Pure rules of omnidesk: entities, state machines, validation, events and use cases.

Imports the standard library only; storage is reached through ``domain.ports``.
"""
