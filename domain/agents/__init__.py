"""Agents at work (SPEC §2): sessions, states, the pending next state and the load routing keeps."""
