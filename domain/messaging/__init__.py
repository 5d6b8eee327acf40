"""Digital messaging (SPEC §10): messages, PCI screening, chat moves, deliveries to connectors."""
