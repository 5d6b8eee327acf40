"""Outbound SMS and email conversations, customer replies, and who the customer is (SPEC §10)."""
